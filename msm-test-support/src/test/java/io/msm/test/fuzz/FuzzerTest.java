package io.msm.test.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fuzzer itself: it must be able to fail, and be reproducible. */
class FuzzerTest {
    private static final List<byte[]> CORPUS = List.of("hello world".getBytes(), new byte[] {0, 0, 0, 4, 1, 2, 3, 4});

    @Test
    void sameSeedSameInputs() {
        List<Integer> a = new ArrayList<>();
        List<Integer> b = new ArrayList<>();
        Fuzzer.of(42, CORPUS).bounded(200, Duration.ofSeconds(10)).run("a", RuntimeException.class,
                in -> a.add(java.util.Arrays.hashCode(in)));
        Fuzzer.of(42, CORPUS).bounded(200, Duration.ofSeconds(10)).run("b", RuntimeException.class,
                in -> b.add(java.util.Arrays.hashCode(in)));
        assertEquals(a, b);
        assertEquals(200, a.size());
    }

    @Test
    void undocumentedExceptionFailsWithAReplayableDescription() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzzer.of(7, CORPUS)
                .bounded(100, Duration.ofSeconds(10)).run("t", IllegalArgumentException.class, in -> {
                    if (in.length > 3) {
                        throw new IllegalStateException("boom");
                    }
                }));
        assertTrue(e.getMessage().contains("seed 7") && e.getMessage().contains("IllegalStateException"),
                e.getMessage());
    }

    @Test
    void excessiveAllocationFails() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzzer.of(7, CORPUS)
                .bounded(10, Duration.ofSeconds(10)).allocationLimit(16, 1 << 20)
                .run("t", RuntimeException.class, in -> sink = new byte[8 << 20]));
        assertTrue(e.getMessage().contains("allocated"), e.getMessage());
    }

    @Test
    void hangFails() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzzer.of(7, CORPUS)
                .bounded(10, Duration.ofSeconds(10)).hangLimit(Duration.ofMillis(300))
                .run("t", RuntimeException.class, in -> {
                    if (spun.getAndSet(true)) {
                        return;
                    }
                    long end = System.nanoTime() + 1_000_000_000L;
                    while (System.nanoTime() < end) {
                        Thread.onSpinWait();
                    }
                }));
        assertTrue(e.getMessage().contains("a hang?"), e.getMessage());
    }

    @Test
    void timeBudgetEndsTheRun() {
        Fuzzer.Report r = Fuzzer.of(1, CORPUS).bounded(Integer.MAX_VALUE, Duration.ofMillis(300))
                .run("t", RuntimeException.class, in -> { });
        assertTrue(r.inputs > 0 && r.inputs < Integer.MAX_VALUE, r.toString());
    }

    static volatile byte[] sink;
    private final java.util.concurrent.atomic.AtomicBoolean spun = new java.util.concurrent.atomic.AtomicBoolean();
}
