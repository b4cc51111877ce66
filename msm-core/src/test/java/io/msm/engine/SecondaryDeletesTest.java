package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.test.log.LogLines;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The deletes of secondary copies that wait for their node (non-sticky): made when the node is back, forgotten when it
 * is removed or the copy expired anyway, bounded, and never served meanwhile. {@link SecondaryDeletesIT} runs the
 * logout scenario on real memcached.
 */
class SecondaryDeletesTest {
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF-n1";
    private static final String BAK = SessionEngine.BAK_PREFIX + "p_" + ID;
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private EngineBase base;
    private FakeStore store;
    private SessionEngine engine;

    @BeforeEach
    void start() {
        MsmConfig config = FakeStore.twoNodes().set(MsmConfig.STICKY, "false").build(getClass().getClassLoader());
        AtomicReference<FakeStore> made = new AtomicReference<>();
        base = new EngineBase(config, new EngineContext("/app", getClass().getClassLoader(), null, "p_", clock::get),
                listener -> {
                    made.set(new FakeStore(clock::get, listener));
                    return made.get();
                });
        base.health.awaitConnections(0);
        store = made.get();
        store.put("n2", BAK, new byte[] {1});
    }

    @AfterEach
    void close() {
        base.threads.shutdownNow();
        base.store.close();
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void aDeleteWhoseNodeIsUnavailableWaitsUntilTheNodeIsBack() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        store.disconnect("n2");
        deletes.delete("n2", ID, 0, clock.get() + 60_000);
        assertEquals(1, deletes.size());
        assertTrue(deletes.isPending("n2", ID, 0));
        assertFalse(deletes.isPending("n2", ID, 1), "another name");
        assertFalse(deletes.isPending("n1", ID, 0), "another node");

        store.reconnect("n2");
        deletes.retry("n1");
        assertEquals(1, deletes.size(), "n1 is not its node");
        deletes.retry("n2");
        assertEquals(0, deletes.size());
        assertNull(store.peek("n2", BAK), "deleted");
    }

    /**
     * An end's delete of a copy ({@link WaitingDeletes#end}) waiting for its node: when the node is back, the copy is
     * deleted with its mark beside it, which holds the time of the end (not of the retry) and lives longer than the
     * copy could. A delete of a copy under a former name (a key rotation: the session lives on) leaves no mark.
     */
    @Test
    void anEndWaitingForItsNodeLeavesItsMarkWithTheTimeOfTheEnd() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        store.put("n2", BAK, new byte[] {1});
        store.disconnect("n2");
        long endedAt = clock.get();
        deletes.end("n2", ID, 0, endedAt + 60_000, endedAt);
        assertTrue(deletes.isPending("n2", ID, 0));
        clock.addAndGet(30_000);
        store.reconnect("n2");
        deletes.retry("n2");
        assertEquals(0, deletes.size());
        assertNull(store.peek("n2", BAK), "deleted");
        assertEquals(endedAt, GoneMarks.endedAt(store.peek("n2", "gone:p_" + ID)), "the end's time");
        clock.addAndGet(30_000 + GoneMarks.EXTRA_SECONDS * 1000L - 1_000);
        assertNotNull(store.peek("n2", "gone:p_" + ID), "kept past the copy's expiry");

        String living = "FEDCBA9876543210FEDCBA9876543210-n1";
        store.put("n2", SessionEngine.BAK_PREFIX + "p_" + living, new byte[] {1});
        deletes.delete("n2", living, 0, clock.get() + 60_000);
        assertNull(store.peek("n2", SessionEngine.BAK_PREFIX + "p_" + living), "deleted");
        assertNull(store.peek("n2", "gone:p_" + living), "and no mark");
    }

    /**
     * An end's delete waits (its node timed out); then a plain delete of the same copy is asked (the ended session's
     * own late copy, answered): it is made with the end's mark, not instead of it.
     */
    @Test
    void aPlainDeleteOfACopyWhoseEndWaitsMakesTheEndWithItsMark() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        store.disconnect("n2");
        long endedAt = clock.get();
        deletes.end("n2", ID, 0, endedAt + 60_000, endedAt);
        store.reconnect("n2");
        clock.addAndGet(1_000);
        store.put("n2", BAK, new byte[] {1});
        deletes.delete("n2", ID, 0, clock.get() + 60_000);
        assertEquals(0, deletes.size());
        assertNull(store.peek("n2", BAK), "deleted");
        assertEquals(endedAt, GoneMarks.endedAt(store.peek("n2", "gone:p_" + ID)), "and marked, as the end asked");
    }

    /**
     * The mark refused by a node that answers (memcached out of memory, say): the copy is deleted all the same, and
     * the mark waits for the next retry.
     */
    @Test
    void aMarkTheNodeRefusesStillLetsTheCopyGoAndWaits() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        store.put("n2", BAK, new byte[] {1});
        store.failOnce.add("n2/gone:p_" + ID);
        deletes.end("n2", ID, 0, clock.get() + 60_000, clock.get());
        assertNull(store.peek("n2", BAK), "deleted");
        assertTrue(base.availability.isAvailable("n2"));
        assertEquals(1, deletes.size(), "the mark waits");
        deletes.retryWhereAvailable();
        assertEquals(0, deletes.size());
        assertNotNull(store.peek("n2", "gone:p_" + ID));
    }

    @Test
    void aDeleteThatFailedWaitsTooAndARetryThatFailsKeepsIt() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        store.timingOut.add("n2");
        deletes.delete("n2", ID, 0, clock.get() + 60_000);
        assertEquals(1, deletes.size());
        assertFalse(base.availability.isAvailable("n2"), "the timeout made it suspect");
        base.availability.probeSuspects(); // still times out
        deletes.retry("n2");
        assertEquals(1, deletes.size(), "kept while it cannot be made");

        store.timingOut.remove("n2");
        base.availability.probeSuspects();
        assertTrue(base.availability.isAvailable("n2"));
        deletes.retry("n2");
        assertEquals(0, deletes.size());
        assertNull(store.peek("n2", BAK));
    }

    /** The housekeeping makes deletes whose node is available, a bounded number each time (it runs every 500 ms). */
    @Test
    void theHousekeepingMakesTheDeletesWhoseNodeIsAvailableABoundedNumberAtATime() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        int n = WaitingDeletes.RETRIES_PER_HOUSEKEEPING + 20;
        for (int i = 0; i < n; i++) {
            String id = String.format("%032X", i) + "-n1";
            String bak = SessionEngine.BAK_PREFIX + "p_" + id;
            store.put("n2", bak, new byte[] {1});
            store.failOnce.add("n2/" + bak); // a connection reset: no timeout, n2 stays available
            deletes.delete("n2", id, 0, clock.get() + 60_000);
        }
        assertEquals(n, deletes.size());
        assertTrue(base.availability.isAvailable("n2"));
        deletes.retryWhereAvailable();
        assertEquals(20, deletes.size(), "at most " + WaitingDeletes.RETRIES_PER_HOUSEKEEPING + " at a time");
        deletes.retryWhereAvailable();
        assertEquals(0, deletes.size());
        assertNull(store.peek("n2", SessionEngine.BAK_PREFIX + "p_" + String.format("%032X", n - 1) + "-n1"));
        assertNotNull(store.peek("n2", BAK), "not one of them");
    }

    @Test
    void aDeleteMadeAtOnceLeavesNothingWaiting() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        deletes.delete("n2", ID, 0, clock.get() + 60_000);
        assertEquals(0, deletes.size());
        assertNull(store.peek("n2", BAK));
    }

    @Test
    void forgottenWhenTheCopyHasExpiredAnyway() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        store.disconnect("n2");
        long until = clock.get() + 60_000;
        deletes.delete("n2", ID, 0, until);
        deletes.delete("n2", ID, 1, until + 10_000);
        deletes.purge(until);
        assertEquals(2, deletes.size(), "not expired yet");
        deletes.purge(until + 1);
        assertEquals(1, deletes.size(), "the first has expired");
        assertFalse(deletes.isPending("n2", ID, 0));
        assertTrue(deletes.isPending("n2", ID, 1));
    }

    /**
     * A removed node may be added again under its id with its data (discovery): its deletes wait on until their copies
     * expire, a day at most after the removal for a copy that never expires.
     */
    @Test
    void aRemovedNodeKeepsItsDeletesUntilTheCopiesExpireADayAtMostForCopiesThatNeverDo() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        store.disconnect("n2");
        store.disconnect("n1");
        long removedAt = clock.get();
        long until = removedAt + 60_000;
        deletes.delete("n2", ID, 0, until);
        deletes.delete("n2", ID, 1, Long.MAX_VALUE);
        deletes.delete("n1", ID, 1, Long.MAX_VALUE);
        deletes.nodeRemoved("n2", removedAt);
        assertEquals(3, deletes.size(), "n2 may be added again with its data");
        deletes.purge(until + 1);
        assertEquals(2, deletes.size(), "the first copy has expired");
        deletes.purge(removedAt + WaitingDeletes.REMOVED_NODE_KEPT_MILLIS);
        assertEquals(2, deletes.size());
        deletes.purge(removedAt + WaitingDeletes.REMOVED_NODE_KEPT_MILLIS + 1);
        assertEquals(1, deletes.size(), "a copy that never expires is taken to be gone with its node after a day");
        assertTrue(deletes.isPending("n1", ID, 1), "not n1's");
    }

    @Test
    void pastTheBoundACopyIsLeftToExpireCountedAndSaidOnceWithoutItsIdAgainOnceHalfAreDone() {
        WaitingDeletes deletes = new WaitingDeletes(base, 4, id -> false);
        store.disconnect("n2");
        long until = clock.get() + 60_000;
        try (LogLines log = LogLines.warnings("io.msm.engine")) {
            for (int i = 0; i < 7; i++) {
                deletes.delete("n2", String.format("%032X", i) + "-n1", 0, i < 2 ? until : until + 60_000);
            }
            deletes.delete("n2", String.format("%032X", 0) + "-n1", 0, until); // already waiting
            assertEquals(4, deletes.size());
            assertEquals(3, base.stats.get(Counter.SECONDARY_DELETES_NOT_KEPT));
            List<String> said = log.containing("left to expire by its TTL");
            assertEquals(1, said.size(), log.lines().toString());
            assertTrue(said.get(0).startsWith("[/app] "), said.get(0));
            assertFalse(said.get(0).contains(String.format("%032X", 4)), "no full session id: " + said.get(0));

            deletes.purge(until); // none expired: still at the bound
            deletes.delete("n2", String.format("%032X", 10) + "-n1", 0, until);
            assertEquals(1, log.containing("left to expire by its TTL").size(), "not said again at the bound");
            deletes.purge(until + 1); // two expired: half the bound
            deletes.delete("n2", String.format("%032X", 11) + "-n1", 0, until);
            deletes.delete("n2", String.format("%032X", 12) + "-n1", 0, until);
            deletes.delete("n2", String.format("%032X", 13) + "-n1", 0, until);
            assertEquals(4, deletes.size());
            assertEquals(5, base.stats.get(Counter.SECONDARY_DELETES_NOT_KEPT));
            assertEquals(2, log.containing("left to expire by its TTL").size(), "said again: " + log.lines());
        }
    }

    @Test
    void aCopySentAfterTheDeleteWasAskedIsKeptOneSentBeforeIsNot() {
        WaitingDeletes deletes = new WaitingDeletes(base);
        store.disconnect("n2");
        long asked = clock.get();
        deletes.delete("n2", ID, 0, asked + 60_000);
        deletes.written("n2", ID, asked - 5); // sent before the end, answered late
        assertTrue(deletes.isPending("n2", ID, 0), "still the session before its end");
        deletes.written("n2", ID, asked + 5); // the id taken back and written again
        assertFalse(deletes.isPending("n2", ID, 0));
    }

    /** An engine on a FakeStore with the test's clock (its housekeeping runs every 500 ms on its own thread). */
    private void startEngine() {
        base.threads.shutdownNow();
        base.store.close();
        FakeEngine started = FakeEngine.nonSticky(clock::get);
        engine = started.engine;
        store = started.store;
    }

    /** A logged-in session on n1 with timeout {@code maxInactive}, stored by the engine; its secondary copy on n2. */
    private TestSession loggedIn(int maxInactive) {
        TestSession s = new TestSession(ID, clock.get());
        s.maxInactive = maxInactive;
        engine.created(s);
        engine.requestStarted(s);
        s.set("user", "alice");
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        assertNotNull(store.peek("n2", BAK), "its secondary copy");
        return s;
    }

    private void logout(TestSession s) {
        s.active = false;
        engine.expired(s);
        assertTrue(engine.awaitIdle(5000));
    }

    /**
     * The engine: a copy this Tomcat could not delete at the end is not read while the delete waits, even from a node
     * that answers again before this Tomcat was told (no recovery yet, so no retry).
     */
    @Test
    void theEngineDoesNotServeACopyWhoseDeleteWaitsAndDeletesItWhenTheNodeIsBack() {
        startEngine();
        TestSession s = loggedIn(60);
        store.disconnect("n2");
        logout(s);
        assertEquals(1, engine.pendingSecondaryDeletes());
        store.disconnected.remove("n2"); // answers again, this Tomcat not told yet
        store.disconnect("n1");
        LoadResult r = engine.load(ID);
        assertFalse(r.isFound(), "the copy before the logout was served: " + r.status());
        assertNotNull(store.peek("n2", BAK), "not deleted yet (no recovery seen)");

        store.reconnect("n1"); // (else the retry's delete of the copy under the id it would have on n2 waits for n1)
        store.reconnect("n2"); // told now
        assertTrue(engine.awaitIdle(5000));
        assertEquals(0, engine.pendingSecondaryDeletes());
        assertNull(store.peek("n2", BAK), "deleted when the node was back");
    }

    /**
     * A delete that fails without a timeout (a connection reset) leaves its node available: no recovery comes to retry
     * it, so the engine's periodic housekeeping does.
     */
    @Test
    void aDeleteThatFailedWhileItsNodeStaysAvailableIsMadeByTheHousekeeping() throws Exception {
        startEngine();
        TestSession s = loggedIn(60);
        store.failOnce.add("n2/" + BAK);
        logout(s);
        assertTrue(store.failOnce.isEmpty(), "the delete failed once");
        assertTrue(engine.availableNodes().contains("n2"), "no timeout: n2 stays available");
        await("the copy on n2 deleted", () -> store.peek("n2", BAK) == null && engine.pendingSecondaryDeletes() == 0);
    }

    /**
     * Discovery removes n2 (a pod that failed its readiness: its memcached and data live on) while the delete of the
     * copy there waits, then adds it again under its id: the copy is still the session before its logout, so it is not
     * served when n1 dies, and is deleted once n2 is back.
     */
    @Test
    void aDeleteWaitingForANodeRemovedAndAddedAgainWithItsDataIsStillMade() throws Exception {
        startEngine();
        List<MemcachedNode> both = engine.nodes();
        TestSession s = loggedIn(60);
        store.disconnect("n2");
        logout(s);
        assertEquals(1, engine.pendingSecondaryDeletes());
        List<MemcachedNode> n1Only = List.of(both.stream().filter(n -> n.id().equals("n1")).findFirst().get());
        engine.changeNodes(n1Only, 0); // discovery: n2 failed its readiness
        assertEquals(1, engine.pendingSecondaryDeletes(), "kept: n2 may come back with its data");
        engine.changeNodes(both, 0);
        assertNotNull(store.peek("n2", BAK), "n2 is back with the copy");
        store.disconnect("n1");
        LoadResult r = engine.load(ID);
        assertFalse(r.isFound(), "the logged-out session came back from n2: " + r.status());
        await("the copy on n2 deleted", () -> store.peek("n2", BAK) == null);
        // the tombstone of the id S would have on n2 waited for n2 too; made now, it deletes that id's secondary
        // copies on n1, which wait for n1
        store.reconnect("n1");
        await("nothing waits", () -> engine.pendingSecondaryDeletes() == 0 && engine.pendingDeletes() == 0);
    }

    /**
     * A session that never times out (maxInactiveInterval <= 0) has copies that never expire (TTL 0): the delete of
     * one waits on past any day (bounded by {@link SecondaryDeletes#MAX} only).
     */
    @Test
    void theDeleteOfACopyThatNeverExpiresWaitsOnAfterADay() throws Exception {
        startEngine();
        TestSession s = loggedIn(-1);
        store.disconnect("n2");
        logout(s);
        assertEquals(1, engine.pendingSecondaryDeletes());
        assertTrue(engine.endedIds() > 0, "the id it would have on n2 is remembered as ended");
        clock.addAndGet(TimeUnit.DAYS.toMillis(3));
        await("a housekeeping after the clock moved (it forgets the ended ids)", () -> engine.endedIds() == 0);
        assertEquals(1, engine.pendingSecondaryDeletes(), "the copy on n2 never expires: its delete still waits");
        assertNotNull(store.peek("n2", BAK));
    }

    /** A delete waits as long as the copy can live: its timeout plus slack from the end, or forever (TTL 0). */
    @Test
    void aCopyLivesItsTimeoutPlusSlackOrNeverExpires() {
        SessionEnds ends = new SessionEnds(base, null, new WaitingDeletes(base));
        long now = clock.get();
        assertEquals(now + (60 + Slack.seconds(60)) * 1000L, ends.copiesLiveUntil(60, now));
        assertEquals(WaitingDeletes.NEVER, ends.copiesLiveUntil(0, now));
        assertEquals(WaitingDeletes.NEVER, ends.copiesLiveUntil(-1, now));
    }
}
