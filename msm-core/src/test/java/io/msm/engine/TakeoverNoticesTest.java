package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.store.MemcachedKeys;
import io.msm.store.MemcachedSessionStore;
import io.msm.testing.TestTranscoderFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Sticky takeovers between two live Tomcats (tc1, tc2) on one fake store, each step as the adapter runs it: a Tomcat
 * that took a session over leaves a notice, the other drops its copy when it reads it, and a session taken back since
 * stays.
 */
class TakeoverNoticesTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final FakeStore store = new FakeStore(clock::get, MemcachedSessionStore.ConnectionListener.NONE);
    private final List<SessionEngine> engines = new ArrayList<>();

    /** One Tomcat: its engine, the sessions it holds and those it was told it lost. */
    private final class Tomcat {
        final SessionEngine engine;
        final List<TestSession> residents = new CopyOnWriteArrayList<>();
        final List<ManagedSession> lost = new CopyOnWriteArrayList<>();

        Tomcat(String route, String prefix, String... attributes) {
            this(route, prefix, attributes, "/app");
        }

        /** A Tomcat's webapp of context path {@code context}. */
        Tomcat(String route, String prefix, String[] attributes, String context) {
            MsmConfig.Builder b = FakeStore.twoNodes()
                    .set(MsmConfig.BACKUP_THREAD_COUNT, "1");
            for (int i = 0; i < attributes.length; i += 2) {
                b.set(attributes[i], attributes[i + 1]);
            }
            engine = SessionEngine.start(b.build(getClass().getClassLoader()), new EngineContext(context,
                    getClass().getClassLoader(), route, prefix, clock::get, () -> residents).ownedBy(context).onLost(s -> {
                        lost.add(s);
                        residents.remove(s);
                    }), listener -> store);
            engines.add(engine);
        }

        /** A new session with one request that stores it. */
        TestSession create(String id) {
            TestSession s = new TestSession(id, clock.get());
            engine.created(s);
            residents.add(s);
            request(s, () -> s.set("count", 1));
            return s;
        }

        void request(TestSession s, Runnable body) {
            engine.requestStarted(s);
            body.run();
            engine.requestEnded(s);
            assertTrue(engine.awaitIdle(5000));
        }

        /**
         * A request carrying {@code formerId} (another Tomcat's route), as the adapter serves it: the notices are read
         * first, the session is loaded, moved to this Tomcat's id, the other Tomcat is told, and the request ends.
         */
        TestSession takeOver(String formerId) {
            return takeOver(formerId, true);
        }

        /** {@link #takeOver(String)}; {@code announce}: whether the notice reaches memcached now. */
        TestSession takeOver(String formerId, boolean announce) {
            engine.checkTakeovers();
            LoadResult r = engine.load(formerId);
            assertTrue(r.isFound(), formerId + ": " + r.status() + " " + r.reason());
            TestSession s = new TestSession(formerId, clock.get());
            s.attributes.putAll(r.attributes());
            engine.loaded(s, r);
            String newId = engine.relocate(formerId);
            s.id = newId;
            engine.relocated(formerId, newId);
            s.state().metadataChanged();
            if (announce) {
                engine.tookOver(formerId, r.copyHash());
            }
            residents.add(s);
            request(s, () -> { });
            return s;
        }
    }

    @AfterEach
    void close() {
        engines.forEach(SessionEngine::close);
    }

    /**
     * A key prefix that leaves no room for {@code msm:taken:<jvmRoute>} within memcached's 250 bytes: the notice list's
     * key is made to fit as every session key is, so the Tomcat that lost the session still learns it.
     */
    /** Entries name the announcing Tomcat's route; ends are entries of their own; anything else is skipped. */
    @Test
    void entriesParseWithTheirRouteAndMalformedOnesAreSkipped() {
        String token = "0123456789abcdef0123456789abcdef";
        List<TakeoverNotices.Notice> n = TakeoverNotices.parse((token + " 1f tc2\n" + token + " end tc-3\n" + token
                + " 2a\n" + token + " 1f tc 2\n" + token + " 1f t\u00e9\n" + token + " zz tc2\n" + "short 1f tc2\n"
                + token + "  tc2\n").getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(3, n.size());
        assertEquals(0x1f, n.get(0).hash);
        assertEquals("tc2", n.get(0).route);
        assertFalse(n.get(0).end);
        assertTrue(n.get(1).end);
        assertEquals("tc-3", n.get(1).route);
        assertEquals(0x2a, n.get(2).hash);
        assertEquals(null, n.get(2).route);
    }

    @Test
    void aTakeoverBehindAPrefixTooLongForTheNoticeKeyStillReachesTheOtherTomcat() {
        String prefix = "context".repeat(34) + "_"; // 239 bytes: session keys fit, msm:taken:tc1 does not
        Tomcat tc1 = new Tomcat("tc1", prefix);
        Tomcat tc2 = new Tomcat("tc2", prefix);
        TestSession s = tc1.create("ABC-n1.tc1");
        tc2.takeOver(s.id());
        tc1.engine.checkTakeovers();
        assertEquals(List.of(s), tc1.lost, "tc1 was told that tc2 took the session over");
        for (String key : store.keysSeen) {
            assertTrue(MemcachedKeys.isSendable(key), key.getBytes(StandardCharsets.UTF_8).length + " bytes: " + key);
        }
    }

    /**
     * Two webapps on each Tomcat with the default key prefix (empty: webappVersion without a version). tc2 takes a
     * session of /shop over; tc1's /blog reads its notices before tc1's /shop does. The notice is /shop's: /shop must
     * still learn it and drop its copy.
     */
    @Test
    void eachWebappOfATomcatLearnsItsOwnTakeoversWhateverWebappReadsFirst() {
        Tomcat shop1 = new Tomcat("tc1", "", new String[0], "/shop");
        Tomcat blog1 = new Tomcat("tc1", "", new String[0], "/blog");
        Tomcat shop2 = new Tomcat("tc2", "", new String[0], "/shop");
        TestSession s = shop1.create("ABC-n1.tc1");
        shop2.takeOver(s.id());
        blog1.engine.checkTakeovers();
        shop1.engine.checkTakeovers();
        assertEquals(List.of(s), shop1.lost, "/shop on tc1 was told that tc2 took its session over");
        assertEquals(List.of(), blog1.lost);
    }

    /**
     * tc1's notice list cannot be deleted after a read because other Tomcats keep appending to it (a compare-and-delete
     * that loses to an append, as when many users move off tc1 at once): the list is read again with the entries tc1
     * already acted on. tc1 took the unchanged session back meanwhile, so its copy has the very content of the copy
     * tc2 took: the old entry must not drop the session tc1 holds now.
     */
    @Test
    void aNoticeReadAgainBecauseItsListCouldNotBeDeletedLeavesTheSessionTakenBackSince() {
        Tomcat tc1 = new Tomcat("tc1", "p_");
        Tomcat tc2 = new Tomcat("tc2", "p_");
        TestSession s = tc1.create("ABC-n1.tc1");
        AtomicLong others = new AtomicLong();
        store.beforeCompareAndDelete = key -> {
            if (key.contains(TakeoverNotices.KEY + "tc1")) { // a third Tomcat takes another session from tc1
                String entry = new TakeoverNotices(store, "p_", clock::get).token("OTHER" + others.incrementAndGet()
                        + "-n1.tc1") + " 1\n";
                store.append("n1", key, entry.getBytes(StandardCharsets.US_ASCII), 100);
            }
        };
        TestSession taken = tc2.takeOver(s.id());
        tc1.engine.checkTakeovers();
        assertEquals(List.of(s), tc1.lost, "tc1 dropped its copy");

        TestSession back = tc1.takeOver(taken.id()); // unchanged by tc2: the same content tc2 took
        assertEquals("ABC-n1.tc1", back.id());
        tc1.engine.checkTakeovers();
        store.beforeCompareAndDelete = null;
        assertFalse(tc1.lost.contains(back), "the session tc1 took back was dropped by the notice it had read before");
        assertEquals(LoadResult.Status.NOT_FOUND, tc2.engine.load("ABC-n1.tc2").status(), "(control: tc2's copy went)");
    }

    /**
     * tc1 reads its notice list and deletes it; memcached deletes it but the answer does not come back in time (a
     * timeout after the command ran). The notice was read: tc1 must still drop its copy, or it serves and writes the
     * copy tc2 took for good (the list is gone, nothing says so again).
     */
    @Test
    void aNoticeWhoseListWasDeletedButTheDeleteTimedOutStillDropsTheCopy() {
        Tomcat tc1 = new Tomcat("tc1", "p_");
        Tomcat tc2 = new Tomcat("tc2", "p_");
        TestSession s = tc1.create("ABC-n1.tc1");
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        store.beforeCompareAndDelete = key -> {
            if (key.contains(TakeoverNotices.KEY + "tc1") && first.getAndSet(false)) {
                store.delete("n1", key, 100); // memcached ran the delete ...
                throw io.msm.store.StoreException.timeout("delete", key, "n1", 100, "fake: the answer was late");
            }
        };
        tc2.takeOver(s.id());
        for (int i = 0; i < 3; i++) {
            tc1.engine.checkTakeovers();
        }
        store.beforeCompareAndDelete = null;
        assertFalse(first.get(), "(the list was read and deleted)");
        assertEquals(List.of(s), tc1.lost, "tc1 still holds the copy tc2 took over");
    }

    /**
     * The same without the failed delete: the notice reaches tc1 only after tc1 took the unchanged session back (an
     * append that timed out on tc2 yet landed later, or a list on a node tc1 saw as unavailable while it read). A
     * notice names a copy by the session's id and its content hash, and the copy taken back has both.
     */
    @Test
    void aNoticeThatArrivesAfterAnUnchangedTakeBackLeavesTheSession() {
        Tomcat tc1 = new Tomcat("tc1", "p_");
        Tomcat tc2 = new Tomcat("tc2", "p_");
        TestSession s = tc1.create("ABC-n1.tc1");
        long takenHash = io.msm.codec.BlobCodec.copyHash(store.peek("n1", "p_" + s.id()));
        long takenContent = io.msm.codec.BlobCodec.contentHash(store.peek("n1", "p_" + s.id()));
        TestSession taken = tc2.takeOver(s.id(), false); // its notice is still on its way
        tc1.residents.remove(s); // tc1 learns otherwise: its copy is older than tc2's, which it loads now
        tc1.engine.retire(s);

        clock.addAndGet(1); // the take-back is a later request (a copy's times say when it was written)
        TestSession back = tc1.takeOver(taken.id());
        assertEquals(takenContent, io.msm.codec.BlobCodec.contentHash(store.peek("n1", "p_" + back.id())),
                "(the same content as the copy tc2 took)");
        new TakeoverNotices(store, "p_", "/app", clock::get).announce("tc1", s.id(), takenHash, "n1", 100); // lands
        tc1.engine.checkTakeovers();
        assertFalse(tc1.lost.contains(back), "the session tc1 took back was dropped by a notice older than it");
    }

    /**
     * A request that carries another Tomcat's route reads the notices first. With every node slow (each answer takes
     * most of operationTimeout, no timeout marks it), that read costs a call per node, and a request arriving while
     * the background read runs waits for it and for a read of its own: beyond operationTimeout, what a request waits
     * for memcached at most.
     */
    @Test
    void aRequestWaitsForTakeoverNoticesAtMostOperationTimeout() {
        Tomcat tc1 = new Tomcat("tc1", "p_", MsmConfig.OPERATION_TIMEOUT, "1000");
        store.noticeReadMillis = 800; // each node answers within the timeout, slowly
        long start = System.nanoTime();
        tc1.engine.checkTakeovers();
        long millis = (System.nanoTime() - start) / 1_000_000;
        // a call per node, each with the whole timeout, would wait 1,600 ms: 400 ms of slack for a loaded machine
        assertTrue(millis <= 1000 + 400, "waited " + millis + " ms for the notices, operationTimeout is 1000 ms");
    }

    /**
     * A request that carries another Tomcat's route reads tc1's notices on its own thread (no background read is
     * running). Six of tc1's sessions were taken over while their backups were on their way to a slow node (each
     * answers within the 5 s the test allows, well beyond operationTimeout): dropping each waits for its backup. The
     * request must still not wait for memcached beyond operationTimeout, however many sessions the notices name.
     */
    @Test
    void aRequestReadingNoticesOfSessionsWithBackupsInFlightWaitsAtMostOperationTimeout() throws Exception {
        // minBackupInterval 0: each change's backup starts at once and hangs at the gate (with the default 10 ms it
        // would wait for its interval instead, and the notice would retire it before it was ever in flight)
        Tomcat tc1 = new Tomcat("tc1", "p_", MsmConfig.OPERATION_TIMEOUT, "300", MsmConfig.BACKUP_THREAD_COUNT, "6",
                MsmConfig.MIN_BACKUP_INTERVAL, "0");
        Tomcat tc2 = new Tomcat("tc2", "p_");
        List<TestSession> sessions = new ArrayList<>();
        List<Long> hashes = new ArrayList<>();
        for (int i = 1; i <= 6; i++) {
            TestSession s = tc1.create("ABC" + i + "-n1.tc1");
            sessions.add(s);
            hashes.add(io.msm.codec.BlobCodec.copyHash(store.peek("n1", "p_" + s.id())));
            tc2.takeOver(s.id(), false); // its notice is written below
        }
        store.setGate = new java.util.concurrent.CountDownLatch(1); // tc1's next backups hang on their way
        try {
            for (TestSession s : sessions) { // late requests on tc1 change them: async backups, in flight
                tc1.engine.requestStarted(s);
                s.set("count", 2);
                tc1.engine.requestEnded(s);
            }
            Thread request = Thread.currentThread();
            java.util.concurrent.atomic.AtomicBoolean announced = new java.util.concurrent.atomic.AtomicBoolean();
            store.beforeGet = key -> { // the notices land just before this request's own read
                if (Thread.currentThread() == request && key.contains(TakeoverNotices.KEY + "tc1")
                        && !announced.getAndSet(true)) {
                    for (int i = 0; i < sessions.size(); i++) {
                        new TakeoverNotices(store, "p_", "/app", clock::get).announce("tc1", sessions.get(i).id(),
                                hashes.get(i), "n1", 100);
                    }
                }
            };
            long start = System.nanoTime();
            tc1.engine.checkTakeovers();
            long millis = (System.nanoTime() - start) / 1_000_000;
            store.beforeGet = null;
            assertTrue(announced.get(), "(the request read the notices itself)");
            assertEquals(6, tc1.lost.size(), "(the six copies were dropped)");
            // one wait for all six: a wait of operationTimeout per session would take 1,800 ms (600 ms of slack for a
            // loaded machine)
            assertTrue(millis <= 300 + 600, "the request waited " + millis + " ms; operationTimeout is 300 ms");
        } finally {
            store.setGate.countDown();
        }
    }

    /**
     * A request of tc1's stale copy ends (the one the balancer gave up on) and its backup is on its way to memcached
     * when tc1 takes the session back from tc2 (the notice never reached tc1): the stale copy is dropped and the copy
     * taken back is written under the same key. The stale backup must not land after it, or memcached holds the
     * dropped copy's state while tc1 serves another (a failover of tc1 then loses every change since).
     */
    @Test
    void aBackupOfTheDroppedCopyStillRunningWhenTheSessionIsTakenBackDoesNotLandAfterIt() throws Exception {
        Tomcat tc1 = new Tomcat("tc1", "p_", MsmConfig.BACKUP_THREAD_COUNT, "2");
        Tomcat tc2 = new Tomcat("tc2", "p_");
        TestSession stale = tc1.create("ABC-n1.tc1");
        TestSession taken = tc2.takeOver(stale.id(), false); // its notice did not arrive
        tc2.request(taken, () -> taken.set("count", 2));

        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        store.beforeSet = key -> {
            if (key.equals("p_ABC-n1.tc1") && first.getAndSet(false)) {
                entered.countDown();
                try {
                    release.await(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        tc1.engine.requestStarted(stale);
        stale.set("count", 99);
        tc1.engine.requestEnded(stale); // its backup runs on a backup thread, and is held on its way
        assertTrue(entered.await(5, java.util.concurrent.TimeUnit.SECONDS));
        // the held backup answers once the take-back's write is stored, or after 300 ms (a slow node, well within
        // operationTimeout), whichever comes first
        Thread answer = new Thread(() -> {
            long deadline = System.nanoTime() + 300_000_000L;
            while (System.nanoTime() < deadline && !storedCount(2)) {
                Thread.onSpinWait();
            }
            release.countDown();
        });
        answer.start();

        // the user's next request reaches tc1 with tc2's cookie: tc1's own copy is older, dropped; tc2's taken back
        tc1.residents.remove(stale);
        tc1.engine.retire(stale);
        TestSession back = tc1.takeOver(taken.id());
        answer.join();
        assertTrue(tc1.engine.awaitIdle(5000));
        assertEquals(2, back.attributes.get("count"));
        assertTrue(storedCount(2), "memcached holds the dropped copy's state: "
                + tc2.engine.load("ABC-n1.tc1").attributes());
    }

    /**
     * A copy tc1 wrote again after tc2 took it (a late request) is still on its way to a slow node when tc1 reads the
     * notice on the request that takes the session back: the delete that must follow that write goes to the
     * background thread, and the request goes on, takes the session back under the same id and stores it. The
     * deferred delete must not remove the copy taken back since (sticky: memcached is the session's only backup).
     */
    @Test
    void aDeleteDeferredAfterAStaleWriteDoesNotRemoveTheCopyTakenBackMeanwhile() throws Exception {
        Tomcat tc1 = new Tomcat("tc1", "p_", MsmConfig.OPERATION_TIMEOUT, "300", MsmConfig.BACKUP_THREAD_COUNT, "2");
        Tomcat tc2 = new Tomcat("tc2", "p_");
        TestSession stale = tc1.create("ABC-n1.tc1");
        long takenHash = io.msm.codec.BlobCodec.copyHash(store.peek("n1", "p_ABC-n1.tc1"));
        TestSession taken = tc2.takeOver(stale.id(), false); // its notice is written below
        tc2.request(taken, () -> taken.set("count", 7));
        tc1.request(stale, () -> stale.set("count", 5)); // a late request on tc1: the key is written again

        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        store.beforeSet = key -> {
            if (key.equals("p_ABC-n1.tc1") && first.getAndSet(false)) {
                entered.countDown();
                try {
                    release.await(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        tc1.engine.requestStarted(stale); // another late request: its write hangs on its way
        stale.set("count", 6);
        tc1.engine.requestEnded(stale);
        assertTrue(entered.await(5, java.util.concurrent.TimeUnit.SECONDS));
        new TakeoverNotices(store, "p_", "/app", clock::get).announce("tc1", stale.id(), takenHash, "n1", 100);
        // the slow write (queued behind others, say) answers 450 ms after the notice, within the 600 ms a request
        // waited for it before, or as soon as the take-back's copy is stored
        Thread answer = new Thread(() -> {
            long deadline = System.nanoTime() + 450_000_000L;
            while (System.nanoTime() < deadline && !storedCount(7)) {
                Thread.onSpinWait();
            }
            release.countDown();
        });
        answer.start();
        TestSession back = tc1.takeOver(taken.id()); // reads the notice itself, then takes the session back
        answer.join();
        assertEquals("ABC-n1.tc1", back.id());
        assertTrue(tc1.lost.contains(stale), "(the stale copy was dropped)");
        assertTrue(tc1.engine.awaitIdle(5000));
        // the deferred delete runs on the background thread once the slow write ended: give it a second
        long until = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < until && storedCount(7)) {
            Thread.onSpinWait();
        }
        byte[] left = store.peek("n1", "p_ABC-n1.tc1");
        assertTrue(storedCount(7), "memcached no longer holds the copy tc1 took back: "
                + (left == null ? "deleted" : "the dropped copy's state"));
    }

    /**
     * tc2 takes the session over (its claim on tc1's id says moved) but its notice does not reach memcached (an append
     * that timed out is only logged), and the request the balancer gave up on ends late on tc1 and writes tc1's copy
     * again. tc1 never learns it lost the session; when its copy times out there, memcached holds the very copy tc1
     * wrote last under that id, yet the session was never taken back: it lives on at tc2. tc1 must not win the claim
     * (sessionDestroyed would fire for a session in use on tc2).
     */
    @Test
    void aLateWriteOfACopyWhoseNoticeWasLostDoesNotWinTheClaimOfTheSessionLivingOnElsewhere() {
        Tomcat tc1 = new Tomcat("tc1", "p_");
        Tomcat tc2 = new Tomcat("tc2", "p_");
        TestSession stale = tc1.create("ABC-n1.tc1");
        TestSession taken = tc2.takeOver(stale.id(), false); // its notice did not arrive
        new ExpiryClaims(tc2.engine).moved(stale.id(), taken.id(), 60, clock.get()); // as tc2's watch thread claims it
        tc1.request(stale, () -> stale.set("count", 5)); // the late request on tc1
        tc1.engine.checkTakeovers();
        assertFalse(tc1.lost.contains(stale), "(tc1 was not told)");

        assertEquals(ExpiryWatch.Claim.LOST, tc1.engine.expiry().claimHeld(stale),
                "tc1's stale copy timing out would fire sessionDestroyed while the session lives on at tc2");
    }

    private boolean storedCount(int count) {
        byte[] blob = store.peek("n1", "p_ABC-n1.tc1");
        if (blob == null) {
            return false;
        }
        io.msm.codec.SessionData d = io.msm.codec.BlobCodec.decode(blob);
        return Integer.valueOf(count).equals(new TestTranscoderFactory().createTranscoder(null)
                .deserialize(d.attributeChunks().get(0)).get("count"));
    }
}
