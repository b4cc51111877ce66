package io.msm.engine;

import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Keeps the session locks of running requests alive (non-sticky locking): every third of {@code lockExpiration} a
 * held lock's expiration is pushed out again (to {@code lockExpiration} plus one second, memcached's resolution), so
 * a request longer than {@code lockExpiration} keeps its exclusion. A renewal reads the lock as it renews it: one
 * that holds another owner's token is lost.
 * Bounded: a lock is renewed for at most {@link #maxHoldMillis} after it was taken (a hung request cannot block its
 * session for longer); after that, or if memcached no longer holds it, it is left to expire and counted as lost.
 * Renewals run on one daemon thread of their own, so a probe of a dead node never delays them.
 */
final class LockKeeper implements AutoCloseable {
    /** A lock is renewed for at most this long, or lockExpiration if that is longer. */
    static final long MAX_HOLD_MILLIS = 60_000;
    /** When a lock is first renewed after it was taken, at the latest. */
    static final long FIRST_RENEWAL_MILLIS = 250;

    private final ScheduledExecutorService timer;
    private final long periodMillis;
    private final long maxHoldMillis;
    /** Renews one lock: {@code true} if memcached still held it. */
    private final Predicate<SessionLock> renew;
    private final Runnable lost;

    /**
     * @param renew renews a lock's expiration, {@code true} if memcached still held it
     * @param lost told once per lock that expires while its request runs
     */
    LockKeeper(String name, int lockExpirationSeconds, Predicate<SessionLock> renew, Runnable lost) {
        this.periodMillis = Math.max(100, lockExpirationSeconds * 1000L / 3);
        this.maxHoldMillis = Math.max(MAX_HOLD_MILLIS, lockExpirationSeconds * 1000L);
        this.renew = renew;
        this.lost = lost;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "msm-locks-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts renewing {@code lock} until {@link #release(SessionLock)}. */
    void keep(SessionLock lock) {
        long takenAt = System.nanoTime();
        Runnable task = () -> {
            if (lock.renewal == null || lock.renewal.isCancelled()) {
                return;
            }
            boolean held;
            if (System.nanoTime() - takenAt > TimeUnit.MILLISECONDS.toNanos(maxHoldMillis)) {
                held = false;
            } else {
                try {
                    held = renew.test(lock);
                } catch (RuntimeException e) {
                    held = false;
                }
            }
            if (!held && stop(lock)) {
                lost.run();
            }
        };
        try {
            // the first renewal soon: memcached counts whole seconds, so a lock taken just before its clock ticks
            // has a second less than lockExpiration
            lock.renewal = timer.scheduleAtFixedRate(task, Math.min(periodMillis, FIRST_RENEWAL_MILLIS), periodMillis,
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // closed: the lock expires by itself
        }
    }

    /** Stops renewing {@code lock} (its request ended). */
    void release(SessionLock lock) {
        stop(lock);
    }

    /** @return {@code true} if this call stopped the renewals */
    private static boolean stop(SessionLock lock) {
        ScheduledFuture<?> f = lock.renewal;
        return f != null && f.cancel(false);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
