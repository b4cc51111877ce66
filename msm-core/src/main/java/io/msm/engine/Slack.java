package io.msm.engine;

/**
 * How long memcached keeps a session's copy beyond the session's own timeout: the slack. The timeout watch needs the
 * copy for a while after the timeout to see it timed out ({@link ExpiryWatch#timedOut}), and memcached counts whole
 * seconds, on a clock that may be a second behind and now and then moves two seconds at once (its timer is re-armed a
 * second after it fired, so it drifts).
 */
final class Slack {
    /**
     * The shortest slack, seconds. A copy is seen timed out while its TTL is below the slack; with 3, two of
     * memcached's seconds show it so, and one of them can be skipped. With 2, one did, and when memcached's clock
     * skipped it the copy went from "2 s left" to gone, and its session ended without {@code sessionDestroyed}.
     */
    static final int SHORTEST_SECONDS = 3;
    /** The longest slack, seconds (timeouts of 10 minutes and more). */
    static final int LONGEST_SECONDS = 60;
    /**
     * A stored copy is refreshed when it would outlive the session's timeout by less than this: one second less than
     * the shortest slack (memcached's clock may be a second behind), so a copy just written needs no touch.
     */
    static final long TOUCH_MARGIN_MILLIS = (SHORTEST_SECONDS - 1) * 1000L;

    private Slack() {
    }

    /** The slack of a session whose timeout is {@code maxInactiveSeconds}: a tenth of it, 3 to 60 s. */
    static int seconds(int maxInactiveSeconds) {
        return Math.max(SHORTEST_SECONDS, Math.min(LONGEST_SECONDS, maxInactiveSeconds / 10));
    }
}
