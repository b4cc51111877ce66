package io.msm.test;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Bounded waits for what a test cannot be told of by a latch (another process's state, a background thread's
 * bookkeeping): polls every 10 ms and fails the test, naming what it waited for, when the time is up.
 */
public final class Await {
    private static final long POLL_MILLIS = 10;
    private static final long DEFAULT_MILLIS = 5000;

    private Await() {
    }

    /** Waits at most 5 s until {@code condition} holds. */
    public static void await(String what, BooleanSupplier condition) throws InterruptedException {
        await(what, DEFAULT_MILLIS, condition);
    }

    /** Waits at most {@code maxMillis} until {@code condition} holds. */
    public static void await(String what, long maxMillis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - deadline < 0, "not within " + maxMillis + " ms: " + what);
            Thread.sleep(POLL_MILLIS);
        }
    }
}
