package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void spinsAndYieldsFirstThenParksLongerEachTimeUpToAMillisecond() {
        for (int attempt = 1; attempt < Backoff.FIRST_PARK; attempt++) {
            assertEquals(0, Backoff.parkNanos(attempt), "attempt " + attempt);
        }
        long last = 0;
        for (int attempt = Backoff.FIRST_PARK; attempt <= 1000; attempt++) {
            long park = Backoff.parkNanos(attempt);
            assertTrue(park > 0 && park >= last && park <= Backoff.MAX_PARK_NANOS,
                    "attempt " + attempt + ": " + park + " ns after " + last);
            last = park;
        }
        assertEquals(Backoff.MAX_PARK_NANOS, last);
        assertEquals(Backoff.MAX_PARK_NANOS, Backoff.parkNanos(Integer.MAX_VALUE));
    }

    /** The Kryo serializer's 100 snapshot attempts wait about 50 ms in all, not more. */
    @Test
    void theParksOfAHundredAttemptsAddUpToAtMostFiftyMilliseconds() {
        long total = 0;
        for (int attempt = 1; attempt < 100; attempt++) {
            total += Backoff.parkNanos(attempt);
        }
        assertTrue(total > TimeUnit.MILLISECONDS.toNanos(40) && total <= TimeUnit.MILLISECONDS.toNanos(50),
                total + " ns");
    }

    /** Real pauses, with a bound far above the nominal ~50 ms (a busy machine), far below a park of seconds. */
    @Test
    void aHundredPausesEndWithinTheirBound() {
        long start = System.nanoTime();
        for (int attempt = 1; attempt < 100; attempt++) {
            Backoff.pause(attempt);
        }
        long took = System.nanoTime() - start;
        assertTrue(took < TimeUnit.SECONDS.toNanos(5), took + " ns");
    }

    @Test
    void attemptsCountFromOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backoff.pause(0));
        assertTrue(e.getMessage().contains("attempt: 0"), e.getMessage());
    }
}
