package io.msm.engine;

import io.msm.config.LockingMode;
import io.msm.internal.LogIds;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.stats.MsmStatistics.Timer;
import io.msm.store.Expiration;
import io.msm.store.StoreException;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Non-sticky mode's session locks ({@code lockingMode}): which requests lock (learned per path with "auto"), taking a
 * lock with a bounded back-off, renewing it while the request runs, releasing it only if still this owner's. Sticky
 * mode has none: this part exists only in non-sticky mode.
 */
final class SessionLocks {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    /** The first pause between attempts to take a busy lock; doubled up to {@link #LOCK_BACKOFF_MAX_MILLIS}. */
    static final long LOCK_BACKOFF_START_MILLIS = 5;
    static final long LOCK_BACKOFF_MAX_MILLIS = 50;

    private final EngineBase base;
    /** Where a session's lock goes while its node is unavailable: the node of its secondary copy. */
    private final SecondaryCopies secondaries;
    /** lockingMode="auto": which paths take their session's lock. */
    private final LockingPaths lockingPaths = new LockingPaths();
    /** Renews the locks of running requests; {@code null} unless requests lock. */
    private final LockKeeper lockKeeper;
    private final java.security.SecureRandom random = new java.security.SecureRandom();

    SessionLocks(EngineBase base, SecondaryCopies secondaries) {
        this.base = base;
        this.secondaries = secondaries;
        this.lockKeeper = base.config.lockingMode() == LockingMode.NONE ? null
                : new LockKeeper(base.ctx.name(), base.config.lockExpirationSeconds(), this::renew,
                        () -> base.stats.count(Counter.LOCKS_LOST));
    }

    /** Stops renewing locks. */
    void close() {
        if (lockKeeper != null) {
            lockKeeper.close();
        }
    }

    /** Whether some requests take their session's lock (a {@code lockingMode} other than none). */
    boolean locks() {
        return base.config.lockingMode() != LockingMode.NONE;
    }

    /** Whether {@link #learn(String, boolean)} wants the requests' paths ({@code lockingMode="auto"}). */
    boolean learnsPaths() {
        return base.config.lockingMode() == LockingMode.AUTO;
    }

    /** Whether a request for {@code path} takes its session's lock, by {@code lockingMode}. */
    boolean needsLock(String path) {
        switch (base.config.lockingMode()) {
            case ALL: return true;
            case AUTO: return lockingPaths.needsLock(path);
            case URI_PATTERN: return path != null && base.config.lockingUriPattern().get().matcher(path).matches();
            default: return false;
        }
    }

    /**
     * lockingMode="auto" learns from each request that used a session: a path takes no lock once
     * {@value LockingPaths#UNCHANGED_TO_LEARN} requests on it in a row left the session unchanged, and locks for good
     * once a request on it changed the session (see {@link LockingPaths}).
     */
    void learn(String path, boolean changed) {
        if (path != null && learnsPaths()) {
            lockingPaths.learn(path, changed);
        }
    }

    /**
     * Takes the lock of session {@code id}: an {@code add} of a unique owner token that expires after
     * {@code lockExpiration} (so a crashed owner frees it), retried with a growing pause while another owner holds
     * it, for at most {@code operationTimeout}. With several session keys (a rotation) the lock has a key per name,
     * taken in one order (see {@link StorageKeys#locks}).
     *
     * While the session's node is unavailable, the lock is taken on the node of its secondary copy, under the id the
     * session moves to there, so the request can read that copy and move the session. The lock is renewed while the
     * request runs (see {@link LockKeeper}) until {@link #unlock(SessionLock)}.
     *
     * @return the lock, or {@code null} if it could not be taken in time or no node is available for it (counted)
     */
    SessionLock lock(String id) {
        SessionId p = base.ids.parse(id);
        if (p == null) {
            return null;
        }
        String node = p.nodeId();
        String lockId = id;
        if (!base.availability.isAvailable(node)) {
            // the session is about to move off its node (it is read from its secondary copy): every Tomcat locks it
            // under the id it gets on the node holding that copy
            String bak = secondaries.secondaryNode(node);
            if (bak != null) {
                node = bak;
                lockId = base.ids.format(p.random(), bak, p.jvmRoute());
            }
        }
        List<String> lockKeys = base.keys.locks(lockId);
        long[] cas = new long[lockKeys.size()];
        int taken = 0;
        byte[] token = new byte[16];
        random.nextBytes(token);
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(base.config.operationTimeoutMillis());
        long pause = LOCK_BACKOFF_START_MILLIS;
        boolean waited = false;
        while (base.availability.isAvailable(node)) {
            long added;
            long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try {
                added = base.store.add(node, lockKeys.get(taken), Expiration.of(base.config.lockExpirationSeconds(),
                        base.ctx.clock().getAsLong()), token, left);
            } catch (StoreException e) {
                base.storeFailed(e, left); // a timeout with less than operationTimeout left only queues a probe
                break;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, base.logPrefix + "taking the lock of session " + LogIds.of(id) + " failed", e);
                break;
            }
            if (added >= 0) {
                cas[taken++] = added;
                if (taken < lockKeys.size()) {
                    continue;
                }
                return held(new SessionLock(id, node, lockKeys, token, cas), waited, start);
            }
            waited = true;
            if (!pause(pause, deadline)) {
                break;
            }
            pause = Math.min(LOCK_BACKOFF_MAX_MILLIS, pause * 2);
        }
        if (taken > 0) {
            unlock(new SessionLock(id, node, lockKeys.subList(0, taken), token, cas));
        }
        return notTaken(id, node, start);
    }

    /** The lock was taken: counted, and renewed while the request runs. */
    private SessionLock held(SessionLock lock, boolean waited, long start) {
        base.stats.count(Counter.LOCKS_ACQUIRED);
        if (waited) {
            base.stats.count(Counter.LOCK_WAITS);
            base.stats.time(Timer.LOCK_WAIT, System.nanoTime() - start);
        }
        if (lockKeeper != null) {
            lockKeeper.keep(lock);
        }
        return lock;
    }

    /** Sleeps {@code millis} before the next attempt; {@code false} if that would pass the deadline, or interrupted. */
    private static boolean pause(long millis, long deadline) {
        if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis) > deadline) {
            return false;
        }
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The lock was not taken in time (counted, logged at DEBUG). */
    private SessionLock notTaken(String id, String node, long start) {
        base.stats.count(Counter.LOCK_TIMEOUTS);
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        LOG.log(Level.DEBUG, () -> base.logPrefix + "lock of session " + LogIds.of(id) + " on memcached node " + node
                + " not taken after " + waitedMillis + " ms");
        return null;
    }

    /** Releases a lock; only if it is still this owner's (a lock that expired and was taken by another stays). */
    void unlock(SessionLock lock) {
        if (lock == null) {
            return;
        }
        if (lockKeeper != null) {
            lockKeeper.release(lock);
        }
        for (int i = 0; i < lock.keys.size(); i++) {
            try {
                base.store.compareAndDelete(lock.node, lock.keys.get(i), lock.token, lock.cas[i],
                        base.config.operationTimeoutMillis());
            } catch (StoreException e) {
                base.storeFailed(e, base.config.operationTimeoutMillis()); // it expires after lockExpiration
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, base.logPrefix + "releasing the lock of session " + LogIds.of(lock.sessionId)
                        + " failed; it expires after lockExpiration", e);
            }
        }
    }

    /**
     * Pushes a held lock's expiration out again, to {@code lockExpiration} plus memcached's one-second resolution;
     * {@code true} if memcached still held it for this owner.
     */
    private boolean renew(SessionLock lock) {
        int exp = Expiration.of(base.config.lockExpirationSeconds() + 1L, base.ctx.clock().getAsLong());
        boolean held = true;
        for (String key : lock.keys) {
            try {
                io.msm.store.StoredValue v = base.store.getWithTtl(lock.node, key, exp,
                        base.config.operationTimeoutMillis());
                if (v.value() == null || !java.util.Arrays.equals(v.value(), lock.token)) {
                    held = false; // expired, or another owner's since
                } else if (!v.refreshed()) {
                    held &= base.store.touch(lock.node, key, exp, base.config.operationTimeoutMillis());
                }
            } catch (StoreException e) {
                // not known to be lost: tried again next time
                base.storeFailed(e, base.config.operationTimeoutMillis());
            }
        }
        return held;
    }
}
