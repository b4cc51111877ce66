package io.msm.engine;

import java.util.List;

/** A session's lock in memcached, held by one owner (non-sticky mode). Release it with {@link SessionEngine#unlock}. */
public final class SessionLock {
    final String sessionId;
    final String node;
    /** The lock's keys: one, or one per session key during a key rotation (see {@link StorageKeys#locks}). */
    final List<String> keys;
    final byte[] token;
    /** The CAS of each key's item, or 0 where the protocol did not report it. */
    final long[] cas;
    /** The renewals of this lock while its request runs ({@link LockKeeper}); {@code null} if none. */
    volatile java.util.concurrent.ScheduledFuture<?> renewal;

    SessionLock(String sessionId, String node, List<String> keys, byte[] token, long[] cas) {
        this.sessionId = sessionId;
        this.node = node;
        this.keys = keys;
        this.token = token;
        this.cas = cas;
    }

    /** The id of the session this lock was taken for. */
    public String sessionId() {
        return sessionId;
    }
}
