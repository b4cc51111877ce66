package io.msm.store;

import io.msm.internal.DaemonThreads;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The writes {@link SessionStore#setAsync} sends without waiting: one small thread per node makes them in order from
 * a bounded queue. A write's timeout counts from when it was queued, so writes queued behind a node that stopped
 * answering fail together at their timeout instead of one after another; a full queue fails a write at once.
 */
final class AsyncWriters implements AutoCloseable {
    /** Writes waiting per node; beyond that, one fails at once. */
    static final int QUEUE = 1000;
    /** How long {@link #close()} waits for the writer threads to end. */
    static final long END_MILLIS = 2000;

    /** One write, made within {@code timeoutMillis}; {@code true} if memcached stored it. */
    interface Write {
        boolean run(long timeoutMillis);
    }

    private final Map<String, ThreadPoolExecutor> writers;
    private final DaemonThreads threads;
    private final long timeoutMillis;

    AsyncWriters(Collection<String> nodeIds, String name, long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
        this.threads = new DaemonThreads("msm-secondary-" + name);
        Map<String, ThreadPoolExecutor> w = new LinkedHashMap<>();
        for (String id : nodeIds) {
            ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE),
                    r -> {
                        Thread t = threads.newThread(r);
                        // not the webapp's loader of the request that happened to start it
                        t.setContextClassLoader(AsyncWriters.class.getClassLoader());
                        return t;
                    });
            e.allowCoreThreadTimeOut(true);
            w.put(id, e);
        }
        this.writers = Map.copyOf(w);
    }

    /** Queues {@code write} for the node; {@code done} is told its outcome ({@code false} at once if not queued). */
    void submit(String nodeId, Write write, Consumer<Boolean> done) {
        ThreadPoolExecutor writer = writers.get(nodeId);
        if (writer == null) {
            done.accept(false);
            return;
        }
        try {
            writer.execute(new Task(write, done, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis)));
        } catch (RejectedExecutionException e) { // full, or closing
            done.accept(false);
        }
    }

    private static final class Task implements Runnable {
        final Write write;
        final Consumer<Boolean> done;
        final long deadline;

        Task(Write write, Consumer<Boolean> done, long deadline) {
            this.write = write;
            this.done = done;
            this.deadline = deadline;
        }

        @Override
        public void run() {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            done.accept(left > 0 && write.run(left));
        }
    }

    /** Stops the writers: the writes still queued fail; waits (bounded) for the threads to end. */
    @Override
    public void close() {
        for (ThreadPoolExecutor e : writers.values()) {
            for (Runnable r : e.shutdownNow()) {
                ((Task) r).done.accept(false);
            }
        }
        threads.awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(END_MILLIS));
    }
}
