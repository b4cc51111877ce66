package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ExpiryIndexTest {

    private static List<String> ids(List<ExpiryIndex.Entry> entries) {
        return entries.stream().map(e -> e.id).collect(Collectors.toList());
    }

    @Test
    void entriesComeDueInOrderOfTheirDueTime() {
        ExpiryIndex index = new ExpiryIndex(10);
        index.put("b", 2000, 1, 0);
        index.put("a", 1000, 1, 0);
        index.put("c", 3000, 1, 0);
        assertEquals(List.of(), index.takeDue(999, 10));
        assertEquals(List.of("a", "b"), ids(index.takeDue(2000, 10)));
        assertEquals(List.of("c"), ids(index.takeDue(5000, 10)));
        assertEquals(3, index.size(), "taken entries stay until settled or rechecked");
    }

    @Test
    void seeingASessionAgainMovesItsDueTimeWithoutTakingItEarly() {
        ExpiryIndex index = new ExpiryIndex(10);
        index.put("a", 1000, 1, 0);
        index.put("a", 4000, 1, 0); // a later request
        assertEquals(List.of(), index.takeDue(1000, 10), "its first slot moves to the new due time");
        assertEquals(List.of("a"), ids(index.takeDue(4000, 10)));
        index.put("b", 9000, 1, 0);
        index.put("b", 2000, 1, 0); // a shorter timeout now
        assertEquals(List.of("b"), ids(index.takeDue(2000, 10)));
    }

    @Test
    void aDueTimeMovedLessThanOnePercentOfTheTimeoutStaysAsItWas() {
        ExpiryIndex index = new ExpiryIndex(10);
        index.put("a", 1_800_000, 1800, 0);
        index.put("a", 1_800_999, 1800, 0); // a request within a second: skipped (at most 1 s of 1800 s)
        assertEquals(1_800_000, index.get("a").due);
        index.put("a", 1_801_000, 1800, 0); // a second later: moved
        assertEquals(1_801_000, index.get("a").due);
        index.put("b", 10_000, 10, 0);
        index.put("b", 10_099, 10, 0); // 1% of a 10 s timeout: 100 ms
        assertEquals(10_000, index.get("b").due);
        index.put("b", 10_100, 10, 0);
        assertEquals(10_100, index.get("b").due);
        index.put("b", 10_050, 10, 0); // earlier: always moved
        assertEquals(10_050, index.get("b").due);
        index.put("b", 10_060, 20, 0); // another timeout: always taken
        assertEquals(20, index.get("b").maxInactive);
        assertEquals(10_060, index.get("b").due);
        index.put("b", 10_070, 20, 5); // another creation time (a new session under the id): always taken
        assertEquals(5, index.get("b").created);
        assertEquals(List.of("b"), ids(index.takeDue(20_000, 10)));
        assertEquals(List.of(), ids(index.takeDue(1_800_999, 10)), "a at what it holds (1_801_000)");
        assertEquals(List.of("a"), ids(index.takeDue(1_801_000, 10)));
    }

    @Test
    void aSessionSeenAgainWhileItIsCheckedStaysWatchedHoweverLittleItsDueTimeMoves() {
        ExpiryIndex index = new ExpiryIndex(10);
        index.put("a", 1_800_000, 1800, 0);
        List<ExpiryIndex.Entry> due = index.takeDue(1_800_000, 10);
        assertEquals(List.of("a"), ids(due));
        index.put("a", 1_800_001, 1800, 0); // seen again during its check: not skipped
        index.settle(due.get(0));
        assertTrue(index.contains("a"), "still watched");
        assertEquals(List.of("a"), ids(index.takeDue(1_800_001, 10)));
    }

    @Test
    void aCheckedEntryIsRecheckedOrDroppedUnlessSeenMeanwhile() {
        ExpiryIndex index = new ExpiryIndex(10);
        index.put("a", 1000, 1, 0);
        index.put("b", 1000, 1, 0);
        index.put("c", 1000, 1, 0);
        List<ExpiryIndex.Entry> due = index.takeDue(1000, 10);
        assertEquals(3, due.size());
        index.recheck(due.get(0), 5000); // accessed elsewhere since
        index.settle(due.get(1)); // ended
        index.put("c", 8000, 1, 0); // a request here while it was checked
        index.settle(due.get(2));
        assertTrue(index.contains("a"));
        assertFalse(index.contains("b"));
        assertTrue(index.contains("c"), "seen again during its check: still watched");
        assertEquals(List.of("a"), ids(index.takeDue(5000, 10)));
        assertEquals(List.of("c"), ids(index.takeDue(8000, 10)));
    }

    @Test
    void boundedByCountAndEachTickByMax() {
        ExpiryIndex index = new ExpiryIndex(3);
        assertTrue(index.put("a", 1, 1, 0));
        assertTrue(index.put("b", 2, 1, 0));
        assertTrue(index.put("c", 3, 1, 0));
        assertFalse(index.put("d", 4, 1, 0), "full");
        assertTrue(index.put("a", 50, 1, 0), "an id it holds is still updated");
        assertEquals(1, index.refused());
        assertEquals(List.of("b", "c"), ids(index.takeDue(10, 2)));
        index.remove("a");
        assertEquals(List.of(), index.takeDue(10, 10), "removed with its slot");
        assertTrue(index.put("d", 4, 1, 0), "room again");
        assertEquals(3, index.size());
    }

    @Test
    void lastAccessedIsTheDueTimeMinusTheTimeout() {
        ExpiryIndex index = new ExpiryIndex(3);
        index.put("a", 10_000, 3, 500);
        assertEquals(7000, index.get("a").lastAccessed());
        assertEquals(500, index.get("a").created);
    }
}
