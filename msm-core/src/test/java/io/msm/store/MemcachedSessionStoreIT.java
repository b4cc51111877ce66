package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.testing.TestTranscoderFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The spymemcached store on a real memcached: meta get, locks' add and owner-only delete, both protocols. */
class MemcachedSessionStoreIT {
    private static final int KEEP = SessionStore.KEEP_EXPIRATION;
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(1);

    private static SessionStore store(String protocol) throws Exception {
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, MEMCACHED.nodesAttribute("n1"))
                .set(MsmConfig.MEMCACHED_PROTOCOL, protocol)
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(MemcachedSessionStoreIT.class.getClassLoader());
        SessionStore s = MemcachedSessionStore.open(config, MemcachedSessionStore.ConnectionListener.NONE);
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!s.isConnected("n1") && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return s;
    }

    /**
     * spymemcached's shutdown only tells its I/O thread to end; a thread still alive when Tomcat has stopped the
     * webapp is logged as a likely memory leak (its context class loader is the webapp's). The same for the store's
     * own threads (the node watch, the secondary writers).
     */
    @Test
    void closeReturnsOnceTheClientsIoThreadsHaveEnded() throws Exception {
        for (String protocol : List.of("text", "binary", "text", "binary", "text")) {
            java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
            SessionStore s = store(protocol);
            s.set("n1", "k", 100, new byte[10], 1000);
            CompletableFuture<Boolean> async = new CompletableFuture<>();
            s.setAsync("n1", "k2", 100, new byte[10], async::complete);
            assertTrue(async.get());
            List<Thread> io = new ArrayList<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (!before.contains(t) && (t.getName().startsWith("Memcached IO") || t.getName().startsWith("msm-"))) {
                    io.add(t);
                }
            }
            assertEquals(2, io.size(), io.toString()); // text: watch and secondary writer; binary: watch and I/O
            s.close();
            for (Thread t : io) {
                assertFalse(t.isAlive(), protocol + ": " + t.getName() + " still running after close()");
            }
        }
    }

    @Test
    void metaGetRefreshesTheExpirationInTheSameCallAndReportsTheTimeLeftBefore() throws Exception {
        try (SessionStore s = store("text")) {
            byte[] value = "hello".getBytes(StandardCharsets.US_ASCII);
            s.set("n1", "k", 100, value, 1000);
            long callsBefore = MEMCACHED.server(0).stat("cmd_get") + MEMCACHED.server(0).stat("cmd_touch");
            StoredValue v = s.getWithTtl("n1", "k", 500, 1000);
            // memcached counts a meta get with a new TTL under cmd_touch
            assertEquals(1, MEMCACHED.server(0).stat("cmd_get") + MEMCACHED.server(0).stat("cmd_touch") - callsBefore,
                    "one call");
            assertArrayEquals(value, v.value());
            assertTrue(v.refreshed());
            assertTrue(v.ttlSeconds() >= 98 && v.ttlSeconds() <= 100, "the time it had left: " + v.ttlSeconds());
            StoredValue after = s.getWithTtl("n1", "k", KEEP, 1000);
            assertFalse(after.refreshed());
            assertTrue(after.ttlSeconds() >= 498 && after.ttlSeconds() <= 500, "refreshed to " + after.ttlSeconds());
            StoredValue missing = s.getWithTtl("n1", "missing", 500, 1000);
            assertNull(missing.value());
            assertFalse(missing.refreshed());
        }
    }

    @Test
    void metaGetReturnsValueAndRemainingTtlInOneCall() throws Exception {
        try (SessionStore s = store("text")) {
            byte[] value = "hello".getBytes(StandardCharsets.US_ASCII);
            s.set("n1", "k", 100, value, 1000);
            long getsBefore = MEMCACHED.server(0).stat("cmd_get");
            StoredValue v = s.getWithTtl("n1", "k", KEEP, 1000);
            assertArrayEquals(value, v.value());
            assertTrue(v.ttlSeconds() >= 98 && v.ttlSeconds() <= 100, "ttl " + v.ttlSeconds());
            assertEquals(1, MEMCACHED.server(0).stat("cmd_get") - getsBefore, "one call");
            s.set("n1", "forever", 0, value, 1000);
            assertEquals(StoredValue.NO_EXPIRY, s.getWithTtl("n1", "forever", KEEP, 1000).ttlSeconds());
            assertNull(s.getWithTtl("n1", "missing", KEEP, 1000).value());
        }
    }

    @Test
    void metaGetKeepsTheConnectionInStepWithLargeValuesAndOtherOperations() throws Exception {
        try (SessionStore s = store("text")) {
            byte[] big = new byte[700_000]; // arrives in many reads
            new Random(1).nextBytes(big);
            s.set("n1", "big", 60, big, 2000);
            List<CompletableFuture<Void>> parallel = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                parallel.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 200; i++) {
                        String key = "k" + thread + "-" + i;
                        byte[] v = key.getBytes(StandardCharsets.US_ASCII);
                        s.set("n1", key, 60, v, 2000);
                        assertArrayEquals(v, s.getWithTtl("n1", key, KEEP, 2000).value());
                        assertArrayEquals(v, s.get("n1", key, 2000));
                        if (i % 50 == 0) {
                            assertArrayEquals(big, s.getWithTtl("n1", "big", KEEP, 2000).value());
                        }
                    }
                }));
            }
            for (CompletableFuture<Void> f : parallel) {
                f.get();
            }
        }
    }

    @Test
    void binaryProtocolFallsBackToAPlainGet() throws Exception {
        try (SessionStore s = store("binary")) {
            s.set("n1", "k", 100, new byte[] {1}, 1000);
            StoredValue v = s.getWithTtl("n1", "k", KEEP, 1000);
            assertArrayEquals(new byte[] {1}, v.value());
            assertEquals(StoredValue.UNKNOWN_TTL, v.ttlSeconds());
        }
    }

    @Test
    void waitedForCallsSurviveARestartOfMemcachedOnTheirPooledConnections() throws Exception {
        try (SessionStore s = store("text")) {
            s.set("n1", "k", 100, new byte[] {1}, 1000); // leaves a pooled connection behind
            assertTrue(s.touch("n1", "k", 100, 1000));
            MEMCACHED.server(0).kill();
            MEMCACHED.server(0).start(); // empty; the pooled connection is dead
            assertFalse(s.touch("n1", "k", 100, 1000), "a fresh connection answers: not there");
            s.set("n1", "k", 100, new byte[] {2}, 1000);
            assertArrayEquals(new byte[] {2}, s.getWithTtl("n1", "k", KEEP, 1000).value());
        }
    }

    @Test
    void aMissOnTheConnectionReplacingOneARestartClosedIsAFailureNotProofTheKeyIsGone() throws Exception {
        try (SessionStore s = store("text")) {
            s.set("n1", "k", 100, new byte[] {1}, 1000); // leaves a pooled connection behind
            MEMCACHED.server(0).kill();
            MEMCACHED.server(0).start(); // empty, before the client noticed: the pooled connection is dead
            StoreException e = assertThrows(StoreException.class, () -> s.getWithTtl("n1", "k", KEEP, 1000),
                    "a clean miss here would make a non-sticky Tomcat drop the session instead of reading its "
                            + "secondary copy");
            assertFalse(e.isTimeout(), e.getMessage());
            assertNull(s.getWithTtl("n1", "k", KEEP, 1000).value(), "later calls find a live connection: a miss");
        }
    }

    @Test
    void aTimedOutCallsConnectionIsNeverReusedSoItsLateAnswerCannotBeTakenForAnother() throws Exception {
        try (SessionStore s = store("text")) {
            s.set("n1", "a", 100, new byte[] {'A'}, 1000);
            s.set("n1", "b", 100, new byte[] {'B'}, 1000);
            MEMCACHED.server(0).pause();
            long start = System.nanoTime();
            StoreException e = assertThrows(StoreException.class, () -> s.getWithTtl("n1", "a", KEEP, 200));
            long waited = (System.nanoTime() - start) / 1_000_000;
            assertTrue(e.isTimeout(), e.getMessage());
            assertTrue(waited >= 190 && waited < 1000, "waited " + waited + " ms");
            MEMCACHED.server(0).resume();
            assertArrayEquals(new byte[] {'B'}, s.getWithTtl("n1", "b", KEEP, 1000).value());
            assertArrayEquals(new byte[] {'A'}, s.getWithTtl("n1", "a", KEEP, 1000).value());
        }
    }

    @Test
    void metaGetOnAKilledNodeFailsAtOnce() throws Exception {
        try (SessionStore s = store("text")) {
            MEMCACHED.server(0).kill();
            long start = System.nanoTime();
            assertThrows(StoreException.class, () -> {
                for (int i = 0; i < 3; i++) { // the first may still find the old connection
                    s.getWithTtl("n1", "k", KEEP, 1000);
                }
            });
            assertTrue((System.nanoTime() - start) / 1_000_000 < 1500);
        }
    }

    @Test
    void conditionalWritesStoreOnlyOnTheVersionReadOnBothProtocols() throws Exception {
        for (String protocol : new String[] {"text", "binary"}) {
            try (SessionStore s = store(protocol)) {
                String key = "cond-" + protocol;
                byte[] one = "one".getBytes(StandardCharsets.US_ASCII);
                byte[] two = "two".getBytes(StandardCharsets.US_ASCII);
                assertTrue(s.storeIf("n1", key, 100, one, SessionStore.ADD, 1000) >= 0, protocol + ": added");
                assertEquals(SessionStore.EXISTS, s.storeIf("n1", key, 100, two, SessionStore.ADD, 1000),
                        protocol + ": an add finds the key");
                StoredValue read = s.getWithTtl("n1", key, KEEP, 1000);
                assertTrue(read.cas() > 0, protocol + ": the load tells the version");
                assertEquals(read.cas(), s.gets("n1", key, 1000).cas(), protocol);
                assertTrue(s.storeIf("n1", key, 100, two, read.cas(), 1000) >= 0, protocol + ": on the version read");
                assertEquals(SessionStore.EXISTS, s.storeIf("n1", key, 100, one, read.cas(), 1000),
                        protocol + ": not on an older one");
                assertArrayEquals(two, s.get("n1", key, 1000));
                long now = s.gets("n1", key, 1000).cas();
                s.delete("n1", key, 1000);
                assertEquals(SessionStore.NOT_FOUND, s.storeIf("n1", key, 100, one, now, 1000), protocol);
                assertNull(s.get("n1", key, 1000));
            }
        }
    }

    @Test
    void lockIsAddedAndDeletedOnlyByItsOwnerOnBothProtocols() throws Exception {
        for (String protocol : List.of("text", "binary")) {
            try (SessionStore s = store(protocol)) {
                byte[] mine = ("mine-" + protocol).getBytes(StandardCharsets.US_ASCII);
                byte[] theirs = ("theirs-" + protocol).getBytes(StandardCharsets.US_ASCII);
                String key = "lock:" + protocol;
                long cas = s.add("n1", key, 5, mine, 1000);
                assertTrue(cas >= 0);
                assertEquals(-1, s.add("n1", key, 5, theirs, 1000), "taken");
                assertFalse(s.compareAndDelete("n1", key, theirs, 0, 1000), "not their lock");
                assertTrue(s.compareAndDelete("n1", key, mine, cas, 1000));
                assertNull(s.get("n1", key, 1000));
                // a stale owner (its lock expired and was taken again) cannot delete the new one
                s.add("n1", key, 5, theirs, 1000);
                assertFalse(s.compareAndDelete("n1", key, mine, 0, 1000));
                assertArrayEquals(theirs, s.get("n1", key, 1000));
                MEMCACHED.server(0).flushAll();
            }
        }
    }

    /**
     * A key beyond ASCII (a context path {@code /café} in the {@code storageKeyPrefix}) is one key on every path: the
     * text protocol's calls, and spymemcached's on the binary protocol, which sends UTF-8: written by one, found and
     * deleted by the other. A character whose low byte is a line feed or a space ({@code Ċ} is U+010A, {@code Ġ}
     * U+0120) must not break the command line.
     */
    @Test
    void aKeyBeyondAsciiIsTheSameKeyOnEveryClientPath() throws Exception {
        try (SessionStore s = store("text"); SessionStore binary = store("binary")) {
            for (String key : List.of("caf\u00e9_ABC-n1", "\u010a_ABC-n1", "\u0120_ABC-n1")) {
                byte[] value = key.getBytes(StandardCharsets.UTF_8);
                s.set("n1", key, 100, value, 1000);
                assertTrue(MEMCACHED.server(0).keys().contains(key), key + " in " + MEMCACHED.server(0).keys());
                assertArrayEquals(value, s.get("n1", key, 1000), "get finds " + key);
                assertArrayEquals(value, binary.get("n1", key, 1000), "spymemcached finds " + key);
                assertArrayEquals(value, s.getWithTtl("n1", key, KEEP, 1000).value(), "the meta get finds " + key);
                assertTrue(s.touch("n1", key, 100, 1000));
                assertTrue(binary.delete("n1", key, 1000), "spymemcached deletes " + key);
                assertNull(s.getWithTtl("n1", key, KEEP, 1000).value());
                binary.set("n1", key, 100, value, 1000);
                assertTrue(s.delete("n1", key, 1000), "the text protocol deletes what spymemcached wrote: " + key);
            }
        }
    }

    /** A secondary copy for a node that does not answer waits in a bounded queue; beyond it one fails at once. */
    @Test
    void setAsyncToAFrozenNodeFailsAtOnceWhenItsQueueIsFull() throws Exception {
        try (SessionStore s = store("text")) {
            MEMCACHED.server(0).pause();
            try {
                CompletableFuture<Boolean> first = new CompletableFuture<>();
                s.setAsync("n1", "q0", 100, new byte[] {1}, first::complete); // the writer waits on it
                CompletableFuture<Boolean> refused = new CompletableFuture<>();
                long start = System.nanoTime();
                for (int i = 1; i <= AsyncWriters.QUEUE + 1 && !refused.isDone(); i++) {
                    CompletableFuture<Boolean> f = i <= AsyncWriters.QUEUE - 1 ? new CompletableFuture<>()
                            : refused;
                    s.setAsync("n1", "q" + i, 100, new byte[] {1}, f::complete);
                }
                assertFalse(refused.get(100, java.util.concurrent.TimeUnit.MILLISECONDS), "the full queue's answer");
                assertTrue((System.nanoTime() - start) / 1_000_000 < 500, "no caller waited");
                assertFalse(first.get(5, java.util.concurrent.TimeUnit.SECONDS), "the frozen node's timeout");
            } finally {
                MEMCACHED.server(0).resume();
            }
        }
    }
}
