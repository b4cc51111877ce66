package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class IdentityMemoTest {
    private final AtomicInteger worked = new AtomicInteger();
    private final Function<String, String> work = s -> {
        worked.incrementAndGet();
        return s.startsWith("bad") ? null : "v:" + s;
    };

    @Test
    void theSameStringIsWorkedOutOnceAnEqualOneAgain() {
        IdentityMemo<String> memo = new IdentityMemo<>();
        String id = "ABCDEF0123456789-n1";
        String v = memo.get(id, work);
        assertSame(v, memo.get(id, work));
        assertEquals(1, worked.get());
        String equal = new String(id.toCharArray()); // same content, another object
        assertEquals(v, memo.get(equal, work));
        assertEquals(2, worked.get(), "content is never compared: an equal string is worked out again");
    }

    @Test
    void twoEqualStringsUsedInTurnAreEachFoundAgain() {
        IdentityMemo<String> memo = new IdentityMemo<>();
        String cookie = "ABCDEF0123456789-n1"; // a request's cookie, and its session's own id: equal, not the same
        String own = new String(cookie.toCharArray());
        int slots = (System.identityHashCode(cookie) & (IdentityMemo.SLOTS - 1)) == (System.identityHashCode(own)
                & (IdentityMemo.SLOTS - 1)) ? 1 : 2;
        for (int i = 0; i < 3; i++) {
            memo.get(cookie, work);
            memo.get(own, work);
        }
        assertEquals(slots == 2 ? 2 : 6, worked.get(), "each once, unless their identities share a slot");
    }

    @Test
    void nothingIsKeptForANullResult() {
        IdentityMemo<String> memo = new IdentityMemo<>();
        String bad = "bad-id";
        assertNull(memo.get(bad, work));
        assertNull(memo.get(bad, work));
        assertEquals(2, worked.get());
    }

    @Test
    void concurrentRequestsEachKeepTheirOwnAndAStringOnATakenSlotReplacesIt() {
        IdentityMemo<String> memo = new IdentityMemo<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            ids.add("SESSION" + i + "-n1");
        }
        for (String id : ids) {
            memo.get(id, work);
        }
        // ids sharing a slot take it from each other in turn: each of them is worked out again
        long sharing = ids.stream().collect(java.util.stream.Collectors.groupingBy(
                s -> System.identityHashCode(s) & (IdentityMemo.SLOTS - 1), java.util.stream.Collectors.counting()))
                .values().stream().filter(k -> k > 1).mapToLong(Long::longValue).sum();
        worked.set(0);
        for (String id : ids) { // interleaved, as request threads are: each finds its own unless its slot was taken
            assertEquals("v:" + id, memo.get(id, work));
        }
        assertEquals(sharing, worked.get(), "only ids that share a slot are worked out again");
    }
}
