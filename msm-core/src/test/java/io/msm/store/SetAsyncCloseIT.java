package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.testing.TestTranscoderFactory;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link SessionStore#close()} ends the threads that write the secondary copies ({@code msm-secondary-<name>}), even
 * one waiting for the answer of a node that stopped answering: a thread outliving the store outlives the context's
 * stop, and Tomcat reports it as a likely leak of the webapp's class loader.
 */
class SetAsyncCloseIT {
    private static final String NAME = "async-close";
    private static final long OPERATION_TIMEOUT = 5000;

    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    /**
     * A blocking socket read does not end when its thread is interrupted: with an {@code operationTimeout} above the
     * writers' wait in close (2 s), a writer waiting on a paused (SIGSTOPped) node would run on until the write's
     * timeout. Its write is reported failed, not left unanswered.
     */
    @Test
    void closeEndsAWriterWaitingOnAPausedNodeAndReportsItsWriteFailed() throws Exception {
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, MEMCACHED.nodesAttribute("n1", "n2"))
                .set(MsmConfig.OPERATION_TIMEOUT, String.valueOf(OPERATION_TIMEOUT))
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(SetAsyncCloseIT.class.getClassLoader());
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        SessionStore s = MemcachedSessionStore.open(config, NAME, MemcachedSessionStore.ConnectionListener.NONE);
        boolean closed = false;
        MEMCACHED.server(1).pause();
        try {
            CompletableFuture<Boolean> done = new CompletableFuture<>();
            s.setAsync("n2", "bak:k", 100, new byte[100], done::complete);
            Thread writer = writerWaitingForAnAnswer(before);
            assertNotNull(writer, "no msm-secondary-" + NAME + " thread waited for the paused node's answer");
            long start = System.nanoTime();
            s.close();
            closed = true;
            writer.join(Math.max(1, 2100 - (System.nanoTime() - start) / 1_000_000));
            long after = (System.nanoTime() - start) / 1_000_000;
            assertFalse(writer.isAlive(), writer.getName() + " still alive " + after + " ms after close() began: "
                    + Arrays.toString(writer.getStackTrace()));
            assertTrue(done.isDone(), "the write was never answered");
            assertEquals(Boolean.FALSE, done.get(), "the write is reported failed");
        } finally {
            if (!closed) {
                s.close();
            }
            MEMCACHED.server(1).resume();
        }
    }

    /** The store's writer thread once it waits for an answer (reads the answer line); {@code null} after 5 s. */
    private static Thread writerWaitingForAnAnswer(Set<Thread> before) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (!before.contains(t) && t.getName().startsWith("msm-secondary-" + NAME) && readingAnswer(t)) {
                    return t;
                }
            }
            Thread.sleep(5); // polls the thread's state; orders nothing
        }
        return null;
    }

    private static boolean readingAnswer(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().equals(TextConnection.class.getName()) && e.getMethodName().equals("readLine")) {
                return true;
            }
        }
        return false;
    }
}
