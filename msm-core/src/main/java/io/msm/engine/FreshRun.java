package io.msm.engine;

import java.util.concurrent.TimeUnit;

/**
 * Runs a task so that every caller sees a run that started after its call, while at most one runs at a time and the
 * callers that arrive during a run share the next one. For reading takeover notices: a request must see the notices
 * written before it was sent, but many requests at once (a Tomcat's users moving after a failover) need not each read
 * them.
 */
final class FreshRun {
    private final java.util.function.LongConsumer task;
    private long started;
    private long done;
    private boolean running;

    /** @param task runs until the deadline ({@link System#nanoTime()}) it is given, at the latest */
    FreshRun(java.util.function.LongConsumer task) {
        this.task = task;
    }

    /**
     * Returns once a run that started after this call ended, running it on this thread if none is running (with what
     * is left of {@code maxMillis} as its deadline); gives up waiting after {@code maxMillis}.
     *
     * @return {@code false} if it gave up
     */
    boolean await(long maxMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        long wanted;
        long mine;
        synchronized (this) {
            wanted = started + 1; // the next run to start: the one running now may have started before this call
            while (done < wanted) {
                if (!running) {
                    running = true;
                    break;
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            if (done >= wanted) {
                return true;
            }
            mine = ++started;
        }
        try {
            task.accept(deadline);
        } finally {
            synchronized (this) {
                running = false;
                done = mine;
                notifyAll();
            }
        }
        return true;
    }
}
