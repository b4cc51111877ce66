package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The queue of the writes {@link SessionStore#setAsync} makes without waiting, one per node. */
class AsyncWritersTest {
    private static final int MB = 1 << 20;

    /** A write that waits for {@code gate} (a node not answering): stored when it opens, failed if interrupted. */
    private static AsyncWriters.Write waitingFor(CountDownLatch gate) {
        return timeoutMillis -> {
            try {
                gate.await();
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        };
    }

    /**
     * Each queued write holds its value until it is made: while a node does not answer, the values queued for it
     * stay within a budget of bytes, not only of writes (1000 values of 1 MB would be 1 GB held per node).
     */
    @Test
    void theBytesHeldForANodeThatDoesNotAnswerStayWithinItsBudget() {
        AsyncWriters writers = new AsyncWriters(List.of("n1"), "test", 60_000);
        CountDownLatch gate = new CountDownLatch(1);
        long held = 0;
        int refusedAt = -1;
        try {
            for (int i = 0; i <= AsyncWriters.QUEUE + 1; i++) {
                AtomicBoolean refused = new AtomicBoolean();
                // while the first write waits at the gate, only a refusal answers a write at once
                writers.submit("n1", MB, waitingFor(gate), ok -> refused.set(!ok));
                if (refused.get()) {
                    refusedAt = i;
                    break;
                }
                held += MB;
            }
        } finally {
            gate.countDown();
            writers.close();
        }
        assertTrue(held <= 64L * MB, "held " + held / MB + " MB for one node");
        assertEquals(AsyncWriters.BYTES, held, "values of 1 MB are taken up to the budget");
        assertEquals(64, refusedAt, "the write past the budget failed at once");
    }

    /**
     * A value larger than the whole budget is still sent when nothing else is held for the node (every session can
     * have a secondary copy); the budget is given back as the writes end.
     */
    @Test
    void aValueLargerThanTheBudgetIsTakenAloneAndTheBudgetIsFreedWhenItIsWritten() throws Exception {
        AsyncWriters writers = new AsyncWriters(List.of("n1"), "test", 60_000);
        CountDownLatch gate = new CountDownLatch(1);
        try {
            CompletableFuture<Boolean> large = new CompletableFuture<>();
            writers.submit("n1", (int) AsyncWriters.BYTES + 1, waitingFor(gate), large::complete);
            CompletableFuture<Boolean> small = new CompletableFuture<>();
            writers.submit("n1", 1, waitingFor(gate), small::complete);
            assertEquals(Boolean.FALSE, small.getNow(null), "refused at once while the large value is held");
            gate.countDown();
            assertTrue(large.get(5, TimeUnit.SECONDS));
            CompletableFuture<Boolean> after = new CompletableFuture<>();
            writers.submit("n1", 1, waitingFor(gate), after::complete);
            assertTrue(after.get(5, TimeUnit.SECONDS), "taken once the large value was written");
        } finally {
            gate.countDown();
            writers.close();
        }
    }

    /** A write that throws is reported failed, and its value let go, rather than left unanswered. */
    @Test
    void aWriteThatThrowsIsReportedFailedAndLetsGoOfItsValue() throws Exception {
        AsyncWriters writers = new AsyncWriters(List.of("n1"), "test", 60_000);
        try {
            CompletableFuture<Boolean> thrown = new CompletableFuture<>();
            writers.submit("n1", (int) AsyncWriters.BYTES, timeoutMillis -> {
                throw new IllegalStateException("closing");
            }, thrown::complete);
            assertEquals(Boolean.FALSE, thrown.get(5, TimeUnit.SECONDS));
            CompletableFuture<Boolean> after = new CompletableFuture<>();
            writers.submit("n1", MB, timeoutMillis -> true, after::complete);
            assertTrue(after.get(5, TimeUnit.SECONDS), "the thrown write's value no longer counts");
        } finally {
            writers.close();
        }
    }

    /** The writes still queued when the writers close are reported failed, and so is a write submitted after. */
    @Test
    void closeFailsTheQueuedWritesAndRefusesNewOnes() {
        AsyncWriters writers = new AsyncWriters(List.of("n1"), "test", 60_000);
        CountDownLatch gate = new CountDownLatch(1);
        CompletableFuture<Boolean> running = new CompletableFuture<>();
        CompletableFuture<Boolean> queued = new CompletableFuture<>();
        try {
            writers.submit("n1", 1, waitingFor(gate), running::complete);
            writers.submit("n1", 1, waitingFor(gate), queued::complete);
            writers.close(); // interrupts the running write (this one ends on it) and fails the queued one
        } finally {
            gate.countDown();
        }
        assertEquals(Boolean.FALSE, running.getNow(null), "the running write ended by close");
        assertEquals(Boolean.FALSE, queued.getNow(null), "the queued write failed by close");
        CompletableFuture<Boolean> late = new CompletableFuture<>();
        writers.submit("n1", 1, timeoutMillis -> true, late::complete);
        assertEquals(Boolean.FALSE, late.getNow(null), "refused after close");
    }
}
