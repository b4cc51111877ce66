package io.msm.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * The pause between two attempts at copying a collection that another thread keeps changing (msm's serializers, with
 * {@code copyCollectionsForSerialization}). A copy takes microseconds, so the first attempts only spin: the next one
 * may fall between two of the writer's changes. Then the copying thread yields, then parks a little longer each time
 * (at most {@link #MAX_PARK_NANOS}), so that a copy preempted on a busy machine, or still interpreted while the
 * writer is compiled, gets a turn between two changes instead of spending all its attempts within one. The parks of
 * 100 attempts add up to about 50 ms; a caller bounds its wait by its number of attempts.
 */
public final class Backoff {
    /** The longest park between two attempts. */
    static final long MAX_PARK_NANOS = 1_000_000L;
    /** The first attempt after which the thread yields instead of spinning. */
    static final int FIRST_YIELD = 10;
    /** The first attempt after which the thread parks instead of yielding. */
    static final int FIRST_PARK = 20;
    private static final long PARK_NANOS_PER_ATTEMPT = 10_000L;

    private Backoff() {
    }

    /**
     * Waits a little after attempt number {@code attempt} (the first is 1) failed, longer as attempts go on.
     *
     * @throws IllegalArgumentException if {@code attempt} is below 1
     */
    public static void pause(int attempt) {
        long park = parkNanos(attempt);
        if (park > 0) {
            LockSupport.parkNanos(park);
        } else if (attempt >= FIRST_YIELD) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    /** How long {@link #pause} parks after attempt {@code attempt}: 0 while it spins or yields. */
    static long parkNanos(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt: " + attempt + " (the first is 1)");
        }
        return attempt < FIRST_PARK ? 0 : Math.min(MAX_PARK_NANOS, PARK_NANOS_PER_ATTEMPT * attempt);
    }
}
