package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class GoneMarksTest {
    private static final long END = 1_765_000_000_000L;

    @Test
    void aMarkHidesCopiesOfBeforeTheEndAndTheClockMarginAfterIt() {
        byte[] mark = GoneMarks.of(END);
        assertEquals(END, GoneMarks.endedAt(mark));
        assertTrue(GoneMarks.hides(mark, END - 60_000));
        assertTrue(GoneMarks.hides(mark, END));
        assertTrue(GoneMarks.hides(mark, END + GoneMarks.CLOCK_MARGIN_MILLIS));
        assertFalse(GoneMarks.hides(mark, END + GoneMarks.CLOCK_MARGIN_MILLIS + 1), "a copy written after the end");
    }

    @Test
    void noMarkHidesNothingAndACopyOfUnknownTimeIsHiddenByAnyMark() {
        assertFalse(GoneMarks.hides(null, END));
        assertFalse(GoneMarks.hides(null, null));
        assertTrue(GoneMarks.hides(GoneMarks.of(END), null), "the old manager's copy: its time cannot be read");
    }

    @Test
    void aValueNotOfTheMarksFormHidesEveryCopy() {
        for (String v : new String[] {"", "g", "x123", "g12a", "g-5", "g99999999999999999999", "g" + "9".repeat(19),
                "MSMX"}) {
            byte[] value = v.getBytes(StandardCharsets.US_ASCII);
            assertEquals(Long.MAX_VALUE, GoneMarks.endedAt(value), v);
            assertTrue(GoneMarks.hides(value, Long.MAX_VALUE - 1), v);
        }
        assertEquals(Long.MAX_VALUE, GoneMarks.endedAt(new byte[] {'g', (byte) 0xb0}));
    }

    @Test
    void theLargestMarkParsesWithoutOverflow() {
        assertEquals(Long.MAX_VALUE - 1, GoneMarks.endedAt(GoneMarks.of(Long.MAX_VALUE - 1)));
        assertFalse(GoneMarks.hides(GoneMarks.of(0), GoneMarks.CLOCK_MARGIN_MILLIS + 1));
    }
}
