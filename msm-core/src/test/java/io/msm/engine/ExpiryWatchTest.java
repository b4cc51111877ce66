package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The timeout watch's decisions on a fake store and a fake clock (its thread is not started: ticks are called). */
class ExpiryWatchTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private FakeStore store;
    private final List<SessionEngine> engines = new ArrayList<>();
    private final List<String> ended = new ArrayList<>();
    private final Set<String> held = new java.util.HashSet<>();

    private final ExpiryWatch.Container container = new ExpiryWatch.Container() {
        @Override
        public boolean holds(String id) {
            return held.contains(id);
        }

        @Override
        public void expire(LoadResult loaded) {
            ended.add(loaded.data().id() + " count=" + loaded.attributes().get("count"));
        }
    };

    /** An engine on the shared fake store (a Tomcat); the first call makes the store. */
    private SessionEngine engine(String... attributes) {
        return engineWithPrefix("p_", attributes);
    }

    private SessionEngine engineWithPrefix(String keyPrefix, String... attributes) {
        return tomcat("/test", "tc1", keyPrefix, attributes);
    }

    /** An engine of webapp {@code context} with {@code route} ({@code null}: none) on the shared fake store. */
    private SessionEngine tomcat(String context, String route, String keyPrefix, String... attributes) {
        MsmConfig.Builder b = FakeStore.twoNodes();
        for (int i = 0; i < attributes.length; i += 2) {
            b.set(attributes[i], attributes[i + 1]);
        }
        SessionEngine e = SessionEngine.start(b.build(getClass().getClassLoader()),
                new EngineContext(context, getClass().getClassLoader(), route, keyPrefix, clock::get),
                listener -> store != null ? store : (store = new FakeStore(clock::get, listener)));
        engines.add(e);
        return e;
    }

    @AfterEach
    void close() {
        engines.forEach(SessionEngine::close);
    }

    /** A session with a 60 s timeout (10 s slack... 6 s: a tenth) stored by one request ending now. */
    private TestSession served(SessionEngine e, String id) {
        TestSession s = new TestSession(id, clock.get());
        e.created(s);
        e.requestStarted(s);
        s.set("count", 1);
        e.requestEnded(s);
        assertTrue(e.awaitIdle(5000));
        return s;
    }

    private void advance(long seconds) {
        clock.addAndGet(seconds * 1000);
    }

    @Test
    void nonStickySessionAccessedElsewhereIsLookedAtAgainAndEndsOnceWhenTimedOut() {
        SessionEngine e = engine(MsmConfig.STICKY, "false");
        e.expiry().adopt(container);
        TestSession s = served(e, "ABC1-n1");
        assertTrue(e.expiry().watches(s.id()));

        advance(30);
        assertTrue(store.touch("n1", "p_" + s.id(), 66, 0)); // another Tomcat's request refreshes it: 60 s + 6 s
        advance(31); // its timeout as seen here has passed
        e.expiry().tick();
        assertEquals(List.of(), ended, "accessed elsewhere 31 s ago");
        assertTrue(e.expiry().watches(s.id()));

        advance(28); // 59 s after the other access: not yet
        e.expiry().tick();
        assertEquals(List.of(), ended);
        advance(2);
        e.expiry().tick();
        assertEquals(List.of(s.id() + " count=1"), ended, "its last state");
        assertFalse(e.expiry().watches(s.id()));
        assertNotNull(store.peek("n1", ExpiryWatch.CLAIM_PREFIX + "p_" + s.id()), "claimed");
    }

    @Test
    void withExactlyTheSlackLeftItIsLookedAtAgainAtTheNextTick() {
        SessionEngine e = engine(MsmConfig.STICKY, "false");
        e.expiry().adopt(container);
        TestSession s = served(e, "ABC1-n1");
        advance(60); // 6 s left: its timeout may still be up to a second away on memcached's clock
        e.expiry().tick();
        assertEquals(List.of(), ended);
        clock.addAndGet(ExpiryWatch.TICK_MILLIS - 1);
        e.expiry().tick();
        assertEquals(List.of(), ended, "not due before the next tick");
        clock.addAndGet(1);
        e.expiry().tick();
        assertEquals(List.of(s.id() + " count=1"), ended, "less than the slack left");
    }

    /**
     * memcached's clock now and then moves two seconds at once (its timer is re-armed a second after it fires, and
     * drifts): from the slack left straight to a second less than it. A copy must still be there to end it by: with a
     * slack of 2 it was already gone, and the session ended without its listeners (CI, SecurityIT, a 4 s timeout).
     */
    @Test
    void memcachedsClockSkippingTheSecondAfterTheTimeoutStillLeavesTheCopyToEndItBy() {
        SessionEngine e = engine(MsmConfig.STICKY, "false");
        e.expiry().adopt(container);
        TestSession s = new TestSession("ABC1-n1", clock.get());
        s.maxInactive = 4;
        e.created(s);
        e.requestStarted(s);
        s.set("count", 1);
        e.requestEnded(s);
        assertTrue(e.awaitIdle(5000));
        advance(4); // the slack left: memcached's clock may be a second behind
        e.expiry().tick();
        assertEquals(List.of(), ended);
        advance(2); // the next look, two of memcached's seconds on
        e.expiry().tick();
        assertEquals(List.of(s.id() + " count=1"), ended, "its copy, a second before memcached drops it");
        for (int mi = 1; mi <= 100_000; mi++) {
            assertTrue(ExpiryWatch.timedOut(2, mi) && ExpiryWatch.timedOut(1, mi), "two TTLs to see " + mi + " s by");
        }
    }

    @Test
    void aSessionClaimedByAnotherTomcatOrGoneIsDroppedWithoutEnding() {
        SessionEngine e = engine(MsmConfig.STICKY, "false");
        e.expiry().adopt(container);
        TestSession claimed = served(e, "ABC1-n1");
        TestSession gone = served(e, "ABC2-n2");
        store.put("n1", ExpiryWatch.CLAIM_PREFIX + "p_" + claimed.id(), new byte[] {'e'});
        assertTrue(store.delete("n2", "p_" + gone.id(), 0)); // invalidated on another Tomcat
        advance(61);
        e.expiry().tick();
        assertEquals(List.of(), ended);
        assertEquals(0, e.expiry().size());
    }

    @Test
    void claimIsWonOnceThenLost() {
        SessionEngine e = engine();
        assertEquals(ExpiryWatch.Claim.WON, e.expiry().claim("ABC1-n1.tc1", 60));
        assertEquals(ExpiryWatch.Claim.LOST, e.expiry().claim("ABC1-n1.tc1", 60));
        store.disconnect("n2");
        assertEquals(ExpiryWatch.Claim.UNKNOWN, e.expiry().claim("ABC1-n2.tc1", 60));
    }

    @Test
    void loadSaysWhenMemcachedsCopyBelongsToATimedOutSession() {
        SessionEngine e = engine(MsmConfig.STICKY, "false");
        TestSession s = served(e, "ABC1-n1");
        advance(60);
        assertFalse(e.load(s.id()).timedOut(), "6 s left, the slack: memcached's clock may be a second behind");
        advance(61); // the load above refreshed it to 66 s
        assertTrue(e.load(s.id()).timedOut(), "5 s left: less than the slack");
    }

    @Test
    void nonStickyOnTheBinaryProtocolWatchesNothing() {
        SessionEngine e = engine(MsmConfig.STICKY, "false", MsmConfig.MEMCACHED_PROTOCOL, "binary");
        served(e, "ABC1-n1");
        assertEquals(0, e.expiry().size(), "memcached does not tell TTLs there");
    }

    @Test
    void stickyStopLeavesItsSessionsToTheNextStartWhichEndsThemWhenTimedOut() {
        SessionEngine first = engine();
        TestSession left = served(first, "ABC1-n1.tc1");
        TestSession takenOver = served(first, "ABC2-n2.tc1");
        first.stop(List.of(left, takenOver));
        assertTrue(store.delete("n2", "p_" + takenOver.id(), 0)); // another Tomcat took it over

        SessionEngine next = engine();
        next.expiry().adopt(container);
        assertEquals(Set.of(left.id(), takenOver.id()), ids(next.expiry().watched()));
        SessionEngine third = engine();
        third.expiry().adopt(container);
        assertEquals(0, third.expiry().size(), "the list was taken");

        advance(59);
        next.expiry().tick();
        assertEquals(List.of(), ended);
        advance(2);
        next.expiry().tick();
        assertEquals(List.of(left.id() + " count=1"), ended);
        assertEquals(0, next.expiry().size());
    }

    @Test
    void stickySessionTheContainerHoldsIsLeftToIt() {
        SessionEngine first = engine();
        TestSession s = served(first, "ABC1-n1.tc1");
        first.stop(List.of(s));
        SessionEngine next = engine();
        next.expiry().adopt(container);
        held.add(s.id()); // its user came back: Tomcat holds it and expires it itself
        advance(61);
        next.expiry().tick();
        assertEquals(List.of(), ended);
        assertEquals(0, next.expiry().size());
    }

    @Test
    void withSessionProtectionTheListHoldsNoIdInClear() {
        String key = java.util.Base64.getEncoder().encodeToString(new byte[32]);
        SessionEngine first = engine(MsmConfig.SESSION_PROTECTION, "sign", MsmConfig.SESSION_KEYS, key);
        TestSession s = served(first, "ABC1-n1.tc1");
        first.stop(List.of(s));
        byte[] name = "tc1\n/test".getBytes(StandardCharsets.UTF_8);
        String listKey = "p_msm:expiry:" + Long.toHexString(io.msm.internal.XxHash64.hash(name, 0, name.length, 0));
        byte[] stored = store.peek("n1", listKey + ":0");
        assertNotNull(stored);
        assertFalse(new String(stored, StandardCharsets.ISO_8859_1).contains("ABC1"), "encrypted");

        SessionEngine unkeyed = engine();
        unkeyed.expiry().adopt(container);
        assertEquals(0, unkeyed.expiry().size(), "a manager without the key cannot read it");
        assertNull(store.peek("n1", listKey + ":0"), "and it is gone");
    }

    /**
     * The name of a versioned context ({@code /test##2}) names log lines, not the list: its key is the one the context
     * had before names carried the version, so the first restart on a build that names the version finds the list.
     */
    @Test
    void aVersionedContextsListKeepsTheKeyOfItsPathAlone() {
        SessionEngine first = tomcat("/test##2", "tc1", "p_");
        TestSession s = served(first, "ABC1-n1.tc1");
        first.stop(List.of(s));
        byte[] name = "tc1\n/test".getBytes(StandardCharsets.UTF_8);
        String listKey = "p_msm:expiry:" + Long.toHexString(io.msm.internal.XxHash64.hash(name, 0, name.length, 0));
        assertNotNull(store.peek("n1", listKey + ":0"), "the list under the key of tc1 and /test");
        SessionEngine unversioned = tomcat("/test", "tc1", "p_");
        unversioned.expiry().adopt(container);
        assertEquals(1, unversioned.expiry().size(), "taken by a start that names the context without its version");
    }

    /** A container that ends a session as msm's Tomcat adapter does: its last state, ended through the engine. */
    private ExpiryWatch.Container ending(SessionEngine e) {
        return new ExpiryWatch.Container() {
            @Override
            public boolean holds(String id) {
                return held.contains(id);
            }

            @Override
            public void expire(LoadResult loaded) {
                TestSession s = loadedCopy(e, loaded);
                ended.add(s.id() + " count=" + s.attributes.get("count"));
                s.active = false;
                e.expired(s);
            }
        };
    }

    private TestSession loadedCopy(SessionEngine e, LoadResult loaded) {
        TestSession s = new TestSession(loaded.data().id(), clock.get());
        s.attributes.putAll(loaded.attributes());
        e.loaded(s, loaded);
        return s;
    }

    @Test
    void nonStickyTimeoutLeavesTombstonesThatARequestEndingLaterElsewhereCannotReplace() {
        SessionEngine tc1 = engine(MsmConfig.STICKY, "false");
        SessionEngine tc2 = engine(MsmConfig.STICKY, "false");
        tc1.expiry().adopt(ending(tc1));
        TestSession s = served(tc1, "ABC1-n1");
        TestSession late = loadedCopy(tc2, tc2.load(s.id())); // a request on tc2 that read it before the timeout
        tc2.requestStarted(late);

        advance(61);
        tc1.expiry().tick();
        assertEquals(List.of(s.id() + " count=1"), ended);
        assertArrayEquals(Tombstones.VALUE, store.peek("n1", "p_" + s.id()), "its key holds a tombstone");
        assertArrayEquals(Tombstones.VALUE, store.peek("n2", "p_ABC1-n2"), "and its id on the other node");
        assertNull(store.peek("n2", "bak:p_" + s.id()), "its secondary copy is deleted");

        late.set("count", 2);
        tc2.requestEnded(late);
        assertTrue(tc2.awaitIdle(5000));
        assertArrayEquals(Tombstones.VALUE, store.peek("n1", "p_" + s.id()), "not stored again");
        assertEquals(LoadResult.Status.NOT_FOUND, tc2.load(s.id()).status());
    }

    @Test
    void aSessionWhoseKeyHoldsATombstoneIsDroppedWithoutAClaim() {
        SessionEngine tc1 = engine(MsmConfig.STICKY, "false");
        SessionEngine tc2 = engine(MsmConfig.STICKY, "false");
        tc1.expiry().adopt(container);
        TestSession s = served(tc1, "ABC1-n1");
        advance(30);
        TestSession loggedOut = loadedCopy(tc2, tc2.load(s.id())); // a logout on tc2
        loggedOut.active = false;
        tc2.expired(loggedOut);
        assertArrayEquals(Tombstones.VALUE, store.peek("n1", "p_" + s.id()));

        advance(31); // its timeout as last seen on tc1: the tombstone lives 35 s more
        tc1.expiry().tick();
        assertEquals(List.of(), ended);
        assertFalse(tc1.expiry().watches(s.id()), "ended elsewhere: nothing left to watch");
        assertNull(store.peek("n1", ExpiryWatch.CLAIM_PREFIX + "p_" + s.id()), "no claim made");
    }

    /**
     * During a key rotation (step 1: {@code old} and {@code old,new}; step 2: {@code old,new} and {@code new,old})
     * the Tomcats name a session differently, yet exactly one of them claims its end or finds a takeover's claim;
     * no claim key names the session.
     */
    @Test
    void claimsAreOneInTheClusterAcrossAKeyRotationAndNameNoSession() {
        String oldKey = java.util.Base64.getEncoder().encodeToString(new byte[32]);
        byte[] ones = new byte[32];
        java.util.Arrays.fill(ones, (byte) 1);
        String newKey = java.util.Base64.getEncoder().encodeToString(ones);
        SessionEngine oldOnly = engine(MsmConfig.SESSION_PROTECTION, "sign", MsmConfig.SESSION_KEYS, oldKey);
        SessionEngine oldFirst = engine(MsmConfig.SESSION_PROTECTION, "sign", MsmConfig.SESSION_KEYS,
                oldKey + "," + newKey);
        SessionEngine newFirst = engine(MsmConfig.SESSION_PROTECTION, "sign", MsmConfig.SESSION_KEYS,
                newKey + "," + oldKey);

        assertEquals(ExpiryWatch.Claim.WON, newFirst.expiry().claim("ABC1-n1.tc1", 60));
        assertEquals(ExpiryWatch.Claim.LOST, oldFirst.expiry().claim("ABC1-n1.tc1", 60), "step 2");
        assertEquals(ExpiryWatch.Claim.WON, oldOnly.expiry().claim("ABC2-n1.tc1", 60));
        assertEquals(ExpiryWatch.Claim.LOST, oldFirst.expiry().claim("ABC2-n1.tc1", 60), "step 1");
        assertEquals(ExpiryWatch.Claim.WON, oldFirst.expiry().claim("ABC3-n1.tc1", 60));
        assertEquals(ExpiryWatch.Claim.LOST, oldOnly.expiry().claim("ABC3-n1.tc1", 60), "step 1, the other way");

        new ExpiryClaims(newFirst).moved("ABC4-n1.tc1", "ABC4-n1.tc2", 60, clock.get()); // newFirst took ABC4 over
        assertEquals(ExpiryWatch.Claim.LOST, oldFirst.expiry().claim("ABC4-n1.tc1", 60), "the copy left ends silently");
        for (String key : store.keysSeen) {
            assertFalse(key.contains("ABC"), "a key names a session: " + key);
        }
    }

    /**
     * Key rotation step 2 (README, Security): a sticky Tomcat restarts with the new key first ({@code new,old}). The
     * sessions its stop left are stored under the old key's name; the next start looks them up under every listed
     * key's name, and so must its timeout watch, or each of them times out with no sessionDestroyed.
     */
    @Test
    void aSessionLeftByTheStopBeforeAKeyRotationRestartEndsWhenItTimesOut() {
        String oldKey = java.util.Base64.getEncoder().encodeToString(new byte[32]);
        byte[] ones = new byte[32];
        java.util.Arrays.fill(ones, (byte) 1);
        String newKey = java.util.Base64.getEncoder().encodeToString(ones);
        SessionEngine before = engine(MsmConfig.SESSION_PROTECTION, "sign", MsmConfig.SESSION_KEYS,
                oldKey + "," + newKey); // step 1: the new key appended
        TestSession s = served(before, "ABC1-n1.tc1");
        before.stop(List.of(s));

        SessionEngine after = engine(MsmConfig.SESSION_PROTECTION, "sign", MsmConfig.SESSION_KEYS,
                newKey + "," + oldKey); // step 2: the new key first
        after.expiry().adopt(container);
        assertTrue(after.expiry().watches(s.id()));
        assertTrue(after.load(s.id()).isFound(), "(a request would still find it)");
        advance(61);
        for (int tick = 0; tick < 8; tick++) {
            after.expiry().tick();
            clock.addAndGet(ExpiryWatch.TICK_MILLIS);
        }
        assertEquals(List.of(s.id() + " count=1"), ended, "timed out, nobody requested it again");
    }

    /** A prefix that makes {@code end:<key>} too long, or the stop's list key unsendable, costs no claim and no list. */
    @Test
    void claimsAndTheStopListFitMemcachedsKeysWhateverThePrefix() {
        int n = 0;
        for (String prefix : List.of("x".repeat(239), "my app_")) {
            n++;
            SessionEngine e = engineWithPrefix(prefix);
            String id = "ABC" + n + "-n1.tc1"; // with the 239-character prefix: a key of 250 bytes, the longest sendable
            assertEquals(ExpiryWatch.Claim.WON, e.expiry().claim(id, 60), prefix);
            assertEquals(ExpiryWatch.Claim.LOST, e.expiry().claim(id, 60), prefix);

            TestSession left = served(e, "ABD" + n + "-n1.tc1");
            e.stop(List.of(left));
            SessionEngine next = engineWithPrefix(prefix);
            next.expiry().adopt(container);
            assertEquals(Set.of(left.id()), ids(next.expiry().watched()), "the list the stop left: " + prefix);
        }
    }

    /**
     * Non-sticky Tomcats have no jvmRoute (ids carry none), so the Tomcats of a webapp share one stop list. Two of them
     * stop at the same time (a cluster shut down, a rollout two at a time): tc1 reads the list (none yet), tc2 reads
     * it and writes its sessions, tc1 writes its own over them. The next start must watch the sessions of both, or
     * the ones only tc2 served time out with no sessionDestroyed anywhere.
     */
    @Test
    void nonStickyTomcatsStoppingAtOnceBothLeaveTheirSessionsToTheNextStart() {
        SessionEngine tc1 = engineWithoutRoute(MsmConfig.STICKY, "false");
        SessionEngine tc2 = engineWithoutRoute(MsmConfig.STICKY, "false");
        TestSession a = served(tc1, "ABC1-n1");
        TestSession b = served(tc2, "ABC2-n2");
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        store.beforeSet = key -> {
            if (key.contains("msm:expiry:") && first.getAndSet(false)) {
                tc2.stop(List.of()); // between tc1's read of the list and its write
            }
        };
        tc1.stop(List.of());
        store.beforeSet = null;
        assertFalse(first.get(), "(tc2 stopped between tc1's read and write)");

        SessionEngine next = engineWithoutRoute(MsmConfig.STICKY, "false");
        next.expiry().adopt(container);
        assertEquals(Set.of(a.id(), b.id()), ids(next.expiry().watched()));
    }

    /**
     * Sticky, the user bounces tc1 -> tc2 -> tc1 -> tc2 (the balancer retries slow requests on the other Tomcat).
     * Each takeover claims the former id's end and clears the claim on the new id, on the taker's watch thread. tc1's
     * thread is busy (a tick, a sessionDestroyed listener) when it takes the session back, so its claim lands after
     * tc2's last takeover: it claims ABC-n1.tc2, the id tc2 serves now, as moved away. When that session times out on
     * tc2, tc2 loses the claim and ends it without sessionDestroyed, though nobody else has it.
     */
    @Test
    void aTakeoverClaimLandingLateDoesNotSilenceTheSessionTakenBackSince() throws Exception {
        SessionEngine tc1 = engineWithRoute("tc1");
        SessionEngine tc2 = engineWithRoute("tc2");
        tc1.expiry().start(container);
        tc2.expiry().start(container);
        String onTc1 = "ABC-n1.tc1";
        String onTc2 = "ABC-n1.tc2";
        TestSession served = served(tc2, onTc2); // the session as tc2 serves it at the end, stored
        tc2.expiry().moved(onTc1, onTc2, 60); // tc2 takes it over
        awaitWatchThread(tc2, "Z1");

        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        store.beforeSet = key -> {
            if (key.equals(ExpiryWatch.CLAIM_PREFIX + "p_" + onTc2) && first.getAndSet(false)) {
                held.countDown(); // tc1's watch thread, busy
                try {
                    release.await(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        advance(1);
        tc1.expiry().moved(onTc2, onTc1, 60); // tc1 takes it back; its claim is on its way
        assertTrue(held.await(5, java.util.concurrent.TimeUnit.SECONDS));
        advance(1);
        served.state().movedHere(clock.get());
        tc2.expiry().moved(onTc1, onTc2, 60); // and tc2 takes it over again, its claim lands first
        awaitWatchThread(tc2, "Z2");
        release.countDown();
        awaitWatchThread(tc1, "Z3");
        store.beforeSet = null;

        TestSession stale = new TestSession(onTc2, clock.get()); // a copy of it tc2 never wrote: memcached has another
        stale.maxInactive = 60;
        assertEquals(ExpiryWatch.Claim.LOST, tc2.expiry().claimHeld(stale), "a copy memcached does not hold lost");
        served.maxInactive = 60;
        assertEquals(ExpiryWatch.Claim.WON, tc2.expiry().claimHeld(served),
                "tc2 serves the session: its timeout there must fire sessionDestroyed");
        assertEquals(ExpiryWatch.Claim.LOST, tc1.expiry().claim(onTc2, 60), "once");
    }

    /** Returns once the watch thread of {@code e} ran what was queued before (a marker claim queued behind it). */
    private void awaitWatchThread(SessionEngine e, String marker) throws InterruptedException {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        java.util.function.Consumer<String> before = store.beforeSet;
        String markerKey = ExpiryWatch.CLAIM_PREFIX + "p_" + marker + "-n1.tc1";
        store.beforeSet = key -> {
            if (key.equals(markerKey)) {
                done.countDown();
            } else if (before != null) {
                before.accept(key);
            }
        };
        e.expiry().moved(marker + "-n1.tc1", marker + "-n1.tc2", 60);
        assertTrue(done.await(5, java.util.concurrent.TimeUnit.SECONDS), "the watch thread ran " + marker);
        store.beforeSet = before;
    }

    private SessionEngine engineWithRoute(String route) {
        return tomcat("/test-" + route, route, "p_");
    }

    private SessionEngine engineWithoutRoute(String... attributes) {
        return tomcat("/test", null, "p_", attributes);
    }

    private static Set<String> ids(List<ExpiryWatch.Watched> watched) {
        Set<String> ids = new java.util.HashSet<>();
        watched.forEach(w -> ids.add(w.id));
        return ids;
    }
}
