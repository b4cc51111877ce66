package io.msm.engine;

/**
 * Sticky mode: the session lives in this Tomcat and memcached holds its backup. Ids carry this Tomcat's jvmRoute; a
 * request waits for its write only with synchronous backups ({@code sessionBackupAsync="false"}); a read-only request
 * refreshes the backup's expiry only when it would expire before the session. A load is one plain get of the backup;
 * a write is unconditional, with no secondary copy; an ended session's key is deleted. With a jvmRoute, sessions that
 * move between Tomcats are handled by {@link Takeovers}.
 */
final class StickyMode implements SessionMode {

    private final EngineBase base;
    private final WriteContext onRequest;
    private Takeovers takeovers;

    StickyMode(EngineBase base) {
        this.base = base;
        this.onRequest = WriteContext.syncBackup(base.config);
    }

    /** Builds the takeovers part (a jvmRoute only): it needs the runner, built after the mode. */
    void takeovers(ExpiryWatch expiry, java.util.function.Consumer<ManagedSession> retire) {
        this.takeovers = base.ctx.jvmRoute() == null ? null : new Takeovers(base, expiry, retire);
    }

    @Override
    public String route() {
        return base.ctx.jvmRoute();
    }

    @Override
    public boolean requestWaitsForWrite() {
        return !base.config.sessionBackupAsync();
    }

    @Override
    public long coalescedWaitMillis() {
        return base.config.sessionBackupTimeoutMillis();
    }

    @Override
    public WriteContext onRequest() {
        return onRequest;
    }

    @Override
    public boolean wantsTouch(ManagedSession s, SessionState st, long now) {
        return SessionWriter.needsTouch(s, st, now);
    }

    /** One plain get: the load refreshes nothing (the request's end touches the backup if it would expire first). */
    @Override
    public void readPrimary(PrimaryRead read, String node, String key) {
        read.blob = base.store.get(node, key, base.config.operationTimeoutMillis());
    }

    @Override
    public byte[] readSecondary(String id, String primaryNode, String[] from) {
        return null;
    }

    @Override
    public String secondaryNode(String primaryNode) {
        return null;
    }

    @Override
    public LoadResult refreshForItsTimeout(String id, String node, LoadResult r, int refreshedFor) {
        return r;
    }

    @Override
    public long legacyAccessed(String id, String node) {
        return -1;
    }

    @Override
    public byte[] keptBlob(byte[] blob) {
        return null;
    }

    @Override
    public long expectedVersion(SessionState st, String id) {
        return io.msm.store.SessionStore.ANY;
    }

    @Override
    public SecondaryCopies.SecondaryWrite sendSecondary(ManagedSession s, SessionState st, String id, byte[] blob) {
        return null;
    }

    @Override
    public void committed(ManagedSession s, SessionState st, String id, byte[] blob, SessionWriter.Sent sent) {
        // the backup is all memcached holds
    }

    @Override
    public void dateAccess(ManagedSession s, String id, String node, long now) {
        // the session's accesses are this Tomcat's to know
    }

    @Override
    public void primaryFresh(ManagedSession s, SessionState st, String node, long now) {
        // no secondary copy
    }

    @Override
    public void primaryTouched(ManagedSession s, SessionState st, String node, int exp) {
        // no secondary copy
    }

    @Override
    public boolean tomcatExpiresHeldSessions() {
        return true;
    }

    @Override
    public boolean copyWithoutTtlCanTimeOut() {
        return true;
    }

    @Override
    public boolean stopHandsOverHeldSessions() {
        return true;
    }

    @Override
    public boolean tombstonesEndedIds() {
        return false;
    }

    @Override
    public void deleteSecondaries(String id, String primaryNode, int name, long until) {
        // no secondary copy
    }

    @Override
    public void endSecondaries(String id, String primaryNode, long until, long endedAt) {
        // no secondary copy
    }

    @Override
    public void requestEnding(ManagedSession s, long now) {
        // the session's timeout runs in this Tomcat
    }

    @Override
    public void purge(long now) {
        // nothing kept per session beyond what the engine purges
    }

    @Override
    public SessionLocks locks() {
        return null;
    }

    @Override
    public Takeovers takeovers() {
        return takeovers;
    }

    @Override
    public void close() {
        // the takeovers' polling runs on the engine's scheduled thread, stopped with it
    }
}
