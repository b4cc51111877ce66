package io.msm.engine;

import io.msm.stats.MsmStatistics.Counter;
import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import io.msm.store.StoredValue;

/**
 * Non-sticky mode: memcached is the authority and any Tomcat serves any request. Ids carry no jvmRoute; every request
 * waits for its session's write before its response (the next request may reach another Tomcat); a read-only
 * request refreshes the secondary copy every half slack and, with {@code legacySessions="readWrite"}, dates its
 * access in the old format's validity record. A load reads the primary copy with its remaining TTL (and the secondary
 * copy when the primary's node cannot answer); a write is conditional and carries the secondary copy; an ended id
 * gets tombstones. Secondary copies and locks exist in this mode alone.
 */
final class NonStickyMode implements SessionMode {

    private final EngineBase base;
    private final SecondaryCopies secondaries;
    private final SessionLocks locks;
    private final ExpiryWatch expiry;
    private final WriteContext onRequest;

    NonStickyMode(EngineBase base, SecondaryCopies secondaries, SessionLocks locks, ExpiryWatch expiry) {
        this.base = base;
        this.secondaries = secondaries;
        this.locks = locks;
        this.expiry = expiry;
        this.onRequest = WriteContext.everyRequest(base.config);
    }

    /** The secondary copies (tests reach them through this). */
    SecondaryCopies secondaries() {
        return secondaries;
    }

    @Override
    public String route() {
        return null;
    }

    @Override
    public boolean requestWaitsForWrite() {
        return true;
    }

    /**
     * The running write, then the request's own (written by that runner next, with its secondary copy), each bounded
     * by {@code operationTimeout} and the secondary's {@code sessionBackupTimeout}. Its response must not leave
     * before memcached holds the change, or the user's next request, on another Tomcat, would miss it.
     */
    @Override
    public long coalescedWaitMillis() {
        return 2 * ((long) base.config.operationTimeoutMillis() + base.config.sessionBackupTimeoutMillis());
    }

    @Override
    public WriteContext onRequest() {
        return onRequest;
    }

    /** readWrite: every request dates its access in the validity record. */
    @Override
    public boolean wantsTouch(ManagedSession s, SessionState st, long now) {
        return SessionWriter.needsTouch(s, st, now) || secondaries.secondaryDue(s, now) || base.legacyWrites != null;
    }

    /**
     * One call: the remaining TTL tells when any Tomcat last refreshed the session, and the same call refreshes it
     * for this access (for the usual timeout; a session with another one is touched, see
     * {@link #refreshForItsTimeout}).
     */
    @Override
    public void readPrimary(PrimaryRead read, String node, String key) {
        read.refreshedFor = base.usualMaxInactive;
        long seconds = read.refreshedFor > 0 ? base.refreshSeconds(read.refreshedFor) : 0;
        long now = base.ctx.clock().getAsLong();
        StoredValue v = base.store.getWithTtl(node, key, seconds > 0 ? Expiration.of(seconds, now)
                : SessionStore.KEEP_EXPIRATION, base.config.operationTimeoutMillis());
        read.blob = v.value();
        read.ttl = v.ttlSeconds();
        read.cas = v.cas();
        if (v.refreshed()) {
            read.refreshedUntil = now + seconds * 1000;
        }
    }

    @Override
    public byte[] readSecondary(String id, String primaryNode, String[] from) {
        return secondaries.loadSecondary(id, primaryNode, from);
    }

    @Override
    public String secondaryNode(String primaryNode) {
        return secondaries.secondaryNode(primaryNode);
    }

    /**
     * The read refreshed the copy for this Tomcat's usual timeout (or not at all, before it saw one); a session whose
     * own timeout differs (set by the application, possibly on another Tomcat) is touched for it now, so the copy
     * outlives a request longer than the usual timeout, a parallel request elsewhere does not find it timed out, and
     * a session that never times out is never dropped. One more call, only for such sessions.
     */
    @Override
    public LoadResult refreshForItsTimeout(String id, String node, LoadResult r, int refreshedFor) {
        if (!r.isFound() || r.timedOut() || r.maxInactiveInterval() == refreshedFor) {
            return r;
        }
        int mi = r.maxInactiveInterval();
        long now = base.ctx.clock().getAsLong();
        long seconds = mi > 0 ? base.refreshSeconds(mi) : 0;
        long timeout = base.config.operationTimeoutMillis();
        try {
            if (base.store.touch(node, base.key(id), Expiration.of(seconds, now), timeout)) {
                base.stats.count(Counter.TOUCHES);
                r.withStoreExpiresAt(seconds <= 0 ? Long.MAX_VALUE : now + seconds * 1000);
            }
        } catch (StoreException e) {
            base.storeFailed(e, timeout); // the request's end touches it again
        }
        return r;
    }

    /** {@code readWrite}: Tomcats still running memcached-session-manager date accesses without touching the copy. */
    @Override
    public long legacyAccessed(String id, String node) {
        return base.legacyWrites == null ? -1 : base.legacy.accessedAt(id, node);
    }

    @Override
    public byte[] keptBlob(byte[] blob) {
        return blob;
    }

    @Override
    public long expectedVersion(SessionState st, String id) {
        return Tombstones.expected(st, id);
    }

    @Override
    public SecondaryCopies.SecondaryWrite sendSecondary(ManagedSession s, SessionState st, String id, byte[] blob) {
        return secondaries.sendSecondary(s, st, id, blob);
    }

    @Override
    public void committed(ManagedSession s, SessionState st, String id, byte[] blob, SessionWriter.Sent sent) {
        dateAccess(s, id, sent.node, sent.now);
        st.lastBlob = blob;
        secondaries.landed(st, id, sent);
    }

    @Override
    public void dateAccess(ManagedSession s, String id, String node, long now) {
        if (base.legacyWrites != null) {
            base.legacyWrites.validity(node, secondaries.secondaryNode(node), id, s.maxInactiveInterval(),
                    s.thisAccessedTime(), now);
        }
    }

    @Override
    public void primaryFresh(ManagedSession s, SessionState st, String node, long now) {
        if (secondaries.secondaryDue(s, now)) { // the load refreshed the primary copy
            secondaries.touchSecondary(s, st, node, Expiration.of(base.ttlSeconds(s, st, now), now));
        }
    }

    @Override
    public void primaryTouched(ManagedSession s, SessionState st, String node, int exp) {
        secondaries.touchSecondary(s, st, node, exp);
    }

    @Override
    public boolean tomcatExpiresHeldSessions() {
        return false;
    }

    @Override
    public boolean copyWithoutTtlCanTimeOut() {
        return false;
    }

    @Override
    public boolean stopHandsOverHeldSessions() {
        return false;
    }

    @Override
    public boolean tombstonesEndedIds() {
        return true;
    }

    @Override
    public void deleteSecondaries(String id, String primaryNode, int name, long until) {
        secondaries.deleteSecondaries(id, primaryNode, name, until);
    }

    @Override
    public void endSecondaries(String id, String primaryNode, long until, long endedAt) {
        secondaries.endSecondaries(id, primaryNode, until, endedAt);
    }

    @Override
    public void requestEnding(ManagedSession s, long now) {
        expiry.seen(s, now);
    }

    @Override
    public void purge(long now) {
        secondaries.purge(now);
        if (!base.unsaved.isEmpty()) {
            base.unsaved.purge(now, base.ctx.residents());
        }
    }

    @Override
    public SessionLocks locks() {
        return locks;
    }

    @Override
    public Takeovers takeovers() {
        return null;
    }

    @Override
    public void close() {
        locks.close();
    }
}
