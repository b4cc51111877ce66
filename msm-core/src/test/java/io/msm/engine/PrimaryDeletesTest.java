package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.test.log.LogLines;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The deletes of primary keys of ended sessions that wait for their node ({@link WaitingDeletes#PRIMARY}): kept when
 * the node is removed, made when it is available again, forgotten when the copy expired anyway, bounded.
 * {@link PrimaryDeletesIT} runs the logout scenario on real memcached.
 */
class PrimaryDeletesTest {
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF-n1";
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    /** The ids whose primary delete was made. */
    private final Set<String> made = ConcurrentHashMap.newKeySet();
    private EngineBase base;
    private FakeStore store;

    @BeforeEach
    void start() {
        MsmConfig config = FakeStore.twoNodes().set(MsmConfig.STICKY, "false").build(getClass().getClassLoader());
        AtomicReference<FakeStore> created = new AtomicReference<>();
        base = new EngineBase(config, new EngineContext("/app", getClass().getClassLoader(), null, "p_", clock::get),
                listener -> {
                    created.set(new FakeStore(clock::get, listener));
                    return created.get();
                });
        base.health.awaitConnections(0);
        store = created.get();
    }

    @AfterEach
    void close() {
        base.threads.shutdownNow();
        base.store.close();
    }

    /** With the bounds of an engine's. */
    private WaitingDeletes deletes() {
        return new WaitingDeletes(base, made::add);
    }

    /** With {@code max} deletes of each kind at most. */
    private WaitingDeletes deletes(int max) {
        return new WaitingDeletes(base, max, made::add);
    }

    @Test
    void aRemovedNodeKeepsItsPrimaryDeletesAndTheHousekeepingMakesThemWhenItIsAvailable() {
        WaitingDeletes deletes = deletes();
        store.disconnect("n1");
        deletes.waitForPrimary("n1", ID, clock.get() + 60_000);
        deletes.nodeRemoved("n1", clock.get());
        deletes.retryWhereAvailable();
        assertEquals(1, deletes.primaries(), "kept: n1 may be added again with its data");
        assertTrue(made.isEmpty(), "not made while n1 is unavailable");
        store.disconnected.remove("n1"); // added again, available, no recovery reported
        deletes.retryWhereAvailable();
        assertEquals(Set.of(ID), made);
        assertEquals(0, deletes.size());
    }

    @Test
    void aPrimaryDeleteIsForgottenWhenTheCopyExpiredOrTheIdIsTakenBack() {
        WaitingDeletes deletes = deletes();
        store.disconnect("n1");
        long until = clock.get() + 60_000;
        deletes.waitForPrimary("n1", ID, until);
        deletes.waitForPrimary("n1", "X" + ID.substring(1), Long.MAX_VALUE);
        deletes.nodeRemoved("n1", clock.get());
        deletes.purge(until + 1);
        assertEquals(1, deletes.primaries(), "the first copy expired");
        deletes.purge(clock.get() + WaitingDeletes.REMOVED_NODE_KEPT_MILLIS + 1);
        assertEquals(0, deletes.primaries(), "a copy that never expires: gone with its node after a day");
        deletes.waitForPrimary("n1", ID, until);
        deletes.primaryDone("n1", ID);
        assertEquals(0, deletes.size());
        assertFalse(deletes.isPending("n1", ID, 0), "a primary delete is not a secondary copy's");
    }

    @Test
    void pastTheBoundAPrimaryDeleteIsCountedAndSaidOnceWithoutItsId() {
        WaitingDeletes deletes = deletes(2);
        store.disconnect("n1");
        try (LogLines log = LogLines.warnings("io.msm.engine")) {
            for (int i = 0; i < 4; i++) {
                deletes.waitForPrimary("n1", String.format("%032X", i) + "-n1", clock.get() + 60_000);
            }
            assertEquals(2, deletes.primaries());
            assertEquals(2, base.stats.get(Counter.PRIMARY_DELETES_NOT_KEPT));
            assertEquals(0, base.stats.get(Counter.SECONDARY_DELETES_NOT_KEPT));
            List<String> said = log.containing("left to expire by its TTL");
            assertEquals(1, said.size(), log.lines().toString());
            assertTrue(said.get(0).startsWith("[/app] ") && said.get(0).contains("primary copy"), said.get(0));
            assertFalse(said.get(0).contains(String.format("%032X", 2)), "no full session id: " + said.get(0));
        }
    }

    /**
     * A client ending many sessions while n2 is away fills the bound with the deletes of their secondary copies: a
     * user's logout whose primary delete waits for n1 is still kept (else the logout is undone when n1 answers again).
     * Each kind is said once past its bound.
     */
    @Test
    void secondaryDeletesDoNotFillTheBoundOfPrimaryOnes() {
        WaitingDeletes deletes = deletes(2);
        store.disconnect("n1");
        store.disconnect("n2");
        try (LogLines log = LogLines.warnings("io.msm.engine")) {
            for (int i = 0; i < 3; i++) {
                deletes.delete("n2", String.format("%032X", i) + "-n1", 0, clock.get() + 60_000);
            }
            assertEquals(1, base.stats.get(Counter.SECONDARY_DELETES_NOT_KEPT));
            deletes.waitForPrimary("n1", ID, clock.get() + 60_000);
            assertEquals(1, deletes.primaries(), "the logout's primary delete dropped for secondary ones");
            assertEquals(0, base.stats.get(Counter.PRIMARY_DELETES_NOT_KEPT));
            for (int i = 0; i < 2; i++) {
                deletes.waitForPrimary("n1", String.format("%032X", 10 + i) + "-n1", clock.get() + 60_000);
            }
            assertEquals(2, deletes.primaries());
            assertEquals(1, base.stats.get(Counter.PRIMARY_DELETES_NOT_KEPT));
            List<String> said = log.containing("left to expire by its TTL");
            assertEquals(2, said.size(), "each bound said once: " + said);
            assertTrue(said.get(0).contains("secondary copy") && said.get(1).contains("primary copy"), said.toString());
        }
    }

    /**
     * A delete asked for a node after discovery removed it (a tombstone for the id's form on that node, say) never
     * expires if its session does not: it is gone with the node after a day, as those waiting at the removal.
     */
    @Test
    void aDeleteAskedForARemovedNodeIsGoneWithItAfterADay() {
        WaitingDeletes deletes = deletes();
        List<io.msm.config.MemcachedNode> n2Only = base.nodes.current().nodes().stream()
                .filter(n -> n.id().equals("n2")).toList();
        base.changeNodes(n2Only, 0); // discovery: n1 failed its readiness
        long now = clock.get();
        deletes.nodeRemoved("n1", now);
        deletes.waitForPrimary("n1", ID, WaitingDeletes.NEVER);
        deletes.delete("n1", ID, 0, WaitingDeletes.NEVER);
        deletes.waitForPrimary("n2", ID, WaitingDeletes.NEVER); // n2 is in the list: waits until done
        assertEquals(3, deletes.size(), "all wait: n1 may be added again with its data");
        deletes.purge(now + WaitingDeletes.REMOVED_NODE_KEPT_MILLIS);
        assertEquals(3, deletes.size(), "a day at most, not less");
        deletes.purge(now + WaitingDeletes.REMOVED_NODE_KEPT_MILLIS + 1);
        assertEquals(1, deletes.size(), "the deletes for n1 outlive its removal by a day");
        assertEquals(1, deletes.primaries(), "n2's, whose node is in the list");
    }

    /**
     * A delete kept while discovery removes its node, after the removal's look at the waiting deletes (it saw the node
     * still in the list, so nothing capped it): the housekeeping's purge still drops it a day after it was asked.
     */
    @Test
    void aDeleteKeptWhileItsNodeIsBeingRemovedIsGoneAfterADayToo() {
        WaitingDeletes deletes = deletes();
        long now = clock.get();
        deletes.waitForPrimary("n1", ID, WaitingDeletes.NEVER); // n1 still in the list: not capped
        List<io.msm.config.MemcachedNode> n2Only = base.nodes.current().nodes().stream()
                .filter(n -> n.id().equals("n2")).toList();
        base.changeNodes(n2Only, 0); // the removal's nodeRemoved already ran before the delete was kept
        deletes.purge(now + WaitingDeletes.REMOVED_NODE_KEPT_MILLIS);
        assertEquals(1, deletes.size(), "a day at most, not less");
        deletes.purge(now + WaitingDeletes.REMOVED_NODE_KEPT_MILLIS + 1);
        assertEquals(0, deletes.size(), "a delete for a node no longer in the list does not wait forever");
    }
}
