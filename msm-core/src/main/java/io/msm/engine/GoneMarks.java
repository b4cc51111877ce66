package io.msm.engine;

import java.nio.charset.StandardCharsets;

/**
 * Non-sticky: the mark an end leaves beside the secondary copies it deletes ({@code gone:<key>} next to
 * {@code bak:<key>}, on every node but the primary one), holding when the session ended (the ending Tomcat's clock).
 * <p>
 * A delete does not stop a write already on its way: a copy another Tomcat sent before a logout here (its request's
 * write, its refresh of the copy) that memcached stores after the delete lives on for its TTL, and that Tomcat never
 * learns of the end; so does one whose answer this Tomcat stopped waiting for. When the session's own node fails, a
 * request with the old cookie would read it: the session back as it was before the logout. The mark is under another
 * key, so no late copy replaces it. Its time is taken after the end's tombstones: a Tomcat that never learns of the end
 * is one whose write reached the primary key before them, so its copy's session was accessed before that time by its
 * own clock, give or take the difference between the two Tomcats' clocks. A copy is read only if its session was
 * accessed more than {@link #CLOCK_MARGIN_MILLIS} after the mark's time: a session taken back under an id it had
 * before (its node failed, then the other one) writes newer copies.
 */
final class GoneMarks {
    static final String PREFIX = "gone:";
    /**
     * A copy whose session was accessed up to this long after the end, by the clock of the Tomcat that wrote it, is
     * taken for one of before the end: the Tomcats' clocks differ. Generous, because the two ways to be wrong are
     * unequal: too short, a writer whose clock is ahead by more undoes a logout; too long, a session taken back under
     * its id within this time (after two node failures) has its secondary copy hidden until its first write after it,
     * and is lost only if its node then fails too (its user gets a new session).
     */
    static final long CLOCK_MARGIN_MILLIS = 30_000;
    /**
     * How much longer a mark lives than the copies of its session could from the end: a copy landing late lives its
     * whole TTL from when memcached stores it.
     */
    static final int EXTRA_SECONDS = 60;
    /** The longest mark: its tag and a clock's millis. */
    private static final int MAX_LENGTH = 20;
    private static final byte TAG = 'g';

    private GoneMarks() {
    }

    /** The mark of an end at {@code endedAt} (clock millis). */
    static byte[] of(long endedAt) {
        return ("g" + endedAt).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Whether {@code mark} (the value under the copy's {@code gone:} key; {@code null} if none) hides a copy whose
     * session was last accessed at {@code accessedAt}, {@code null} if that is not known (a copy of the old manager's
     * format): every copy from before the end, and every copy under a mark not of this form (nothing but msm writes
     * these keys: whatever is there says the session ended).
     */
    static boolean hides(byte[] mark, Long accessedAt) {
        if (mark == null) {
            return false;
        }
        long endedAt = endedAt(mark);
        return accessedAt == null || endedAt > Long.MAX_VALUE - CLOCK_MARGIN_MILLIS
                || accessedAt <= endedAt + CLOCK_MARGIN_MILLIS;
    }

    /** When the mark says the session ended; {@link Long#MAX_VALUE} if it is not of the form {@link #of} writes. */
    static long endedAt(byte[] mark) {
        if (mark.length < 2 || mark.length > MAX_LENGTH || mark[0] != TAG) {
            return Long.MAX_VALUE;
        }
        long at = 0;
        for (int i = 1; i < mark.length; i++) {
            int digit = mark[i] - '0';
            if (digit < 0 || digit > 9 || at > (Long.MAX_VALUE - digit) / 10) {
                return Long.MAX_VALUE;
            }
            at = at * 10 + digit;
        }
        return at;
    }
}
