package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SlackTest {
    @Test
    void aTenthOfTheTimeoutFromThreeToSixtySeconds() {
        assertEquals(3, Slack.seconds(0));
        assertEquals(3, Slack.seconds(1));
        assertEquals(3, Slack.seconds(39));
        assertEquals(4, Slack.seconds(40));
        assertEquals(180 / 10, Slack.seconds(180));
        assertEquals(60, Slack.seconds(600));
        assertEquals(60, Slack.seconds(Integer.MAX_VALUE));
    }

    @Test
    void twoOfMemcachedsSecondsShowEveryCopyTimedOut() {
        // a copy counts as timed out while its TTL is below the slack: TTLs 1 and 2 at least, so one can be skipped
        for (int mi = 0; mi <= 3600; mi++) {
            int timedOutTtls = 0;
            for (int ttl = 0; ttl <= Slack.seconds(mi) + 1; ttl++) {
                timedOutTtls += ttl > 0 && ExpiryWatch.timedOut(ttl, Math.max(1, mi)) ? 1 : 0;
            }
            assertTrue(timedOutTtls >= 2, "timeout " + mi + ": " + timedOutTtls);
        }
    }

    @Test
    void aCopyJustWrittenOutlivesItsTimeoutByMoreThanTheTouchMargin() {
        // written with the timeout plus the slack, on a clock that may be a second behind: no touch right after
        for (int mi = 1; mi <= 3600; mi++) {
            assertTrue((Slack.seconds(mi) - 1) * 1000L >= Slack.TOUCH_MARGIN_MILLIS, "timeout " + mi);
        }
    }
}
