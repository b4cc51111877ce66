package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.codec.BlobCodec;
import io.msm.codec.SessionData;
import io.msm.config.MsmConfig;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.testing.TestTranscoderFactory;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine's decisions (what to write, when to touch, coalescing, outages) on a fake store and a fake clock. */
class SessionEngineTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final java.util.concurrent.atomic.AtomicInteger ids = new java.util.concurrent.atomic.AtomicInteger();
    private FakeStore store;
    private SessionEngine engine;
    private final java.util.List<TestSession> residents = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.List<ManagedSession> lost = new java.util.concurrent.CopyOnWriteArrayList<>();

    private SessionEngine engine(String... attributes) {
        MsmConfig.Builder b = FakeStore.twoNodes()
                .set(MsmConfig.BACKUP_THREAD_COUNT, "2");
        for (int i = 0; i < attributes.length; i += 2) {
            b.set(attributes[i], attributes[i + 1]);
        }
        MsmConfig config = b.build(getClass().getClassLoader());
        engine = SessionEngine.start(config, new EngineContext("/test", getClass().getClassLoader(), "tc1", "p_",
                clock::get, this::residents).onLost(s -> {
                    lost.add(s);
                    residents.remove(s);
                }), listener -> store = new FakeStore(clock::get, listener));
        return engine;
    }

    /** While set, a backup thread asking for the residents counts down the first latch and waits for the second. */
    private volatile CountDownLatch[] residentsGate;
    /** How often a backup thread asked for the residents: once per pass over them after a node's return. */
    private final java.util.concurrent.atomic.AtomicInteger residentPasses =
            new java.util.concurrent.atomic.AtomicInteger();

    private java.util.List<TestSession> residents() {
        if (!Thread.currentThread().getName().startsWith("msm-backup-")) {
            return residents;
        }
        residentPasses.incrementAndGet();
        CountDownLatch[] gate = residentsGate;
        if (gate != null) {
            gate[0].countDown();
            try {
                gate[1].await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return residents;
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private TestSession newSession(String nodeId) {
        TestSession s = new TestSession("ABC" + ids.incrementAndGet() + "-" + nodeId + ".tc1", clock.get());
        engine.created(s);
        return s;
    }

    /** One request: start, body, end. */
    private void request(TestSession s, Runnable body) {
        engine.requestStarted(s);
        body.run();
        engine.requestEnded(s);
    }

    /** Occupies the engine's scheduled thread until the returned latch is counted down (at most 10 s). */
    private java.util.concurrent.CountDownLatch holdTheScheduledThread() {
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        engine.base().threads.prober().execute(() -> {
            try {
                held.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return held;
    }

    private void idle() {
        assertTrue(engine.awaitIdle(5000), "backups did not finish");
    }

    private Map<String, Object> stored(TestSession s, String node) {
        byte[] blob = store.peek(node, "p_" + s.id());
        assertNotNull(blob, "nothing stored for " + s.id());
        SessionData d = BlobCodec.decode(blob);
        Map<String, Object> attributes = new java.util.LinkedHashMap<>();
        for (int i = 0; i < d.attributeChunks().size(); i++) {
            byte[] chunk = d.attributeChunks().get(i);
            attributes.putAll(i == d.plainChunk() ? io.msm.codec.PlainValues.decode(chunk)
                    : new TestTranscoderFactory().createTranscoder(null).deserialize(chunk));
        }
        return attributes;
    }

    @Test
    void newSessionIsStoredOnceWhenItsFirstRequestEnds() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        assertEquals(1, store.sets.get());
        assertEquals(1, store.calls());
        assertEquals(Map.of("count", 1), stored(s, "n1"));
        assertEquals(1, engine.statistics().get(Counter.BACKUPS));
    }

    @Test
    void requestThatTouchesNoAttributeCostsNoCall() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        int before = store.calls();
        request(s, () -> { });
        idle();
        assertEquals(before, store.calls());
        assertEquals(0, engine.statistics().get(Counter.BACKUPS_UNCHANGED), "not even serialized");
    }

    @Test
    void readOnlyRequestIsSerializedButNotWritten() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        int before = store.calls();
        request(s, () -> s.state().attributeAccessed());
        idle();
        assertEquals(before, store.calls());
        assertEquals(1, engine.statistics().get(Counter.BACKUPS_UNCHANGED));
    }

    @Test
    void aLargeSessionIsStoredInChunksAndAChangeInPlaceByAConcurrentRequestIsNotLost() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> {
            s.set("history", new StringBuilder("h".repeat(AttributeChunker.CHUNKED_SESSION_BYTES)));
            s.set("count", 0);
        });
        idle();
        request(s, () -> s.set("count", 1));
        idle();
        assertEquals(2, BlobCodec.decode(store.peek("n1", "p_" + s.id())).attributeChunks().size());
        // request A reads the history; request B changes the count and ends (a write), then A appends to the history
        engine.requestStarted(s);
        StringBuilder history = (StringBuilder) s.get("history");
        request(s, () -> s.set("count", 2));
        idle();
        history.append("A");
        engine.requestEnded(s);
        idle();
        request(s, () -> s.set("count", 3));
        idle();
        Map<String, Object> stored = stored(s, "n1");
        assertEquals(3, stored.get("count"));
        assertTrue(stored.get("history").toString().endsWith("hA"), "the append of request A was lost");
    }

    @Test
    void aChunkedSessionLoadsWholeAndAChunkNotHoldingTheAttributeItNamesIsRefused() {
        engine();
        TestSession s = newSession("n1");
        String history = "h".repeat(AttributeChunker.CHUNKED_SESSION_BYTES);
        request(s, () -> {
            s.set("history", new StringBuilder(history));
            s.set("count", 0);
        });
        idle();
        request(s, () -> s.set("count", 1));
        idle();
        LoadResult loaded = engine.load(s.id());
        assertEquals(1, loaded.attributes().get("count"));
        assertEquals(history, loaded.attributes().get("history").toString());

        SessionData stored = BlobCodec.decode(store.peek("n1", "p_" + s.id()));
        assertEquals(java.util.Arrays.asList("history", null), stored.attributeChunkNames());
        byte[] misnamed = BlobCodec.encode(stored.toBuilder().id("MIS-n1.tc1").attributeChunks(
                stored.attributeChunks(), java.util.Arrays.asList("count", null)).build());
        store.put("n1", "p_MIS-n1.tc1", misnamed);
        LoadResult refused = engine.load("MIS-n1.tc1");
        assertEquals(LoadResult.Status.UNREADABLE, refused.status());
        assertTrue(refused.reason().contains("chunk named count holds [history]"), refused.reason());
    }

    @Test
    void changeWhileABackupRunsIsWrittenAfterIt() throws Exception {
        engine();
        TestSession s = newSession("n1");
        store.setGate = new CountDownLatch(1);
        store.setEntered = new CountDownLatch(1);
        request(s, () -> s.set("count", 1));
        assertTrue(store.setEntered.await(5, TimeUnit.SECONDS));
        // the first write is stuck in memcached; two more requests change the session meanwhile
        request(s, () -> s.set("count", 2));
        request(s, () -> s.set("count", 3));
        store.setGate.countDown();
        idle();
        assertEquals(Map.of("count", 3), stored(s, "n1"), "the final state must be stored");
        assertEquals(2, store.sets.get(), "the two later changes are coalesced into one write");
        assertEquals(2, engine.statistics().get(Counter.BACKUPS_COALESCED));
    }

    @Test
    void syncModeWritesBeforeTheRequestEnds() {
        engine(MsmConfig.SESSION_BACKUP_ASYNC, "false");
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 7));
        assertEquals(1, store.sets.get(), "written on the request thread");
        assertEquals(Map.of("count", 7), stored(s, "n1"));
    }

    @Test
    void flagsSurviveUntilTheLastConcurrentRequestEnds() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        engine.requestStarted(s); // A: reads an object it will change later
        s.state().attributeAccessed();
        engine.requestStarted(s); // B: a request that ends first
        engine.requestEnded(s);
        idle();
        s.attributes.put("count", 2); // A changes the object in place, without setAttribute
        engine.requestEnded(s);
        idle();
        assertEquals(Map.of("count", 2), stored(s, "n1"));
    }

    @Test
    void onlyReadSessionStaysInTheStoreAndIdleOneExpires() {
        engine();
        TestSession s = newSession("n1");
        s.maxInactive = 60; // stored for 60 + 6 s slack
        request(s, () -> s.set("count", 1));
        idle();
        for (int i = 0; i < 40; i++) { // 200 s of read-only requests every 5 s
            clock.addAndGet(5000);
            s.thisAccessed = clock.get();
            request(s, () -> s.state().attributeAccessed());
            idle();
            assertNotNull(store.peek("n1", "p_" + s.id()), "expired from the store at " + i * 5 + " s");
        }
        assertEquals(1, store.sets.get(), "never rewritten");
        // a touch buys 6 s of slack; 5 s later the copy would outlive the session by 1 s, less than the 2 s the
        // timeout watch needs to see it timed out: every read touches
        assertEquals(40, engine.statistics().get(Counter.TOUCHES));
        clock.addAndGet(67_000);
        assertNull(store.peek("n1", "p_" + s.id()), "idle past maxInactiveInterval + slack: gone");
    }

    @Test
    void touchIsSkippedWhileTheStoredCopyOutlivesTheSession() {
        engine();
        TestSession s = newSession("n1");
        s.maxInactive = 1800; // slack 60 s
        request(s, () -> s.set("count", 1));
        idle();
        clock.addAndGet(30_000);
        request(s, () -> s.state().attributeAccessed());
        idle();
        assertEquals(0, store.touches.get());
        clock.addAndGet(31_000);
        request(s, () -> { });
        idle();
        assertEquals(1, store.touches.get(), "a request that only reads also refreshes");
    }

    @Test
    void touchOfALostCopyStoresTheSessionAgain() {
        engine();
        TestSession s = newSession("n1");
        s.maxInactive = 20;
        request(s, () -> s.set("count", 1));
        idle();
        store.delete("n1", "p_" + s.id(), 0); // evicted or memcached restarted
        clock.addAndGet(10_000);
        request(s, () -> { });
        idle();
        assertEquals(Map.of("count", 1), stored(s, "n1"));
    }

    @Test
    void sessionChangedWhileItsNodeIsDownIsStoredWhenItReturns() {
        engine();
        TestSession s = newSession("n1");
        store.disconnect("n1");
        request(s, () -> s.set("count", 1));
        idle();
        assertEquals(0, store.sets.get(), "an unavailable node is not even called");
        assertEquals(1, engine.unsavedSessions());
        store.reconnect("n1");
        idle();
        assertEquals(Map.of("count", 1), stored(s, "n1"));
        assertEquals(0, engine.unsavedSessions());
    }

    @Test
    void nodeThatReturnsEmptyGetsEveryUnchangedSessionBack() {
        engine();
        TestSession changed = newSession("n1");
        TestSession unchanged = newSession("n1");
        TestSession elsewhere = newSession("n2");
        residents.addAll(java.util.List.of(changed, unchanged, elsewhere));
        for (TestSession s : residents) {
            request(s, () -> s.set("count", 1));
        }
        idle();
        store.disconnect("n1");
        store.wipe("n1"); // memcached restarts empty
        request(changed, () -> changed.set("count", 2));
        idle();
        int callsBefore = store.calls();
        store.reconnect("n1");
        idle();
        assertEquals(Map.of("count", 2), stored(changed, "n1"), "changed meanwhile: stored");
        assertEquals(Map.of("count", 1), stored(unchanged, "n1"), "unchanged but lost: stored again");
        assertEquals(callsBefore + 3, store.calls(), "one set for the changed session, a touch and a set "
                + "for the lost one, nothing for n2's session");
    }

    /** Sessions on {@code node} this Tomcat holds, each stored there. */
    private java.util.List<TestSession> heldOn(String node, int count) {
        java.util.List<TestSession> held = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            TestSession s = newSession(node);
            residents.add(s);
            held.add(s);
            request(s, () -> s.set("count", 1));
        }
        idle();
        return held;
    }

    @Test
    void aNodeThatComesAndGoesWhileTheBackupThreadsAreBusyGetsOnePassNotOnePerReturn() throws Exception {
        engine();
        java.util.List<TestSession> held = heldOn("n1", 10);
        store.wipe("n1"); // it restarted empty
        CountDownLatch busy = new CountDownLatch(1);
        for (int i = 0; i < engine.base().config.backupThreadCount(); i++) {
            engine.base().threads.execute(() -> {
                try {
                    busy.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        int passes = residentPasses.get();
        for (int i = 0; i < 50; i++) {
            store.disconnect("n1");
            store.reconnect("n1");
        }
        busy.countDown();
        idle();
        assertEquals(passes + 1, residentPasses.get(), "one pass for n1's 50 returns while none could start");
        for (TestSession s : held) {
            assertEquals(Map.of("count", 1), stored(s, "n1"), "the one pass stored it again");
        }
    }

    @Test
    void aNodeThatReturnsWhileItsPassRunsGetsAnotherPass() throws Exception {
        engine();
        java.util.List<TestSession> held = heldOn("n1", 3);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        residentsGate = new CountDownLatch[] {entered, release};
        store.disconnect("n1");
        store.reconnect("n1");
        assertTrue(entered.await(10, TimeUnit.SECONDS), "the first return's pass runs");
        residentsGate = null;
        int passes = residentPasses.get();
        store.disconnect("n1");
        store.wipe("n1"); // it restarted empty while the first pass runs
        store.reconnect("n1");
        release.countDown();
        idle();
        assertEquals(passes + 1, residentPasses.get(), "a pass that started does not cover a later return");
        for (TestSession s : held) {
            assertEquals(Map.of("count", 1), stored(s, "n1"), "the second return's pass stored it again");
        }
    }

    @Test
    void aNodeRemovedJustAfterItsStartCheckedItIsStillThereIsForgottenAndNeverReportedOn() throws Exception {
        engine(MsmConfig.OPERATION_TIMEOUT, "100");
        int passes = residentPasses.get();
        CountDownLatch checked = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean();
        Thread[] remover = new Thread[1];
        engine.base().health.added("n3", id -> { // n3 was added while running; its start checks it is still there
            if (gone.getAndSet(true)) {
                return false; // asked again: the node list has no n3 any more
            }
            remover[0] = new Thread(() -> engine.base().health.removed("n3"), "remover"); // ... and it goes now
            remover[0].start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (remover[0].isAlive() && remover[0].getState() != Thread.State.BLOCKED
                    && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // the removal is done, or waits for the start to end
            }
            checked.countDown();
            return true;
        });
        assertTrue(checked.await(10, TimeUnit.SECONDS));
        remover[0].join(10_000);
        engine.base().threads.prober().submit(() -> { }).get(10, TimeUnit.SECONDS); // the start's task has ended
        idle();
        store.disconnect("n3"); // (the store sends none after it removed a node: here they show what is kept of n3)
        store.reconnect("n3");
        idle();
        assertEquals(passes, residentPasses.get(), "a removed node gets no pass, and is never reported available");
    }

    @Test
    void timedOutNodeIsSkippedUntilAProbeAnswers() throws Exception {
        engine();
        TestSession s = newSession("n1");
        store.timingOut.add("n1");
        request(s, () -> s.set("count", 1));
        idle();
        assertEquals(java.util.List.of("n2"), engine.availableNodes());
        int calls = store.sets.get();
        request(s, () -> s.set("count", 2));
        idle();
        assertEquals(calls, store.sets.get(), "a suspect node is skipped without a call");
        store.timingOut.remove("n1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (engine.unsavedSessions() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        idle();
        assertEquals(java.util.List.of("n1", "n2"), engine.availableNodes());
        assertEquals(Map.of("count", 2), stored(s, "n1"), "the probe brought n1 back and the change was stored");
    }

    @Test
    void newIdIsStoredBeforeTheOldKeyIsDeleted() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        String oldId = s.id;
        s.id = "XYZ-n2.tc1";
        s.state().metadataChanged();
        request(s, () -> { });
        idle();
        assertEquals(Map.of("count", 1), stored(s, "n2"));
        assertNull(store.peek("n1", "p_" + oldId));
    }

    /** What another Tomcat (tc2) does when it takes over the session stored as {@code id}: leaves a notice for tc1. */
    private void takenOverByTc2(String id) {
        long hash = BlobCodec.copyHash(store.peek("n1", "p_" + id));
        new TakeoverNotices(store, "p_", clock::get).announce("tc1", id, hash, "n2", 100);
    }

    @Test
    void aSessionAnotherTomcatTookOverIsDroppedAndNeverWrittenOrLoadedHereAgain() {
        engine();
        TestSession s = newSession("n1");
        residents.add(s);
        request(s, () -> s.set("count", 1));
        idle();
        takenOverByTc2(s.id());
        engine.checkTakeovers();
        assertEquals(java.util.List.of(s), lost, "the container is told to drop it");
        assertEquals(java.util.List.of(), residents);
        int sets = store.sets.get();
        request(s, () -> s.set("count", 99)); // a request that still held the dropped copy
        s.active = false;
        engine.expired(s);
        idle();
        assertEquals(sets, store.sets.get(), "never written again");
        assertEquals(Map.of("count", 1), stored(s, "n1"), "nor deleted: the other Tomcat deletes the key");
        assertEquals(LoadResult.Status.NOT_FOUND, engine.load(s.id()).status(), "and its id not loaded again here");
        engine.checkTakeovers();
        assertEquals(1, lost.size(), "a notice is read once");
    }

    @Test
    void aNoticeForAnOlderCopyLeavesTheSessionTakenBackSince() {
        engine();
        TestSession s = newSession("n1");
        residents.add(s);
        request(s, () -> s.set("count", 1));
        idle();
        takenOverByTc2(s.id());
        // this Tomcat took the session back (a new session object, loaded from the other Tomcat's copy) before it
        // read the notice
        residents.remove(s);
        TestSession back = new TestSession(s.id(), clock.get());
        residents.add(back);
        request(back, () -> back.set("count", 3));
        idle();
        TestSession other = newSession("n1");
        residents.add(other);
        request(other, () -> other.set("count", 1));
        idle();
        engine.checkTakeovers();
        assertEquals(java.util.List.of(), lost, "neither the session taken back nor one no notice names");
    }

    @Test
    void aCopyWrittenAgainAfterItWasTakenOverIsDroppedAndItsKeyDeleted() {
        engine();
        TestSession s = newSession("n1");
        residents.add(s);
        request(s, () -> s.set("count", 1));
        idle();
        takenOverByTc2(s.id());
        store.delete("n1", "p_" + s.id(), 100); // the other Tomcat deletes the key it took over
        request(s, () -> s.set("count", 2)); // a late request here writes the key again
        idle();
        engine.checkTakeovers();
        assertEquals(java.util.List.of(s), lost);
        assertNull(store.peek("n1", "p_" + s.id()), "the key this Tomcat wrote again is deleted");
    }

    @Test
    void takeoverNoticesAreParsedStrictly() {
        String token = new TakeoverNotices(null, "p_", clock::get).token("ABC-n1.tc1");
        assertEquals(32, token.length());
        java.util.List<TakeoverNotices.Notice> notices = TakeoverNotices.parse((token + " ff\nnot a notice\n" + token
                + " 1ffffffffffffffff\n" + token.substring(1) + " 1\n" + token + " zz\n" + token + " -1\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(1, notices.size());
        assertEquals(255, notices.get(0).hash);
    }

    @Test
    void aLoginsNewIdLeavesTheIdsTheSessionHadDeadHere() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("user", "anonymous"));
        idle();
        String before = s.id();
        s.id = "NEW-n1.tc1";
        engine.idsAbandoned(java.util.List.of(before, "OLD-n2.tc2"), s.maxInactive);
        assertEquals(LoadResult.Status.NOT_FOUND, engine.load(before).status());
        assertEquals(LoadResult.Status.NOT_FOUND, engine.load("OLD-n2.tc2").status());
    }

    @Test
    void expiredSessionIsDeleted() {
        engine(MsmConfig.SESSION_BACKUP_ASYNC, "false");
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        s.active = false;
        engine.expired(s);
        assertNull(store.peek("n1", "p_" + s.id()), "deleted before expired() returns in sync mode");
        assertEquals(1, engine.statistics().get(Counter.DELETES));
    }

    @Test
    void relocationFollowsNodeAvailabilityAndJvmRoute() {
        engine();
        assertNull(engine.relocate("ABC-n1.tc1"));
        assertEquals("ABC-n1.tc1", engine.relocate("ABC-n1.tc2"));
        assertEquals(0, engine.statistics().get(Counter.TOMCAT_FAILOVERS), "counted only once applied");
        engine.relocated("ABC-n1.tc2", "ABC-n1.tc1");
        assertEquals(1, engine.statistics().get(Counter.TOMCAT_FAILOVERS));
        store.disconnect("n1");
        assertEquals("ABC-n2.tc1", engine.relocate("ABC-n1.tc1"));
        engine.relocated("ABC-n1.tc1", "ABC-n2.tc1");
        assertEquals(1, engine.statistics().get(Counter.NODE_FAILOVERS));
        assertNull(engine.relocate("not an id"));
    }

    @Test
    void aResidentSessionsRelocationIsDecidedOnItsCurrentId() {
        engine();
        TestSession s = new TestSession("ABC-n1.tc2", clock.get());
        assertEquals("ABC-n1.tc1", engine.relocate(s, "ABC-n1.tc2"), "the jvmRoute is this Tomcat's");
        assertNull(engine.relocate(s, "ABC-n1.tc1"), "the id it was moved to is parsed anew");
        store.disconnect("n1");
        assertEquals("ABC-n2.tc1", engine.relocate(s, "ABC-n1.tc1"), "availability is asked on every call");
        assertNull(engine.relocate(s, "not an id"));
        assertEquals("ABC-n2.tc1", engine.relocate(s, "ABC-n1.tc1"), "and the id parsed again after a bad one");
    }

    @Test
    void endedSessionIsNeverLoadedAgainWhileItsDeleteIsPending() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("user", "alice"));
        idle();
        store.deleteGate = new CountDownLatch(1); // the asynchronous delete is slow
        s.active = false;
        engine.expired(s);
        int gets = store.gets.get();
        assertEquals(LoadResult.Status.NOT_FOUND, engine.load(s.id()).status(), "a logout sticks at once");
        assertEquals(gets, store.gets.get(), "without asking memcached");
        store.deleteGate.countDown();
        idle();
        assertNull(store.peek("n1", "p_" + s.id()));
    }

    @Test
    void deleteWhileTheNodeIsDownIsRetriedWhenItReturns() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("user", "alice"));
        idle();
        store.disconnect("n1");
        s.active = false;
        engine.expired(s);
        idle();
        assertNotNull(store.peek("n1", "p_" + s.id()), "could not be deleted yet");
        store.reconnect("n1");
        idle();
        assertNull(store.peek("n1", "p_" + s.id()), "deleted once n1 returned");
    }

    @Test
    void copyWrittenByATimedOutSetIsDeletedOnceTheSessionIsStoredElsewhere() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        String firstId = s.id;
        s.id = "XYZ-n2.tc1"; // moved to n2, whose write times out but lands anyway
        s.state().metadataChanged();
        store.timeoutsLeft.set(1);
        request(s, () -> { });
        idle();
        store.put("n2", "p_XYZ-n2.tc1", store.peek("n1", "p_" + firstId)); // what the timed-out set left
        s.id = "QRS-n1.tc1";
        s.state().metadataChanged();
        request(s, () -> { });
        idle();
        assertNotNull(store.peek("n1", "p_QRS-n1.tc1"));
        assertNotNull(store.peek("n2", "p_XYZ-n2.tc1"), "n2 timed out: suspect, so its delete waits");
        assertEquals(1, engine.pendingDeletes());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (engine.pendingDeletes() > 0 && System.nanoTime() < deadline) {
            Thread.yield();
        }
        idle();
        assertNull(store.peek("n2", "p_XYZ-n2.tc1"), "the copy of the timed-out write is removed");
        assertNull(store.peek("n1", "p_" + firstId), "and the first copy");
    }

    @Test
    void synchronousModeOnlyWritesOnTheRequestThread() {
        engine(MsmConfig.SESSION_BACKUP_ASYNC, "false");
        TestSession s = newSession("n1");
        s.maxInactive = 20; // slack 3 s
        request(s, () -> s.set("count", 1));
        clock.addAndGet(10_000);
        request(s, () -> s.state().attributeAccessed()); // read only: needs a touch
        idle(); // (a write coalesced with it would make the touch unnecessary)
        s.id = "NEW-n2.tc1"; // and an id change: the old key must go
        s.state().metadataChanged();
        request(s, () -> { });
        idle();
        assertEquals(1, store.touches.get());
        assertEquals(1, store.deletes.get());
        String test = Thread.currentThread().getName();
        assertTrue(store.touchAndDeleteThreads.stream().noneMatch(test::equals), store.touchAndDeleteThreads
                .toString());
    }

    @Test
    void aNodeThatDoesNotAnswerTheTakeoverReadIsSuspectAtOnceNotAfterAProbe() throws Exception {
        engine();
        java.util.concurrent.CountDownLatch proberHeld = holdTheScheduledThread(); // a probe queued meanwhile waits
        try {
            store.timingOut.add("n1");
            // the read a request naming another Tomcat waits for: n1 had (all but the first microseconds of) a
            // whole operationTimeout to answer, so the request's load that follows must not wait for it again
            engine.checkTakeovers();
            assertEquals(java.util.List.of("n2"), engine.availableNodes());
        } finally {
            proberHeld.countDown();
        }
    }

    @Test
    void shortSynchronousTimeoutOfAHealthyNodeIsNotAnOutage() throws Exception {
        engine(MsmConfig.SESSION_BACKUP_ASYNC, "false");
        TestSession s = newSession("n1");
        store.timeoutsLeft.set(1); // one hiccup
        request(s, () -> s.set("count", 1));
        assertTrue(store.probesAnswered.tryAcquire(3, TimeUnit.SECONDS), "a probe at operationTimeout follows");
        engine.base().threads.prober().submit(() -> { }).get(3, TimeUnit.SECONDS); // its verdict taken, its task done
        assertEquals(java.util.List.of("n1", "n2"), engine.availableNodes());
        store.timingOut.add("n1"); // a real outage: the probe fails too
        request(s, () -> s.set("count", 2));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (engine.availableNodes().contains("n1") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(java.util.List.of("n2"), engine.availableNodes());
    }

    @Test
    void lockIsExclusiveWaitsBoundedAndIsReleasedOnlyByItsOwner() {
        engine(MsmConfig.STICKY, "false", MsmConfig.LOCKING_MODE, "all", MsmConfig.OPERATION_TIMEOUT, "150");
        SessionLock first = engine.lock("ABC-n1");
        assertNotNull(first);
        long start = System.nanoTime();
        assertNull(engine.lock("ABC-n1"), "held by another owner");
        long waited = (System.nanoTime() - start) / 1_000_000;
        assertTrue(waited >= 100 && waited < 400, "backed off until operationTimeout: " + waited + " ms");
        assertEquals(1, engine.statistics().get(Counter.LOCK_TIMEOUTS));
        engine.unlock(first);
        SessionLock second = engine.lock("ABC-n1");
        assertNotNull(second, "free after its owner released it");
        // the second owner's lock expires (lockExpiration) and a third owner takes it
        clock.addAndGet(6000);
        SessionLock third = engine.lock("ABC-n1");
        assertNotNull(third);
        engine.unlock(second); // late: must not remove the third owner's lock
        assertNotNull(store.peek("n1", "lock:p_ABC-n1"));
        engine.unlock(third);
        assertNull(store.peek("n1", "lock:p_ABC-n1"));
    }

    @Test
    void lockingModesDecideWhichRequestsLock() {
        engine(MsmConfig.STICKY, "false", MsmConfig.LOCKING_MODE, "auto");
        assertTrue(engine.needsLock("/cart"));
        for (int i = 0; i < LockingPaths.UNCHANGED_TO_LEARN; i++) {
            engine.learn("/cart", false);
        }
        assertFalse(engine.needsLock("/cart"), "seen to only read the session");
        engine.learn("/cart", true);
        assertTrue(engine.needsLock("/cart"), "a write makes it lock again");
        engine.close();
        engine(MsmConfig.STICKY, "false", MsmConfig.LOCKING_MODE, "uriPattern:/cart/.*");
        assertTrue(engine.needsLock("/cart/add"));
        assertFalse(engine.needsLock("/home"));
        engine.close();
        engine(MsmConfig.STICKY, "false");
        assertFalse(engine.needsLock("/cart/add"), "none");
        engine.close();
        engine(MsmConfig.LOCKING_MODE, "all");
        assertFalse(engine.needsLock("/cart/add"), "sticky mode never locks");
    }

    @Test
    void autoLockingFreesAPathOnlyAfterManyUnchangedRequestsAndNeverAfterItChangedTheSession() {
        engine(MsmConfig.STICKY, "false", MsmConfig.LOCKING_MODE, "auto");
        for (int i = 1; i < 20; i++) {
            engine.learn("/page", false);
            assertTrue(engine.needsLock("/page"), "still locked after " + i + " unchanged requests");
        }
        engine.learn("/page", false);
        assertFalse(engine.needsLock("/page"), "20 unchanged requests in a row: read-only");
        engine.learn("/cart", false);
        engine.learn("/cart", true); // a request on it changed the session once
        for (int i = 0; i < 100; i++) {
            engine.learn("/cart", false);
        }
        assertTrue(engine.needsLock("/cart"), "a path seen to change the session always locks");
        engine.learn("/page", true);
        assertTrue(engine.needsLock("/page"), "and a learned path that changes it locks again, for good");
        for (int i = 0; i < 100; i++) {
            engine.learn("/page", false);
        }
        assertTrue(engine.needsLock("/page"));
        for (int i = 0; i < 30_000; i++) { // memory stays bounded: at most 10,000 paths are tracked
            engine.learn("/p" + i, false);
        }
        assertTrue(engine.needsLock("/p29999"));
    }

    @Test
    void nonStickyWriteNeverReplacesTheTombstoneOfASessionEndedElsewhere() {
        engine(MsmConfig.STICKY, "false");
        TestSession s = newSession("n1");
        request(s, () -> s.set("user", "alice"));
        idle();
        TestSession copy = new TestSession(s.id(), clock.get()); // a request that loaded it here ...
        LoadResult r = engine.load(s.id());
        copy.attributes.putAll(r.attributes());
        engine.loaded(copy, r);
        engine.requestStarted(copy);
        store.put("n1", "p_" + s.id(), Tombstones.VALUE); // ... while another Tomcat ended the session
        store.put("n2", "bak:p_" + s.id(), new byte[0]);
        copy.set("cart", "full");
        engine.requestEnded(copy);
        idle();
        assertArrayEquals(Tombstones.VALUE, store.peek("n1", "p_" + s.id()), "the tombstone stays");
        assertNull(store.peek("n2", "bak:p_" + s.id()), "and the secondary copy the write sent is deleted");
        assertEquals(LoadResult.Status.NOT_FOUND, engine.load(s.id()).status());
    }

    @Test
    void nonStickyEndedSessionLeavesATombstoneAndNoSecondaryCopyEvenWithItsNodeDown() {
        engine(MsmConfig.STICKY, "false");
        TestSession s = newSession("n1");
        request(s, () -> s.set("user", "alice"));
        idle();
        assertNotNull(store.peek("n2", "bak:p_" + s.id()));
        TestSession t = newSession("n2");
        request(t, () -> t.set("user", "bob"));
        idle();
        s.active = false;
        engine.expired(s);
        assertArrayEquals(Tombstones.VALUE, store.peek("n1", "p_" + s.id()), "a tombstone, at once");
        assertNull(store.peek("n2", "bak:p_" + s.id()));
        store.disconnect("n2"); // t's node is down when it ends: its copy on n1 goes all the same
        assertNotNull(store.peek("n1", "bak:p_" + t.id()));
        t.active = false;
        engine.expired(t);
        assertNull(store.peek("n1", "bak:p_" + t.id()), "no secondary copy left to read while n2 is down");
        assertEquals(1, engine.pendingDeletes());
    }

    @Test
    void nonStickyIdGivenUpForANewOneIsEndedBeforeTheResponse() {
        engine(MsmConfig.STICKY, "false");
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        String preLogin = s.id;
        s.id = "NEWRANDOM-n1.tc1"; // a login's changeSessionId
        s.state().metadataChanged();
        engine.requestStarted(s);
        engine.requestEnded(s);
        assertArrayEquals(Tombstones.VALUE, store.peek("n1", "p_" + preLogin), "when the request ends");
        assertEquals(LoadResult.Status.NOT_FOUND, engine.load(preLogin).status());
    }

    @Test
    void endedSessionIsNotKeptAsUnsaved() {
        engine();
        TestSession s = newSession("n1");
        store.disconnect("n1");
        request(s, () -> s.set("count", 1));
        idle();
        assertEquals(1, engine.unsavedSessions());
        s.active = false;
        engine.expired(s);
        idle();
        store.reconnect("n1");
        idle();
        assertEquals(0, engine.unsavedSessions());
    }

    /** Non-sticky: this Tomcat serves a request of a session held only in memcached. */
    private TestSession loadAndServe(TestSession s, java.util.function.Consumer<TestSession> body) {
        LoadResult r = engine.load(s.id());
        assertTrue(r.isFound(), r.reason());
        TestSession copy = TestSession.loadedFrom(r, clock.get());
        engine.loaded(copy, r);
        request(copy, () -> body.accept(copy));
        idle();
        engine.released(copy); // it leaves memory, as the adapter drops it
        return copy;
    }

    @Test
    void nonStickyLoadReusesTheKeptObjectsOnlyWhileMemcachedHoldsTheirVersion() {
        engine(MsmConfig.STICKY, "false");
        TestSession s = newSession("n1");
        String name = new String("alice".toCharArray());
        request(s, () -> s.set("name", name));
        idle();
        engine.released(s);
        // the next loads here take the objects the session was written from: no deserialization
        assertSame(name, loadAndServe(s, served -> { }).attributes.get("name"));
        assertSame(name, loadAndServe(s, served -> { }).attributes.get("name"));
        assertEquals(2, engine.statistics().get(Counter.LOADS_REUSED));
        // a changing request: the objects it wrote are kept in turn
        String renamed = new String("bob".toCharArray());
        loadAndServe(s, served -> served.set("name", renamed));
        assertSame(renamed, loadAndServe(s, served -> { }).attributes.get("name"), "the version this Tomcat wrote");
        assertEquals(4, engine.statistics().get(Counter.LOADS_REUSED));
        // another Tomcat changes the session: memcached's bytes differ, so they are read, not the kept objects
        byte[] otherAttributes = new TestTranscoderFactory().createTranscoder(null).serialize(Map.of("name", "carol"));
        store.set("n1", "p_" + s.id(), 0, BlobCodec.encode(SessionData.builder(s.id()).times(1, 0, 0)
                .maxInactiveInterval(60).attributes(otherAttributes).build()), 1000);
        TestSession afterOther = loadAndServe(s, served -> { });
        assertEquals("carol", afterOther.attributes.get("name"));
        assertEquals(4, engine.statistics().get(Counter.LOADS_REUSED));
        // the objects are taken, not shared: a second load while they are in use deserializes
        LoadResult first = engine.load(s.id());
        LoadResult second = engine.load(s.id());
        assertSame(afterOther.attributes.get("name"), first.attributes().get("name"));
        assertNotSame(first.attributes().get("name"), second.attributes().get("name"));
        assertEquals("carol", second.attributes().get("name"));
    }

    @Test
    void nonStickyLoadGivesBackTheWholeSessionOnlyWhileMemcachedHoldsTheVeryBytesItLeftWith() {
        engine(MsmConfig.STICKY, "false");
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        engine.released(s);
        String key = "p_" + s.id();
        LoadResult first = engine.load(s.id());
        assertNull(first.reusedSession(), "made here, never loaded here: only its attribute objects were kept");
        TestSession loaded = TestSession.loadedFrom(first, clock.get());
        engine.loaded(loaded, first);
        request(loaded, () -> { });
        idle();
        engine.released(loaded);
        LoadResult r = engine.load(s.id());
        assertSame(loaded, r.reusedSession(), "loaded here before, and memcached holds what it left with");
        assertNull(r.data(), "nothing opened or decoded");
        engine.loaded(loaded, r);
        byte[] countOne = store.peek("n1", key);
        request(loaded, () -> loaded.set("count", 2));
        idle();
        engine.released(loaded);
        // another Tomcat's write brings older bytes back: decoded, not this Tomcat's object
        store.put("n1", key, countOne);
        LoadResult older = engine.load(s.id());
        assertNull(older.reusedSession(), "bytes the object did not leave with");
        assertEquals(1, older.attributes().get("count"));
        TestSession fresh = TestSession.loadedFrom(older, clock.get());
        engine.loaded(fresh, older);
        request(fresh, () -> fresh.set("count", 3));
        idle();
        engine.released(fresh);
        // one bit of memcached's copy flipped, same length: the copy is opened and checked as any other
        byte[] flippedBytes = store.peek("n1", key).clone();
        flippedBytes[flippedBytes.length - 1] ^= 1;
        store.put("n1", key, flippedBytes);
        assertNull(engine.load(s.id()).reusedSession());
        // the timeout watch's read of a copy (it ends a session from it) never takes the object: it decodes
        TestSession t = newSession("n1");
        request(t, () -> t.set("count", 1));
        idle();
        engine.released(t);
        LoadResult tLoad = engine.load(t.id());
        TestSession tLoaded = TestSession.loadedFrom(tLoad, clock.get());
        engine.loaded(tLoaded, tLoad);
        request(tLoaded, () -> { });
        idle();
        engine.released(tLoaded);
        LoadResult read = engine.decoder().decodeRead(t.id(), store.peek("n1", "p_" + t.id()));
        assertNotNull(read.data());
        assertNull(read.reusedSession());
    }

    @Test
    void nonStickyAfterAFailedWriteTheNextLoadHasWhatMemcachedHolds() {
        engine(MsmConfig.STICKY, "false");
        TestSession s = newSession("n1");
        request(s, () -> s.set("name", new StringBuilder("alice")));
        idle();
        engine.released(s);
        LoadResult r = engine.load(s.id()); // takes the kept StringBuilder
        TestSession copy = TestSession.loadedFrom(r, clock.get());
        engine.loaded(copy, r);
        store.disconnect("n1");
        // changed in place: the object the loaded version was read into now differs from what memcached holds
        request(copy, () -> {
            ((StringBuilder) copy.attributes.get("name")).append("-bob");
            copy.state().attributeAccessed();
        });
        idle();
        engine.released(copy);
        assertEquals("alice", engine.load(s.id()).attributes().get("name").toString(),
                "the copy memcached holds (the secondary one, n1 is down), not the unsaved object");
        store.reconnect("n1"); // the unsaved session is stored again
        idle();
        assertEquals("alice-bob", engine.load(s.id()).attributes().get("name").toString());
        assertEquals(1, engine.statistics().get(Counter.LOADS_REUSED), "only the first load reused objects");
    }

    @Test
    void aResponseLeavingEarlyStoresTheChangeAndTheRequestsEndOnlyWhatChangedAfter() {
        engine(MsmConfig.STICKY, "false");
        TestSession s = newSession("n1");
        StringBuilder name = new StringBuilder("alice");
        engine.requestStarted(s);
        s.set("name", name);
        assertTrue(engine.responseLeaving(s));
        assertEquals("alice", stored(s, "n1").get("name").toString(), "stored before the response leaves");
        int sets = store.sets.get();
        assertFalse(engine.responseLeaving(s), "a second flush with no access since stores nothing");
        s.set("count", 1);
        assertTrue(engine.responseLeaving(s), "a flush after a change stores again");
        assertEquals(1, stored(s, "n1").get("count"));
        assertEquals(sets + 2, store.sets.get());
        sets = store.sets.get();
        name.append("-bob"); // after the flush, in place, through the reference the request holds
        engine.requestEnded(s);
        idle();
        assertEquals("alice-bob", stored(s, "n1").get("name").toString(), "the request's end stores the later change");
        assertEquals(sets + 2, store.sets.get(), "primary and secondary copy once more");

        engine.requestStarted(s);
        s.state().attributeAccessed();
        sets = store.sets.get();
        assertFalse(engine.responseLeaving(s), "serialized, found unchanged: it reports no change");
        assertEquals(sets, store.sets.get());
        engine.requestEnded(s);
        idle();
        assertEquals(sets, store.sets.get(), "nothing changed after the flush: serialized, not written again");

        engine.requestStarted(s);
        assertFalse(engine.responseLeaving(s), "a request that touched nothing stores nothing");
        engine.requestEnded(s);
    }

    @Test
    void aResponseLeavingEarlyLeavesAsynchronousStickyBackupsToTheRequestsEnd() {
        engine();
        TestSession s = newSession("n1");
        engine.requestStarted(s);
        s.set("count", 1);
        assertFalse(engine.responseLeaving(s));
        assertEquals(0, store.sets.get());
        engine.requestEnded(s);
        idle();
        assertEquals(1, store.sets.get());
    }

    @Test
    void nonStickyWithoutIdleSessionCacheEveryLoadDeserializes() {
        engine(MsmConfig.STICKY, "false", MsmConfig.IDLE_SESSION_CACHE, "0");
        TestSession s = newSession("n1");
        String name = new String("alice".toCharArray());
        request(s, () -> s.set("name", name));
        idle();
        engine.released(s);
        assertNotSame(name, loadAndServe(s, served -> { }).attributes.get("name"));
        assertEquals("alice", loadAndServe(s, served -> { }).attributes.get("name"));
        assertEquals(0, engine.statistics().get(Counter.LOADS_REUSED));
    }

    @Test
    void nonStickyReadCostsOneCallAndRefreshesTheSecondaryCopyAtMostEveryHalfSlack() {
        engine(MsmConfig.STICKY, "false");
        TestSession s = newSession("n1"); // 60 s timeout: 6 s slack
        request(s, () -> s.set("count", 1));
        idle();
        assertNotNull(store.peek("n2", "bak:p_" + s.id()));
        int[] touchesPerRequest = new int[6];
        for (int i = 0; i < touchesPerRequest.length; i++) {
            clock.addAndGet(1000);
            int calls = store.calls();
            int touches = store.touches.get();
            loadAndServe(s, served -> { });
            touchesPerRequest[i] = store.touches.get() - touches;
            assertEquals(1 + touchesPerRequest[i], store.calls() - calls, "the load and the touches only");
        }
        // the load refreshes the primary copy itself; the secondary one is touched 3 s (half the slack) after it
        // was written, then 3 s later
        assertArrayEquals(new int[] {0, 0, 1, 0, 0, 1}, touchesPerRequest);
        clock.addAndGet(60_000 + 1000);
        assertNotNull(store.peek("n1", "p_" + s.id()), "the load refreshed the primary copy");
        assertNotNull(store.peek("n2", "bak:p_" + s.id()), "the secondary copy outlives the session");
        clock.addAndGet(6_000);
        assertNull(store.peek("n1", "p_" + s.id()), "idle past timeout and slack: gone");
    }

    @Test
    void nonStickyLoadOfASessionWithAnotherTimeoutTouchesItForItsOwn() {
        engine(MsmConfig.STICKY, "false");
        TestSession longer = newSession("n1");
        longer.maxInactive = 600;
        request(longer, () -> longer.set("count", 1));
        newSession("n1"); // the usual 60 s
        idle();
        clock.addAndGet(1000);
        int touches = store.touches.get();
        loadAndServe(longer, served -> { });
        // the load touches the primary copy for 600 s (its read refreshed it for the usual 60 s); the secondary copy,
        // written a second ago for 600 s, is refreshed on its own schedule
        assertEquals(1, store.touches.get() - touches, "primary copy touched for 600 s");
        clock.addAndGet(500_000);
        assertNotNull(store.peek("n1", "p_" + longer.id()));
        assertNotNull(store.peek("n2", "bak:p_" + longer.id()));
    }

    @Test
    void loadOutcomes() {
        engine();
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 5));
        idle();
        LoadResult found = engine.load(s.id());
        assertTrue(found.isFound());
        assertEquals(Map.of("count", 5), found.attributes());

        assertEquals(LoadResult.Status.NOT_FOUND, engine.load("NOPE-n1.tc1").status());
        int calls = store.calls();
        assertEquals(LoadResult.Status.INVALID_ID, engine.load("NOPE-n9.tc1").status(), "unknown node");
        assertEquals(LoadResult.Status.INVALID_ID, engine.load("garbage id").status());
        assertEquals(LoadResult.Status.INVALID_ID, engine.load("A".repeat(300) + "-n1.tc1").status(), "too long");
        assertEquals(LoadResult.Status.INVALID_ID, engine.load("AB\r\nset x-n1.tc1").status(), "control characters");
        assertEquals(calls, store.calls(), "bad ids never reach memcached");

        store.put("n1", "p_BAD-n1.tc1", "definitely not a session blob, long enough".getBytes());
        LoadResult bad = engine.load("BAD-n1.tc1");
        assertEquals(LoadResult.Status.UNREADABLE, bad.status());
        assertTrue(bad.reason().contains("magic"), bad.reason());

        store.put("n1", "p_OTHER-n1.tc1", store.peek("n1", "p_" + s.id()));
        assertEquals(LoadResult.Status.UNREADABLE, engine.load("OTHER-n1.tc1").status(),
                "a blob copied under another session's key is refused");
        assertEquals(2, engine.statistics().get(Counter.UNREADABLE_SESSIONS));

        store.disconnect("n1");
        assertEquals(LoadResult.Status.UNAVAILABLE, engine.load(s.id()).status());
    }

    @Test
    void attributeFilterDecidesWhatIsStored() {
        engine(MsmConfig.SESSION_ATTRIBUTE_FILTER, "keep.*");
        TestSession s = newSession("n1");
        request(s, () -> {
            s.set("keepMe", 1);
            s.set("dropMe", 2);
        });
        idle();
        assertEquals(Map.of("keepMe", 1), stored(s, "n1"));
    }

    @Test
    void ttlOfVeryLongTimeoutsBecomesAbsolute() {
        assertEquals(100, io.msm.store.Expiration.of(100, 0));
        assertEquals(0, io.msm.store.Expiration.of(0, 0));
        int thirtyOneDays = 31 * 24 * 3600;
        assertEquals(1_000_000 + thirtyOneDays, io.msm.store.Expiration.of(thirtyOneDays, 1_000_000_000L));
    }

    @Test
    void storedBlobCarriesTheMetadata() {
        engine();
        TestSession s = newSession("n2");
        s.maxInactive = 77;
        request(s, () -> s.set("a", "b"));
        idle();
        SessionData d = BlobCodec.decode(store.peek("n2", "p_" + s.id()));
        assertEquals(s.id(), d.id());
        assertEquals(77, d.maxInactiveInterval());
        assertArrayEquals(new TestTranscoderFactory().createTranscoder(null).serialize(Map.of("a", "b")),
                d.attributeChunks().get(0));
    }

    @Test
    void signingManagerRefusesBlobsItDidNotSign() {
        String key = java.util.Base64.getEncoder().encodeToString(new byte[32]);
        engine(MsmConfig.SESSION_PROTECTION, "sign", MsmConfig.SESSION_KEYS, key);
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 5));
        idle();
        assertEquals(Map.of("count", 5), engine.load(s.id()).attributes());
        byte[] planted = BlobCodec.encode(SessionData.builder(s.id()).attributes(new TestTranscoderFactory()
                .createTranscoder(null).serialize(Map.of("count", 6))).build());
        java.util.List<String> keys = store.keys("n1"); // with protection the key hides the id
        assertEquals(1, keys.size(), keys.toString());
        store.put("n1", keys.get(0), planted);
        LoadResult refused = engine.load(s.id());
        assertEquals(LoadResult.Status.UNREADABLE, refused.status());
        assertTrue(refused.reason().contains("neither signed nor encrypted"), refused.reason());
        assertEquals(1, engine.statistics().get(Counter.UNTRUSTED_SESSIONS));
        assertEquals(0, engine.statistics().get(Counter.UNREADABLE_SESSIONS));
    }

    @Test
    void attributeOverMaxAttributeSizeStaysInMemoryOnly() {
        engine(MsmConfig.MAX_ATTRIBUTE_SIZE, "100");
        TestSession s = newSession("n1");
        request(s, () -> {
            s.set("small", "x");
            s.set("big", "y".repeat(500));
        });
        idle();
        assertEquals(Map.of("small", "x"), stored(s, "n1"));
        assertEquals(1, engine.statistics().get(Counter.ATTRIBUTES_TOO_LARGE));
        assertEquals("y".repeat(500), s.attributes().get("big"));
        request(s, () -> s.set("small", "z"));
        idle();
        assertEquals(Map.of("small", "z"), stored(s, "n1"));
        assertEquals(2, engine.statistics().get(Counter.ATTRIBUTES_TOO_LARGE), "counted every time, logged once");
    }

    @Test
    void minBackupIntervalFoldsChangesOfAHotSessionAndStopStoresTheLastOne() throws Exception {
        engine(MsmConfig.MIN_BACKUP_INTERVAL, "400");
        TestSession s = newSession("n1");
        long first = System.nanoTime(); // the interval runs from the first backup, which comes after this
        request(s, () -> s.set("count", 1));
        idle();
        assertEquals(Map.of("count", 1), stored(s, "n1"), "a session's first backup is not delayed");
        int setsAfterFirst = store.sets.get();
        for (int i = 2; i <= 20; i++) {
            int n = i;
            request(s, () -> s.set("count", n));
        }
        Thread.sleep(50);
        Map<String, Object> meanwhile = stored(s, "n1");
        // judged only if the interval was surely not over when memcached was read (a loaded machine may take longer)
        if (System.nanoTime() - first < 380_000_000L) {
            assertEquals(Map.of("count", 1), meanwhile, "within the interval the changes wait");
        }
        idle(); // counts the delayed backup
        assertEquals(Map.of("count", 20), stored(s, "n1"));
        assertTrue(store.sets.get() - setsAfterFirst <= 2, (store.sets.get() - setsAfterFirst) + " sets for 19 changes");

        residents.add(s);
        request(s, () -> s.set("count", 21));
        engine.stop(residents);
        assertEquals(Map.of("count", 21), stored(s, "n1"), "stop stores a delayed change at once");
        engine = null;
    }

    @Test
    void aBackupDelayedByMinBackupIntervalRunsWhileTheScheduledThreadIsBusy() throws Exception {
        engine(MsmConfig.MIN_BACKUP_INTERVAL, "100");
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        // the scheduled thread probes nodes; a slow probe must not hold the backups back (it used to wake them)
        java.util.concurrent.CountDownLatch proberHeld = holdTheScheduledThread();
        try {
            request(s, () -> s.set("count", 2)); // within the interval: delayed
            idle();
            assertEquals(Map.of("count", 2), stored(s, "n1"));
        } finally {
            proberHeld.countDown();
        }
    }

    @Test
    void aStopStoresTheBackupsWaitingForALongIntervalAtOnce() throws Exception {
        engine(MsmConfig.MIN_BACKUP_INTERVAL, "60000");
        TestSession s = newSession("n1");
        request(s, () -> s.set("count", 1));
        idle();
        residents.add(s);
        request(s, () -> s.set("count", 2)); // waits up to a minute for its backup
        long start = System.nanoTime();
        engine.stop(residents);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(Map.of("count", 2), stored(s, "n1"));
        assertTrue(millis < 1500, "the stop took " + millis + " ms: it waited for the delayed run's timer");
        engine = null;
    }

    @Test
    void nonStickyLoadWithNoOtherNodeAvailableDoesNotWaitForASecondaryCopy() {
        engine(MsmConfig.STICKY, "false");
        store.disconnect("n1");
        store.disconnect("n2");
        long start = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            assertEquals(LoadResult.Status.UNAVAILABLE, engine.load("ABC" + i + "-n1").status());
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 250, "20 loads with every node down took " + millis + " ms");
        assertEquals(0, store.calls());
    }

    /** Non-sticky: what no node can take is held in memory by the adapter meanwhile; the engine bounds how many. */
    @Test
    void nonStickySessionsWaitingForANodeAreBounded() {
        engine(MsmConfig.STICKY, "false");
        store.disconnect("n1");
        store.disconnect("n2");
        int max = UnsavedSessions.NON_STICKY_MAX;
        for (int i = 0; i < max + 5; i++) {
            TestSession s = newSession(i % 2 == 0 ? "n1" : "n2");
            residents.add(s);
            request(s, () -> s.set("count", 1));
        }
        idle();
        assertEquals(max, engine.unsavedSessions());
        TestSession first = residents.get(0);
        assertTrue(engine.isUnsaved(first));
        assertFalse(engine.isUnsaved(residents.get(max + 4)), "the last ones are not kept");
        request(first, () -> first.set("count", 2));
        assertTrue(engine.isUnsaved(first), "one already kept stays kept");
    }

    /** Non-sticky: a session whose write failed after it left the container's memory is not kept forever. */
    @Test
    void nonStickyUnsavedSessionNoLongerInMemoryIsForgottenAtItsTimeout() throws Exception {
        engine(MsmConfig.STICKY, "false");
        store.disconnect("n1");
        store.disconnect("n2");
        TestSession gone = newSession("n1");
        TestSession resident = newSession("n2");
        residents.add(resident);
        for (TestSession s : java.util.List.of(gone, resident)) {
            request(s, () -> s.set("count", 1));
        }
        idle();
        assertEquals(2, engine.unsavedSessions());
        clock.addAndGet(61_000); // past their 60 s timeout
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (engine.isUnsaved(gone) && System.nanoTime() < deadline) {
            Thread.sleep(20); // the engine's periodic purge runs every 500 ms
        }
        assertFalse(engine.isUnsaved(gone), "left memory, timed out: forgotten");
        assertTrue(engine.isUnsaved(resident), "the container expires what it holds itself");
    }
}
