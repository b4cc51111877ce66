package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

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
}
