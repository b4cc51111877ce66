package io.msm.engine;

/**
 * Sticky mode: the session lives in this Tomcat and memcached holds its backup. Ids carry this Tomcat's jvmRoute; a
 * request waits for its write only with synchronous backups ({@code sessionBackupAsync="false"}); a read-only request
 * refreshes the backup's expiry only when it would expire before the session. With a jvmRoute, sessions that move
 * between Tomcats are handled by {@link Takeovers}.
 */
final class StickyMode implements SessionMode {

    private final EngineBase base;
    private final SessionWriter writer;
    private Takeovers takeovers;

    StickyMode(EngineBase base, SessionWriter writer) {
        this.base = base;
        this.writer = writer;
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
    public boolean wantsTouch(ManagedSession s, SessionState st, long now) {
        return writer.needsTouch(s, st, now);
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
    public SecondaryCopies secondaries() {
        return null;
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
