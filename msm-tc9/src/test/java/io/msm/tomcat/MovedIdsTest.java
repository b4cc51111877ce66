package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MovedIdsTest {
    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final MovedIds moved = new MovedIds(clock::get);

    @Test
    void anAliasLeadsToTheCurrentIdForAMinute() {
        moved.put("A-n1", "A-n2");
        assertEquals("A-n2", moved.get("A-n1"));
        clock.addAndGet(MovedIds.KEEP_MILLIS - 1);
        assertEquals("A-n2", moved.get("A-n1"));
        clock.addAndGet(1);
        assertNull(moved.get("A-n1"));
        assertEquals(0, moved.size());
    }

    @Test
    void aTomcatThatMovesSessionsForeverKeepsABoundedNumberOfAliases() {
        for (int i = 0; i < 3 * MovedIds.MAX; i++) {
            moved.put("S" + i + "-n1", "S" + i + "-n2");
        }
        assertEquals(MovedIds.MAX, moved.size());
        assertNull(moved.get("S0-n1"), "the oldest went first");
        assertEquals("S" + (3 * MovedIds.MAX - 1) + "-n2", moved.get("S" + (3 * MovedIds.MAX - 1) + "-n1"));
        clock.addAndGet(MovedIds.KEEP_MILLIS);
        moved.put("T-n1", "T-n2");
        assertEquals(1, moved.size(), "expired ones go at the next move");
    }

    @Test
    void anAliasIsRemovedOnlyWhileItLeadsToTheGivenId() {
        moved.put("A-n1", "A-n2");
        moved.remove("A-n1", "A-n3");
        assertEquals("A-n2", moved.get("A-n1"));
        moved.remove("A-n1", "A-n2");
        assertNull(moved.get("A-n1"));
    }
}
