package io.msm.engine;

import io.msm.internal.DaemonThreads;
import java.lang.System.Logger.Level;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine's background threads: the backup pool (session writes, touches and deletes off the request path, and
 * runs delayed by minBackupInterval, which the thread that waited for them runs) and the single scheduled thread
 * (probes of suspect nodes, takeover notices). Counts the work queued or running, so {@link #awaitIdle(long)} can
 * tell when all of it ended.
 */
final class EngineThreads {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    private final ScheduledThreadPoolExecutor backupPool;
    private final ScheduledExecutorService prober;
    /** The pools' threads, waited for at stop: Tomcat reports those that outlive the webapp as leaks. */
    private final DaemonThreads backupThreads;
    private final DaemonThreads probeThreads;
    /** Backup tasks submitted and not finished (ThreadPoolExecutor's own counts are approximate). */
    private final AtomicInteger tasks = new AtomicInteger();
    private volatile boolean stopping;

    EngineThreads(String name, int backupThreadCount) {
        this.backupThreads = new DaemonThreads("msm-backup-" + name);
        this.probeThreads = new DaemonThreads("msm-probe-" + name);
        // scheduled: a backup delayed by minBackupInterval runs on the backup thread that waited for it, not on the
        // scheduled thread that would wake a backup thread for it (a second hand-off per sticky backup)
        this.backupPool = new ScheduledThreadPoolExecutor(backupThreadCount, backupThreads);
        this.backupPool.setKeepAliveTime(60, TimeUnit.SECONDS);
        this.backupPool.allowCoreThreadTimeOut(true); // the last thread stays while a delayed run waits
        this.backupPool.setRemoveOnCancelPolicy(true);
        // at stop every delayed run is flushed first (SessionRunner.flushDelayed): what is still scheduled then has
        // nothing left to do, and is not waited for. Since Java 9, shutdown() drops only tasks still waiting for
        // their delay: the runs flushed to the pool (no delay) and the stop's last writes still run (finishBackups)
        this.backupPool.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.prober = Executors.newSingleThreadScheduledExecutor(probeThreads);
    }

    /** The scheduled thread: probes, takeover notices; its tasks must be short. */
    ScheduledExecutorService prober() {
        return prober;
    }

    /** {@code true} once the engine stops: nothing new is started. */
    boolean stopping() {
        return stopping;
    }

    /** Runs {@code task} on a backup thread, counted for {@link #awaitIdle(long)}. */
    void execute(Runnable task) {
        tasks.incrementAndGet();
        try {
            backupPool.execute(() -> {
                try {
                    runLogged(task);
                } finally {
                    tasks.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            tasks.decrementAndGet();
            throw e;
        }
    }

    /**
     * Runs {@code task} on a backup thread after {@code nanos}; the caller counts it ({@link #started()} before,
     * {@link #done()} when it ran).
     *
     * @throws RejectedExecutionException if the pool is shut down
     */
    void schedule(Runnable task, long nanos) {
        backupPool.schedule(() -> runLogged(task), nanos, TimeUnit.NANOSECONDS);
    }

    /** A scheduled pool keeps what a task throws in its future, which nobody reads: logged here instead. */
    private static void runLogged(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "msm background task failed", e);
            throw e;
        }
    }

    /** Counts work done outside the backup pool (a secondary copy in flight, a delayed run) until {@link #done()}. */
    void started() {
        tasks.incrementAndGet();
    }

    void done() {
        tasks.decrementAndGet();
    }

    /** Backups queued or running. */
    int pending() {
        return tasks.get();
    }

    /** Waits until no backup is queued or running; {@code true} if idle within {@code maxMillis}. */
    boolean awaitIdle(long maxMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        while (System.nanoTime() < deadline) {
            if (tasks.get() == 0) {
                return true;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /** Marks the engine stopping: delayed runs and new work are no longer scheduled. */
    void stopping(boolean value) {
        stopping = value;
    }

    /** Lets queued backups end, at most {@code budgetMillis}; abandons the rest. */
    void finishBackups(long budgetMillis, String logPrefix) {
        backupPool.shutdown();
        try {
            if (!backupPool.awaitTermination(budgetMillis, TimeUnit.MILLISECONDS)) {
                LOG.log(Level.WARNING, logPrefix + "backups still running after " + budgetMillis + " ms at stop: "
                        + backupPool.getQueue().size() + " queued; they are abandoned");
                backupPool.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            backupPool.shutdownNow();
        }
    }

    /** Abandons queued work and stops both pools. */
    void shutdownNow() {
        stopping = true;
        backupPool.shutdownNow();
        prober.shutdownNow();
    }

    /** Waits for the pools' threads to end, until {@code deadlineNanos}. */
    void awaitEnd(long deadlineNanos) {
        backupThreads.awaitEnd(deadlineNanos);
        probeThreads.awaitEnd(deadlineNanos);
    }
}
