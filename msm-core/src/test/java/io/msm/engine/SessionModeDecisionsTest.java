package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.store.SessionStore;
import io.msm.store.StoredValue;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What each {@link SessionMode} decides for the parts that load, write and end sessions and for the timeout watch
 * (they ask the mode, never the {@code sticky} flag): what a load reads, what a write expects and sends besides the
 * primary copy, what the watch leaves to Tomcat and hands over at a stop, what an end leaves.
 */
class SessionModeDecisionsTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private FakeStore store;
    private EngineBase base;
    private SessionMode mode;

    @AfterEach
    void close() {
        if (mode != null) {
            mode.close();
        }
        if (base != null) {
            base.threads.shutdownNow();
            base.store.close();
        }
    }

    private EngineBase base(boolean sticky) {
        MsmConfig config = FakeStore.twoNodes().set(MsmConfig.STICKY, String.valueOf(sticky))
                .build(getClass().getClassLoader());
        base = new EngineBase(config, new EngineContext("/app", getClass().getClassLoader(), null, "p_", clock::get),
                listener -> store = new FakeStore(clock::get, listener));
        base.health.awaitConnections(0);
        return base;
    }

    private static final byte[] BLOB = "blob".getBytes(StandardCharsets.UTF_8);

    @Test
    void stickyLoadsWithOnePlainGetAndHasNoSecondaryCopiesOrTombstones() {
        base(true);
        mode = new StickyMode(base);
        store.set("n1", "k", 0, BLOB, 1000);
        int gets = store.gets.get();
        PrimaryRead read = new PrimaryRead();
        mode.readPrimary(read, "n1", "k");
        assertArrayEquals(BLOB, read.blob);
        assertEquals(gets + 1, store.gets.get(), "one get");
        assertEquals(StoredValue.UNKNOWN_TTL, read.ttl, "no TTL asked");
        assertEquals(-1, read.refreshedFor, "the load refreshes nothing");
        assertNull(mode.secondaryNode("n1"));
        assertNull(mode.readSecondary("x-n1", "n1", new String[1]));
        assertNull(mode.keptBlob(BLOB));
        assertEquals(SessionStore.ANY, mode.expectedVersion(new SessionState(), "x-n1"), "unconditional write");
        assertFalse(mode.tombstonesEndedIds(), "an end deletes");
        assertEquals(-1, mode.legacyAccessed("x-n1", "n1"));
        assertTrue(mode.onRequest().onRequestThread);
        assertFalse(mode.onRequest().pairsSecondary);
    }

    @Test
    void stickyTimeoutWatchLeavesHeldSessionsToTomcatJudgesCopiesWithoutTtlAndHandsHeldSessionsOver() {
        base(true);
        mode = new StickyMode(base);
        assertTrue(mode.tomcatExpiresHeldSessions(), "a session held here is Tomcat's to expire");
        assertTrue(mode.copyWithoutTtlCanTimeOut(), "a copy a stop left, taken over nowhere, was accessed nowhere");
        assertTrue(mode.stopHandsOverHeldSessions(), "no other Tomcat would end them");
    }

    @Test
    void nonStickyTimeoutWatchAsksMemcachedDropsCopiesWithoutTtlAndHandsOverOnlyWatchedSessions() {
        base(false);
        SecondaryCopies secondaries = new SecondaryCopies(base);
        mode = new NonStickyMode(base, secondaries, new SessionLocks(base, secondaries), null);
        assertFalse(mode.tomcatExpiresHeldSessions(), "another Tomcat may have served it since");
        assertFalse(mode.copyWithoutTtlCanTimeOut(), "any Tomcat may have accessed it");
        assertFalse(mode.stopHandsOverHeldSessions(), "the Tomcats their requests reached watch them");
    }

    @Test
    void nonStickyLoadsWithTheTtlAndHasSecondaryCopiesAndTombstones() {
        base(false);
        SecondaryCopies secondaries = new SecondaryCopies(base);
        mode = new NonStickyMode(base, secondaries, new SessionLocks(base, secondaries), null);
        base.usualMaxInactive = 600;
        store.set("n1", "k", 100, BLOB, 1000);
        PrimaryRead read = new PrimaryRead();
        mode.readPrimary(read, "n1", "k");
        assertArrayEquals(BLOB, read.blob);
        assertEquals(100, read.ttl, "the remaining TTL dates the last access");
        assertEquals(600, read.refreshedFor, "refreshed for the usual timeout in the same call");
        assertTrue(read.refreshedUntil > clock.get());
        assertEquals("n2", mode.secondaryNode("n1"));
        assertSame(BLOB, mode.keptBlob(BLOB), "kept for the secondary copy");
        assertEquals(SessionStore.ADD, mode.expectedVersion(new SessionState(), "x-n1"), "a conditional write");
        assertTrue(mode.tombstonesEndedIds(), "an end leaves tombstones");
        assertEquals(-1, mode.legacyAccessed("x-n1", "n1"), "no legacySessions=readWrite");
        assertTrue(mode.onRequest().pairsSecondary);
        assertTrue(mode.onRequest().cleansBeforeResponse);
    }
}
