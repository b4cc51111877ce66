package io.msm.engine;

/**
 * The engine's test seams, for the benchmarks' forked Tomcats ({@code io.msm.benchmarks.fault.FaultTomcat}): in this
 * package only to reach them; nothing here is msm's API.
 */
public final class BenchmarkSeams {
    private BenchmarkSeams() {
    }

    /**
     * Non-sticky: {@code engine} forgets when it refreshed each secondary copy after {@code millis} instead of 60 s
     * (see {@link SecondaryCopies#keepRefreshTimes}), so a measurement that waits until they are gone waits less.
     * Sticky: nothing (no secondary copies).
     */
    public static void keepSecondaryRefreshTimes(SessionEngine engine, long millis) {
        SessionMode mode = engine.mode();
        if (mode instanceof NonStickyMode) {
            ((NonStickyMode) mode).secondaries().keepRefreshTimes(millis);
        }
    }
}
