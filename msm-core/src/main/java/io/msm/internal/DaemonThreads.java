package io.msm.internal;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Makes the daemon threads of one of msm's pools ({@code <prefix>-1}, {@code <prefix>-2}, ...) and lets a stop wait
 * until they have ended.
 *
 * <p>A thread inherits the context class loader of the thread that starts it, in Tomcat a request's or the context
 * start's: the webapp's. Tomcat reports every such thread still alive once the webapp has stopped as "very likely to
 * create a memory leak", and rightly so while it runs: it holds msm's engine, which holds the webapp's class loader.
 * So a stop tells the threads to end and then waits for them, bounded.
 */
public final class DaemonThreads implements ThreadFactory {
    private final String prefix;
    private final AtomicInteger count = new AtomicInteger();
    /** Threads made and not known to have ended (ended ones are dropped as new ones are made: bounded by the pool). */
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

    public DaemonThreads(String prefix) {
        this.prefix = prefix;
    }

    @Override
    public Thread newThread(Runnable r) {
        // not isAlive(): a thread made but not yet started by its pool is not alive either
        threads.removeIf(t -> t.getState() == Thread.State.TERMINATED);
        Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
        t.setDaemon(true);
        threads.add(t);
        return t;
    }

    /**
     * Waits until every thread made here has ended (their pool must be shut down first).
     *
     * @param deadlineNanos {@link System#nanoTime()} after which it stops waiting
     * @return {@code true} if they all ended
     */
    public boolean awaitEnd(long deadlineNanos) {
        boolean all = true;
        for (Thread t : threads) {
            all &= awaitEnd(t, deadlineNanos);
        }
        return all;
    }

    /**
     * Waits until {@code thread} has ended; never for the calling thread itself.
     *
     * @param deadlineNanos {@link System#nanoTime()} after which it stops waiting
     * @return {@code true} if it ended (or was never started)
     */
    public static boolean awaitEnd(Thread thread, long deadlineNanos) {
        if (thread == Thread.currentThread()) {
            return false;
        }
        try {
            while (thread.isAlive()) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !thread.isAlive();
        }
    }
}
