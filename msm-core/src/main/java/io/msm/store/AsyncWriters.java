package io.msm.store;

import io.msm.internal.DaemonThreads;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The writes {@link SessionStore#setAsync} sends without waiting: one small thread per node makes them in order from
 * a bounded queue. A write's timeout counts from when it was queued, so writes queued behind a node that stopped
 * answering fail together at their timeout instead of one after another.
 *
 * <p>Each node's queue is bounded twice: at most {@link #QUEUE} writes, and at most {@link #BYTES} of values held
 * (queued or being written). A write beyond either bound fails at once. The bytes bound is what a node that stopped
 * answering can pin in the heap until the writes' timeout: counted alone, 1000 values of memcached's default item
 * size (1 MB) would be 1 GB per node. With 64 MB the count stays the bound for values of up to about 64 KB on average, as
 * before. A single value larger than {@link #BYTES} is taken when nothing else is held for its node, so that every
 * value can have a secondary copy.
 */
final class AsyncWriters implements AutoCloseable {
    /** Writes waiting per node; beyond that, one fails at once. */
    static final int QUEUE = 1000;
    /** Bytes of values held per node (queued or being written); beyond that, a write fails at once. */
    static final long BYTES = 64L << 20;
    /** How long {@link #close()} waits for the writer threads to end. */
    static final long END_MILLIS = 2000;

    /** One write, made within {@code timeoutMillis}; {@code true} if memcached stored it. */
    interface Write {
        boolean run(long timeoutMillis);
    }

    private final Map<String, Node> writers = new ConcurrentHashMap<>();
    private final DaemonThreads threads;
    private final long timeoutMillis;

    AsyncWriters(Collection<String> nodeIds, String name, long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
        this.threads = new DaemonThreads("msm-secondary-" + name);
        for (String id : nodeIds) {
            add(id);
        }
    }

    /** A writer for node {@code nodeId} (a node added while running); none if it has one. */
    void add(String nodeId) {
        writers.computeIfAbsent(nodeId, id -> {
            ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE),
                    r -> {
                        Thread t = threads.newThread(r);
                        // not the webapp's loader of the request that happened to start it
                        t.setContextClassLoader(AsyncWriters.class.getClassLoader());
                        return t;
                    });
            e.allowCoreThreadTimeOut(true);
            return new Node(e);
        });
    }

    /** Node {@code nodeId} was removed: its queued writes fail, a write under way ends at its timeout. */
    void remove(String nodeId) {
        Node n = writers.remove(nodeId);
        if (n != null) {
            stop(n);
        }
    }

    /** A node's writer thread and the bytes of the values it holds. */
    private static final class Node {
        final ThreadPoolExecutor executor;
        final AtomicLong held = new AtomicLong();

        Node(ThreadPoolExecutor executor) {
            this.executor = executor;
        }

        /** Counts {@code bytes} as held, unless that would exceed {@link #BYTES} with other values held. */
        boolean hold(int bytes) {
            while (true) {
                long h = held.get();
                if (h > 0 && h + bytes > BYTES) {
                    return false;
                }
                if (held.compareAndSet(h, h + bytes)) {
                    return true;
                }
            }
        }
    }

    /**
     * Queues {@code write} of a value of {@code bytes} for the node; {@code done} is told its outcome ({@code false}
     * at once if not queued).
     */
    void submit(String nodeId, int bytes, Write write, Consumer<Boolean> done) {
        Node node = writers.get(nodeId);
        if (node == null || !node.hold(bytes)) {
            done.accept(false);
            return;
        }
        try {
            node.executor.execute(new Task(node, bytes, write, done,
                    System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis)));
        } catch (RejectedExecutionException e) { // full, or closing
            node.held.addAndGet(-bytes);
            done.accept(false);
        }
    }

    private static final class Task implements Runnable {
        final Node node;
        final int bytes;
        final Write write;
        final Consumer<Boolean> done;
        final long deadline;

        Task(Node node, int bytes, Write write, Consumer<Boolean> done, long deadline) {
            this.node = node;
            this.bytes = bytes;
            this.write = write;
            this.done = done;
            this.deadline = deadline;
        }

        @Override
        public void run() {
            boolean stored = false;
            try {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                stored = left > 0 && write.run(left);
            } finally {
                end(stored);
            }
        }

        /** Lets go of the value and tells {@code done} the outcome. */
        void end(boolean stored) {
            node.held.addAndGet(-bytes);
            done.accept(stored);
        }
    }

    /** Stops the writers: the writes still queued fail; waits (bounded) for the threads to end. */
    @Override
    public void close() {
        for (Node n : writers.values()) {
            stop(n);
        }
        threads.awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(END_MILLIS));
    }

    private static void stop(Node n) {
        for (Runnable r : n.executor.shutdownNow()) {
            ((Task) r).end(false);
        }
    }
}
