package io.msm.engine;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A {@link FakeStore#beforeDelete} hook that holds one attempt to delete one key until the test's gate opens (a node
 * holding a retry's answer, say): {@link #held} tells the test that attempt is waiting, {@link #attempts} counts every
 * attempt at that key since the hook was set. Only that one attempt waits: a later one that a test does not expect
 * goes on and fails the test's count instead of holding a thread for the gate's 5 s.
 */
final class HeldDelete implements Consumer<String> {
    /** Counted down as the held attempt starts waiting. */
    final CountDownLatch held = new CountDownLatch(1);
    /** Every attempt at the key, the held one included. */
    final AtomicInteger attempts = new AtomicInteger();
    private final String nodeAndKey;
    private final int attempt;
    private final CountDownLatch gate;

    HeldDelete(String nodeAndKey, int attempt, CountDownLatch gate) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt: " + attempt + " (the first is 1)");
        }
        this.nodeAndKey = nodeAndKey;
        this.attempt = attempt;
        this.gate = gate;
    }

    @Override
    public void accept(String deleted) {
        if (!deleted.equals(nodeAndKey) || attempts.incrementAndGet() != attempt) {
            return;
        }
        held.countDown();
        try {
            gate.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
