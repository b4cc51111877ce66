package io.msm.engine;

/** A session's lock in memcached, held by one owner (non-sticky mode). Release it with {@link SessionEngine#unlock}. */
public final class SessionLock {
    final String sessionId;
    final String node;
    final String key;
    final byte[] token;
    final long cas;
    /** The renewals of this lock while its request runs ({@link LockKeeper}); {@code null} if none. */
    volatile java.util.concurrent.ScheduledFuture<?> renewal;

    SessionLock(String sessionId, String node, String key, byte[] token, long cas) {
        this.sessionId = sessionId;
        this.node = node;
        this.key = key;
        this.token = token;
        this.cas = cas;
    }

    /** The id of the session this lock was taken for. */
    public String sessionId() {
        return sessionId;
    }
}
