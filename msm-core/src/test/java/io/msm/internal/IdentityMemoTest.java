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
        for (int i = 0; i < 3; i++) {
            assertEquals("v:" + cookie, memo.get(cookie, work));
            assertEquals("v:" + cookie, memo.get(own, work));
        }
        assertEquals(2, worked.get(), "each once: equal strings share a pair, not a slot");
        String next = new String(cookie.toCharArray()); // the next request's cookie
        memo.get(next, work);
        memo.get(own, work);
        memo.get(next, work);
        assertEquals(3, worked.get(), "the new cookie takes the place of the old one, not of the session's id");
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
    void threadsRacingOnOnePairNeverGetAnotherStringsValue() throws Exception {
        IdentityMemo<String> memo = new IdentityMemo<>();
        List<String> ids = new ArrayList<>(); // strings of one pair: they take it from each other all the time
        for (int i = 0; ids.size() < 64; i++) {
            String id = "S" + i + "-n1";
            if (IdentityMemo.pair(id) == 0) {
                ids.add(id);
            }
        }
        int threads = 4;
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    start.await();
                    java.util.Random r = new java.util.Random(seed);
                    int wrong = 0;
                    for (int i = 0; i < 50_000; i++) {
                        String id = ids.get(r.nextInt(ids.size()));
                        if (!("v:" + id).equals(memo.get(id, work))) {
                            wrong++;
                        }
                    }
                    return wrong;
                }));
            }
            for (java.util.concurrent.Future<Integer> f : done) {
                assertEquals(0, f.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
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
        // more than two ids in one pair take it from each other in turn: each of them is worked out again
        long sharing = ids.stream().collect(java.util.stream.Collectors.groupingBy(IdentityMemo::pair,
                java.util.stream.Collectors.counting())).values().stream().filter(k -> k > 2)
                .mapToLong(Long::longValue).sum();
        worked.set(0);
        for (String id : ids) { // interleaved, as request threads are: each finds its own unless its slot was taken
            assertEquals("v:" + id, memo.get(id, work));
        }
        assertEquals(sharing, worked.get(), "only ids of a pair held by more than two are worked out again");
    }
}
