package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.codec.BlobCodec;
import io.msm.codec.BlobSealer;
import io.msm.codec.SessionData;
import io.msm.config.MsmConfig;
import io.msm.config.SessionProtection;
import io.msm.store.MemcachedKeys;
import io.msm.store.MemcachedSessionStore;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.test.Await;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The memcached keys the engine uses: in clear without {@code sessionProtection} (as ever), keyed hashes of the id
 * with it; always within memcached's key limit; and what binds a protected blob to its webapp.
 */
class EngineKeysTest {
    private static final String KEY_1 = key(1);
    private static final String KEY_2 = key(2);
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final FakeStore store = new FakeStore(clock::get, MemcachedSessionStore.ConnectionListener.NONE);
    private final List<SessionEngine> engines = new ArrayList<>();

    private static String key(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    /** An engine for the webapp {@code ctx} on the shared fake store (several engines: several Tomcats). */
    private SessionEngine engine(EngineContext ctx, String... attributes) {
        MsmConfig.Builder b = FakeStore.twoNodes()
                .set(MsmConfig.BACKUP_THREAD_COUNT, "1");
        for (int i = 0; i < attributes.length; i += 2) {
            b.set(attributes[i], attributes[i + 1]);
        }
        SessionEngine e = SessionEngine.start(b.build(getClass().getClassLoader()), ctx, listener -> store);
        engines.add(e);
        return e;
    }

    private EngineContext context(String prefix) {
        return new EngineContext("/app", getClass().getClassLoader(), "tc1", prefix, clock::get);
    }

    @AfterEach
    void close() {
        engines.forEach(SessionEngine::close);
    }

    /** One request as the adapter runs it, with the session's lock in non-sticky mode. */
    private static void request(SessionEngine e, TestSession s, Runnable body) {
        SessionLock lock = e.locks() ? e.lock(s.id()) : null;
        e.requestStarted(s);
        body.run();
        e.requestEnded(s);
        e.unlock(lock);
        assertTrue(e.awaitIdle(5000));
    }

    /** The session {@code id} as another Tomcat of the cluster sees it: loaded, then used by one request. */
    private static TestSession loadedOn(SessionEngine e, String id) {
        LoadResult r = e.load(id);
        assertTrue(r.isFound(), id + ": " + r.status() + " " + r.reason());
        TestSession s = TestSession.loadedFrom(r, 0);
        e.loaded(s, r);
        return s;
    }

    private static TestSession created(SessionEngine e, String id) {
        TestSession s = new TestSession(id, 0);
        e.created(s);
        return s;
    }

    @Test
    void withoutProtectionKeysArePrefixAndIdAsEver() {
        SessionEngine e = engine(context("p_"), MsmConfig.STICKY, "false", MsmConfig.LOCKING_MODE, "all");
        TestSession s = created(e, "ABC-n1");
        request(e, s, () -> s.set("count", 1));
        assertNotNull(store.peek("n1", "p_ABC-n1"));
        assertNotNull(store.peek("n2", "bak:p_ABC-n1"));
        assertTrue(store.keysSeen.contains("lock:p_ABC-n1"), store.keysSeen.toString());
    }

    @ParameterizedTest(name = "sessionProtection={0}")
    @ValueSource(strings = {"sign", "encrypt"})
    void withProtectionNoKeyNamesTheSessionId(String protection) {
        for (String sticky : List.of("true", "false")) {
            SessionEngine e = engine(context("p_"), MsmConfig.SESSION_PROTECTION, protection,
                    MsmConfig.SESSION_KEYS, KEY_1, MsmConfig.STICKY, sticky, MsmConfig.LOCKING_MODE, "all");
            String id = "SECRETRANDOM" + sticky + "-n1" + ("true".equals(sticky) ? ".tc1" : "");
            TestSession s = created(e, id);
            request(e, s, () -> s.set("count", 1));
            TestSession again = loadedOn(engine(context("p_"), MsmConfig.SESSION_PROTECTION, protection,
                    MsmConfig.SESSION_KEYS, KEY_1, MsmConfig.STICKY, sticky, MsmConfig.LOCKING_MODE, "all"), id);
            assertEquals(1, again.attributes.get("count"));
            s.active = false;
            e.expired(s);
            assertTrue(e.awaitIdle(5000));
        }
        assertTrue(store.keysSeen.stream().anyMatch(k -> k.startsWith("lock:p_")), "a lock was taken");
        assertTrue(store.keysSeen.stream().anyMatch(k -> k.startsWith("bak:p_")), "a secondary copy was written");
        for (String k : store.keysSeen) {
            assertFalse(k.contains("SECRET"), "a key holds the id: " + k);
        }
        // deleted under the same keys (non-sticky: a tombstone left under the primary's, see Tombstones, and a mark
        // beside the secondary copy's, see GoneMarks)
        for (String node : List.of("n1", "n2")) {
            for (String k : store.keys(node)) {
                byte[] v = store.peek(node, k);
                assertTrue(Tombstones.is(v) || k.startsWith(GoneMarks.PREFIX + "p_")
                        && GoneMarks.endedAt(v) != Long.MAX_VALUE, "left on " + node + ": " + k);
            }
        }
    }

    /** The longest id msm takes from a client, behind a long prefix: every key still fits memcached's 250 bytes. */
    @ParameterizedTest(name = "sessionProtection={0}")
    @ValueSource(strings = {"none", "sign"})
    void theLongestIdBehindALongPrefixIsStoredLockedAndLoaded(String protection) {
        String prefix = "www.some-long-virtual-host-name.example.com_" + "context".repeat(15) + "_";
        String id = "A".repeat(io.msm.node.SessionIdFormat.MAX_LENGTH - 3) + "-n1";
        for (String sticky : List.of("true", "false")) {
            String[] attributes = "none".equals(protection)
                    ? new String[] {MsmConfig.STICKY, sticky, MsmConfig.LOCKING_MODE, "all"}
                    : new String[] {MsmConfig.SESSION_PROTECTION, protection, MsmConfig.SESSION_KEYS, KEY_1,
                        MsmConfig.STICKY, sticky, MsmConfig.LOCKING_MODE, "all"};
            SessionEngine e = engine(context(prefix), attributes);
            assertTrue(e.isValidId(id));
            TestSession s = created(e, id);
            request(e, s, () -> s.set("count", 1));
            assertEquals(1, e.statistics().get(Counter.BACKUPS), "stored");
            assertEquals(0, e.statistics().get(Counter.BACKUP_FAILURES));
            if (!Boolean.parseBoolean(sticky)) {
                assertEquals(1, e.statistics().get(Counter.LOCKS_ACQUIRED));
                assertEquals(1, e.statistics().get(Counter.SECONDARY_WRITES));
            }
            assertEquals(1, loadedOn(engine(context(prefix), attributes), id).attributes.get("count"));
            s.active = false;
            e.expired(s);
            assertTrue(e.awaitIdle(5000));
        }
        for (String k : store.keysSeen) {
            assertTrue(MemcachedKeys.isSendable(k), k.length() + " characters: " + k);
        }
    }

    /** A blob signed with the webapp's keys but carrying no binding to a webapp is not read. */
    @Test
    void aSignedBlobWithoutItsWebappsBindingIsRefused() {
        String[] signing = {MsmConfig.SESSION_PROTECTION, "sign", MsmConfig.SESSION_KEYS, KEY_1};
        SessionEngine e = engine(context("p_").ownedBy("/app"), signing);
        TestSession s = created(e, "ABC-n1.tc1");
        request(e, s, () -> s.set("count", 1));
        List<String> keys = store.keys("n1");
        assertEquals(1, keys.size(), keys.toString());
        BlobSealer sealer = BlobSealer.create(SessionProtection.SIGN, List.of(Base64.getDecoder().decode(KEY_1)), 0);
        SessionData stored = BlobCodec.decode(sealer.open(store.peek("n1", keys.get(0))));
        SessionData.Builder unbound = SessionData.builder(stored.id()).maxInactiveInterval(60)
                .attributes(stored.attributeChunks().get(0));
        store.put("n1", keys.get(0), sealer.seal(BlobCodec.encode(unbound.build())));

        SessionEngine other = engine(context("p_").ownedBy("/app"), signing);
        LoadResult r = other.load(s.id());
        assertEquals(LoadResult.Status.UNREADABLE, r.status(), r.reason());
        assertEquals(1, other.statistics().get(Counter.UNTRUSTED_SESSIONS));
    }

    @Test
    void aSignedBlobOfAnotherVirtualHostWithTheSamePathAndKeysIsNotLoaded() {
        String[] signing = {MsmConfig.SESSION_PROTECTION, "sign", MsmConfig.SESSION_KEYS, KEY_1};
        SessionEngine a = engine(context("").ownedBy("a.example.com", "/app"), signing);
        TestSession s = created(a, "ABC-n1.tc1");
        request(a, s, () -> s.set("count", 1));
        SessionEngine sameWebapp = engine(context("").ownedBy("a.example.com", "/app"), signing);
        assertEquals(1, loadedOn(sameWebapp, s.id()).attributes.get("count"));

        SessionEngine b = engine(context("").ownedBy("b.example.com", "/app"), signing);
        LoadResult r = b.load(s.id());
        assertEquals(LoadResult.Status.NOT_FOUND, r.status());
        assertTrue(r.reason().contains("a.example.com /app"), r.reason());
        SessionEngine otherPrefix = engine(context("v2_").ownedBy("a.example.com", "/app"), signing);
        String key = store.keys("n1").get(0);
        store.put("n1", "v2_" + key, store.peek("n1", key)); // the blob copied under the other prefix
        assertEquals(LoadResult.Status.NOT_FOUND, otherPrefix.load(s.id()).status());
    }

    private String[] rotation(String sticky, String sessionKeys) {
        return new String[] {MsmConfig.SESSION_PROTECTION, "encrypt", MsmConfig.SESSION_KEYS, sessionKeys,
            MsmConfig.STICKY, sticky, MsmConfig.LOCKING_MODE, "all", MsmConfig.OPERATION_TIMEOUT, "100"};
    }

    /**
     * Key rotation step 2 (the new key first): a session stored under the old key's name is found, stored under the
     * new key's name by its next request, and its copies under the old name go; step 3 (the old key removed) finds it.
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"true", "false"})
    void aSessionStoredBeforeTheNewKeyWentFirstIsFoundAndMovesToTheNewKeysName(String sticky) {
        String id = "ABC-n1" + ("true".equals(sticky) ? ".tc1" : "");
        SessionEngine before = engine(context("p_"), rotation(sticky, KEY_1 + "," + KEY_2));
        TestSession s = created(before, id);
        request(before, s, () -> s.set("count", 1));
        List<String> oldNames = new ArrayList<>(store.keys("n1"));
        oldNames.addAll(store.keys("n2"));

        SessionEngine step2 = engine(context("p_"), rotation(sticky, KEY_2 + "," + KEY_1));
        TestSession loaded = loadedOn(step2, id);
        assertEquals(1, loaded.attributes.get("count"));
        request(step2, loaded, () -> { }); // a request that changes nothing: stored under the new name all the same
        for (String old : oldNames) {
            assertTrue(store.peek("n1", old) == null && store.peek("n2", old) == null, "deleted: " + old);
        }
        SessionEngine step3 = engine(context("p_"), rotation(sticky, KEY_2));
        assertEquals(1, loadedOn(step3, id).attributes.get("count"));
    }

    /**
     * While step 2 of a rotation rolls through the cluster, Tomcats with the old key first and Tomcats with the new
     * key first serve one non-sticky session in turn: none reads a stale copy.
     */
    @Test
    void tomcatsWithEitherKeyFirstServeOneSessionInTurnWithoutLosingAChange() throws InterruptedException {
        SessionEngine oldFirst = engine(context("p_"), rotation("false", KEY_1 + "," + KEY_2));
        SessionEngine newFirst = engine(context("p_"), rotation("false", KEY_2 + "," + KEY_1));
        TestSession s = created(oldFirst, "ABC-n1");
        request(oldFirst, s, () -> s.set("count", 0));
        for (int i = 1; i <= 6; i++) {
            SessionEngine e = i % 2 == 0 ? oldFirst : newFirst;
            TestSession t = loadedOn(e, "ABC-n1");
            int count = (Integer) t.attributes.get("count");
            assertEquals(i - 1, count, "request " + i);
            request(e, t, () -> t.set("count", count + 1));
        }
        assertEquals(1, store.keys("n1").size(), "one copy: " + store.keys("n1"));
        String requestThread = Thread.currentThread().getName();
        assertTrue(store.touchAndDeleteThreads.stream().anyMatch(requestThread::equals)
                && store.touchAndDeleteThreads.stream().noneMatch(t -> t.startsWith("msm-backup")),
                "the former copies are deleted before the response: " + store.touchAndDeleteThreads);
        // the session lives on: the deletes under the former name leave no end's mark (GoneMarks), and when n1
        // fails its secondary copy is read
        assertTrue(store.keys("n2").stream().noneMatch(k -> k.startsWith(GoneMarks.PREFIX)), store.keys("n2").toString());
        store.disconnect("n1");
        SessionEngine failover = engine(context("p_"), rotation("false", KEY_2 + "," + KEY_1));
        Await.await("n1 unavailable", () -> {
            failover.load("ABC-n1");
            return !failover.availableNodes().contains("n1");
        });
        LoadResult r = failover.load("ABC-n1");
        assertEquals(6, r.isFound() ? r.attributes().get("count") : r.status(), "from its secondary copy");
    }

    /** Locks exclude each other whatever the order of the keys (step 2) or when one Tomcat lacks the new key (step 1). */
    @Test
    void locksOfTomcatsWithDifferentKeyListsExcludeEachOther() {
        SessionEngine[] tomcats = {engine(context("p_"), rotation("false", KEY_1)),
            engine(context("p_"), rotation("false", KEY_1 + "," + KEY_2)),
            engine(context("p_"), rotation("false", KEY_2 + "," + KEY_1)),
            engine(context("p_"), rotation("false", KEY_2))};
        for (int holder = 0; holder < tomcats.length; holder++) {
            SessionLock held = tomcats[holder].lock("ABC-n1");
            assertNotNull(held);
            for (int other = 0; other < tomcats.length; other++) {
                boolean noKeyInCommon = Math.min(holder, other) == 0 && Math.max(holder, other) == 3;
                long timeouts = tomcats[other].statistics().get(Counter.LOCK_TIMEOUTS);
                if (noKeyInCommon) { // (never in one cluster at once: the control that the locks are per key)
                    tomcats[other].unlock(tomcats[other].lock("ABC-n1"));
                    assertEquals(timeouts, tomcats[other].statistics().get(Counter.LOCK_TIMEOUTS));
                } else if (other != holder) {
                    assertEquals(null, tomcats[other].lock("ABC-n1"), holder + " holds it, " + other + " waits");
                    assertEquals(timeouts + 1, tomcats[other].statistics().get(Counter.LOCK_TIMEOUTS));
                }
            }
            tomcats[holder].unlock(held);
            assertTrue(store.keys("n1").isEmpty(), "released entirely: " + store.keys("n1"));
        }
    }
    /**
     * A logout while step 2 of a rotation rolls through the cluster (non-sticky, no locking): a request of the session
     * on a Tomcat with the old key first ends after the logout on a Tomcat with the new key first. Its write must find
     * the session ended under the name it writes, as it does without a rotation, on every Tomcat.
     */
    @Test
    void aLogoutDuringARotationStaysDoneForTomcatsWithEitherKeyFirst() {
        String[] oldKeyFirst = {MsmConfig.SESSION_PROTECTION, "encrypt", MsmConfig.SESSION_KEYS, KEY_1 + "," + KEY_2,
            MsmConfig.STICKY, "false"};
        String[] newKeyFirst = {MsmConfig.SESSION_PROTECTION, "encrypt", MsmConfig.SESSION_KEYS, KEY_2 + "," + KEY_1,
            MsmConfig.STICKY, "false"};
        SessionEngine oldFirst = engine(context("p_"), oldKeyFirst);
        SessionEngine newFirst = engine(context("p_"), newKeyFirst);
        TestSession s = created(oldFirst, "ABC-n1");
        request(oldFirst, s, () -> s.set("user", "alice"));

        TestSession running = loadedOn(oldFirst, "ABC-n1"); // a request that started before the logout
        oldFirst.requestStarted(running);
        running.set("cart", 1);
        TestSession logout = loadedOn(newFirst, "ABC-n1");
        logout.active = false;
        newFirst.expired(logout);
        assertTrue(newFirst.awaitIdle(5000));
        oldFirst.requestEnded(running); // ends after the logout
        assertTrue(oldFirst.awaitIdle(5000));

        assertEquals(LoadResult.Status.NOT_FOUND, newFirst.load("ABC-n1").status(), "new key first");
        LoadResult r = engine(context("p_"), oldKeyFirst).load("ABC-n1");
        assertEquals(LoadResult.Status.NOT_FOUND, r.status(), "old key first: the logged-out session is back "
                + (r.isFound() ? r.attributes() : ""));
    }

    /**
     * What protection hides from whoever can read memcached: the keys never name a session, but a signed blob is
     * signed, not encrypted, so its value still holds the session id (and the rest of the session) in clear; only
     * {@code encrypt} hides it.
     */
    @ParameterizedTest(name = "sessionProtection={0}")
    @ValueSource(strings = {"sign", "encrypt"})
    void aSignedValueStillHoldsTheIdAnEncryptedOneDoesNot(String protection) {
        SessionEngine e = engine(context("p_"), MsmConfig.SESSION_PROTECTION, protection, MsmConfig.SESSION_KEYS,
                KEY_1);
        TestSession s = created(e, "SECRETRANDOM-n1.tc1");
        request(e, s, () -> s.set("count", 1));
        List<String> keys = store.keys("n1");
        assertEquals(1, keys.size(), keys.toString());
        assertFalse(keys.get(0).contains("SECRETRANDOM"));
        String value = new String(store.peek("n1", keys.get(0)), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertEquals("sign".equals(protection), value.contains("SECRETRANDOM-n1.tc1"), value);
    }
}
