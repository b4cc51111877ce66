package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class IdleSessionCacheTest {

    private static IdleSessionCache.Version version(long hash, int length) {
        return new IdleSessionCache.Version(hash, length, Map.of("n", hash));
    }

    @Test
    void givesTheObjectsBackOnlyForTheSameHashAndLengthAndOnlyOnce() {
        IdleSessionCache cache = new IdleSessionCache(10);
        IdleSessionCache.Version v = version(42, 7);
        cache.keep("a", v, 0, 60);
        assertNull(cache.take("a", 42, 8), "another length");
        assertEquals(0, cache.size(), "a mismatch drops the entry: it can never match again");
        cache.keep("a", v, 0, 60);
        assertNull(cache.take("a", 43, 7), "another hash");
        cache.keep("a", v, 0, 60);
        assertSame(v.attributes, cache.take("a", 42, 7));
        assertNull(cache.take("a", 42, 7), "taken: one session in memory owns the objects");
        assertNull(cache.take("b", 42, 7));
    }

    @Test
    void aWritesVersionIsHashedFromItsEncodedBytesWhetherItHoldsThemOrNot() {
        byte[] chunk = {5, 6, 7};
        long hash = SessionDecoder.attributesHash(java.util.List.of(chunk));
        IdleSessionCache cache = new IdleSessionCache(10);
        for (boolean sameArray : new boolean[] {true, false}) {
            byte[] encoded = io.msm.codec.BlobCodec.encode(io.msm.codec.SessionData.builder("a-n1").times(1, 2, 3)
                    .attributes(chunk).build());
            // the entry's blob: the encoded bytes themselves (no seal: hashed at the take), or another array (sealed:
            // hashed at once)
            IdleSessionCache.Version v = IdleSessionCache.Version.ofWrite(encoded, chunk.length, Map.of("n", 1));
            cache.keep("a", v, new TestSession("a-n1", 0), sameArray ? encoded : encoded.clone(), 0, 60);
            assertSame(v.attributes, cache.take("a", hash, chunk.length), "sameArray=" + sameArray);
            IdleSessionCache.Version w = IdleSessionCache.Version.ofWrite(encoded, chunk.length, Map.of("n", 2));
            cache.keep("a", w, new TestSession("a-n1", 0), sameArray ? encoded : encoded.clone(), 0, 60);
            assertNull(cache.take("a", hash ^ 1, chunk.length), "another hash, sameArray=" + sameArray);
            IdleSessionCache.Version x = IdleSessionCache.Version.ofWrite(encoded, chunk.length, Map.of("n", 3));
            cache.keep("a", x, 0, 60); // no blob: hashed at once
            assertSame(x.attributes, cache.take("a", hash, chunk.length));
        }
    }

    @Test
    void boundedByCountTheLeastRecentlyKeptGoFirst() {
        IdleSessionCache cache = new IdleSessionCache(3);
        for (int i = 0; i < 5; i++) {
            cache.keep("s" + i, version(i, 1), i, 60);
        }
        cache.keep("s2", version(2, 1), 10, 60); // kept again: now the most recent
        cache.keep("s5", version(5, 1), 11, 60);
        assertEquals(3, cache.size());
        assertNull(cache.take("s3", 3, 1));
        assertEquals(Map.of("n", 2L), cache.take("s2", 2, 1));
        assertEquals(Map.of("n", 4L), cache.take("s4", 4, 1));
        assertEquals(Map.of("n", 5L), cache.take("s5", 5, 1));
    }

    @Test
    void entriesOlderThanTheirSessionsTimeoutArePurged() {
        IdleSessionCache cache = new IdleSessionCache(10);
        cache.keep("short", version(1, 1), 0, 60);
        cache.keep("long", version(2, 1), 0, 3600);
        cache.keep("forever", version(3, 1), 0, -1);
        cache.purge(60_000);
        assertEquals(3, cache.size(), "at the timeout, not yet");
        cache.purge(60_001);
        assertNull(cache.take("short", 1, 1));
        cache.purge(3_600_001);
        assertNull(cache.take("long", 2, 1));
        assertEquals(Map.of("n", 3L), cache.take("forever", 3, 1));
        cache.keep("x", version(4, 1), 0, 60);
        cache.forget("x");
        cache.keep("y", version(5, 1), 0, 60);
        cache.clear();
        assertEquals(0, cache.size());
    }

    /** A session that left memory settled, stored as {@code id}. */
    private static TestSession left(String id) {
        TestSession s = new TestSession(id, 0);
        s.state().stored = true;
        s.state().storedId = id;
        return s;
    }

    @Test
    void givesTheWholeSessionBackOnlyForTheVeryBytesItLeftWithAndOnlyOnce() {
        IdleSessionCache cache = new IdleSessionCache(10);
        TestSession s = left("a");
        IdleSessionCache.Version v = version(42, 7);
        byte[] blob = {1, 2, 3, 4};
        cache.keep("a", v, s, blob, 0, 60);
        assertNull(cache.takeSession("a", new byte[] {1, 2, 3, 5}), "same length, one byte differs");
        assertNull(cache.takeSession("a", new byte[] {1, 2, 3}), "a prefix");
        assertNull(cache.takeSession("b", blob.clone()), "another id");
        assertEquals(1, cache.size(), "the attributes stay for a load whose other bytes changed");
        IdleSessionCache.Entry e = cache.takeSession("a", blob.clone());
        assertSame(s, e.session);
        assertSame(v, e.version);
        assertNull(cache.takeSession("a", blob.clone()), "taken: one session in memory at a time");
        assertNull(cache.take("a", 42, 7), "and its attributes with it");
        cache.keep("a", v, 0, 60);
        assertNull(cache.takeSession("a", blob.clone()), "attributes alone: no object to give back");
        assertSame(v.attributes, cache.take("a", 42, 7));
        cache.keep("a", v, s, null, 0, 60);
        assertNull(cache.takeSession("a", blob.clone()), "bytes not known: the object is not kept");
    }

    @Test
    void aSessionChangedOrEndedAfterItLeftIsNotGivenBack() {
        IdleSessionCache cache = new IdleSessionCache(10);
        byte[] blob = {7, 7};
        TestSession changed = left("a");
        cache.keep("a", version(1, 1), changed, blob, 0, 60);
        changed.set("x", "y"); // an application thread still holding it
        assertNull(cache.takeSession("a", blob.clone()));
        TestSession ended = left("b");
        cache.keep("b", version(1, 1), ended, blob, 0, 60);
        ended.active = false;
        assertNull(cache.takeSession("b", blob.clone()));
        TestSession finishing = left("d");
        cache.keep("d", version(1, 1), finishing, blob, 0, 60);
        finishing.reusable = false; // the container still finishes a request that used it
        assertNull(cache.takeSession("d", blob.clone()));
        finishing.reusable = true;
        assertSame(finishing, cache.takeSession("d", blob.clone()).session, "once it has finished");
        TestSession moved = left("c");
        cache.keep("c", version(1, 1), moved, blob, 0, 60);
        moved.state().storedId = "c2"; // stored under another id since
        assertNull(cache.takeSession("c", blob.clone()));
    }

    @Test
    void aSessionThatKeepsComingBackDoesNotPushAnIdleOneOut() {
        IdleSessionCache cache = new IdleSessionCache(4);
        cache.keep("idle", version(1, 1), 0, 60);
        for (int i = 0; i < 100; i++) { // every request of the hot session takes its entry and keeps a new one
            cache.take("hot", 2, 1);
            cache.keep("hot", version(2, 1), i, 60);
        }
        assertEquals(Map.of("n", 1L), cache.take("idle", 1, 1));
    }

    @Test
    void manyThreadsKeepingAndTakingNeverLeaveMoreThanTheCapacity() throws Exception {
        IdleSessionCache cache = new IdleSessionCache(50);
        int threads = 4;
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        java.util.List<Thread> all = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger taken = new java.util.concurrent.atomic.AtomicInteger();
        for (int t = 0; t < threads; t++) {
            int me = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 20_000; i++) {
                    String id = "s" + ((i * 7 + me) % 200); // 200 ids against 50 places: evictions all the time
                    cache.take(id, 1, 1);
                    cache.keep(id, version(1, 1), i, 60);
                    // found again unless 50 other keeps came in between: by chance the ids above, by design this one
                    String own = "t" + me + "-" + i;
                    cache.keep(own, version(1, 1), i, 60);
                    if (cache.take(own, 1, 1) != null) {
                        taken.incrementAndGet();
                    }
                }
            });
            th.start();
            all.add(th);
        }
        start.countDown();
        for (Thread th : all) {
            th.join(60_000);
            assertTrue(!th.isAlive(), "a thread did not finish in 60 s");
        }
        assertTrue(cache.size() <= 50, "size " + cache.size());
        assertTrue(taken.get() > 0, "entries were found again");
    }

    /** Loads of one session racing on one Tomcat: the kept object goes to one of them, whole or as attributes. */
    @Test
    void racingLoadsGetTheKeptObjectOnceAndItCanBeKeptAgainAfter() throws Exception {
        IdleSessionCache cache = new IdleSessionCache(10);
        byte[] blob = {9, 9, 9};
        for (int round = 0; round < 200; round++) {
            TestSession s = left("a");
            IdleSessionCache.Version v = version(5, 3);
            cache.keep("a", v, s, blob, round, 60);
            java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(3);
            java.util.concurrent.atomic.AtomicInteger handedOut = new java.util.concurrent.atomic.AtomicInteger();
            Runnable whole = () -> {
                await(together);
                if (cache.takeSession("a", blob.clone()) != null) {
                    handedOut.incrementAndGet();
                }
            };
            Runnable attributes = () -> {
                await(together);
                if (cache.take("a", 5, 3) != null) {
                    handedOut.incrementAndGet();
                }
            };
            Thread t1 = new Thread(whole);
            Thread t2 = new Thread(whole);
            Thread t3 = new Thread(attributes);
            t1.start();
            t2.start();
            t3.start();
            for (Thread t : new Thread[] {t1, t2, t3}) {
                t.join(10_000);
                assertTrue(!t.isAlive(), "a load did not finish");
            }
            assertEquals(1, handedOut.get(), "round " + round);
        }
        TestSession back = left("a");
        cache.keep("a", version(6, 3), back, blob, 1000, 60);
        assertSame(back, cache.takeSession("a", blob.clone()).session, "kept again after it was handed out");
    }

    private static void await(java.util.concurrent.CyclicBarrier barrier) {
        try {
            barrier.await(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
