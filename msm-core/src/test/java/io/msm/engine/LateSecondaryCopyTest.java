package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import io.msm.config.MsmConfig;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A secondary copy written asynchronously before its session ended, and applied by memcached after the end's delete of
 * that copy (non-sticky): it is the session before its end (before a logout, say), and any Tomcat reads it when the
 * primary's node fails. The Tomcat that ended the session deletes it again when memcached answers that it stored it.
 */
class LateSecondaryCopyTest {
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF-n1";
    private static final String BAK = SessionEngine.BAK_PREFIX + "p_" + ID;
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private FakeStore store;
    private SessionEngine engine;
    private SessionEngine other;
    private SessionEngine third;
    private FakeEngine started;

    @BeforeEach
    void start() {
        started = FakeEngine.nonSticky(clock::get);
        engine = started.engine;
        store = started.store;
    }

    @AfterEach
    void close() {
        CountDownLatch gate = store.asyncGate;
        if (gate != null) {
            gate.countDown();
        }
        engine.close();
        for (SessionEngine e : new SessionEngine[] {other, third}) {
            if (e != null) {
                e.close();
            }
        }
    }

    /** Session {@code ID}, stored by one request here. */
    private TestSession stored() {
        TestSession s = new TestSession(ID, clock.get());
        engine.created(s);
        engine.requestStarted(s);
        s.set("user", "alice");
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        return s;
    }

    /** Session {@code ID} loaded on another Tomcat ({@link #other}) for a request. */
    private TestSession loadedOnAnother() {
        other = started.another();
        LoadResult r = other.load(ID);
        assertTrue(r.isFound(), r.status() + " " + r.reason());
        TestSession there = TestSession.loadedFrom(r, clock.get());
        other.loaded(there, r);
        return there;
    }

    /**
     * A read-only request refreshes the secondary copy (due after half the slack); the copy is missing on n2 (evicted),
     * so it is written again, asynchronously, and that write is held. The user logs out meanwhile: the end deletes the
     * copy on n2 (there is none yet). Then the held write lands.
     */
    @Test
    void aCopyWrittenBeforeTheLogoutAndLandingAfterItsDeleteIsDeletedAgain() throws Exception {
        TestSession s = stored();
        assertNotNull(store.peek("n2", BAK), "its secondary copy");
        store.delete("n2", BAK, 0); // evicted

        store.asyncHeld = new CountDownLatch(1);
        store.asyncGate = new CountDownLatch(1);
        clock.addAndGet(TimeUnit.SECONDS.toMillis(Slack.seconds(s.maxInactive))); // the refresh is due
        s.thisAccessed = clock.get();
        engine.requestStarted(s); // read only
        engine.requestEnded(s);
        assertTrue(store.asyncHeld.await(5, TimeUnit.SECONDS), "the refresh wrote the missing copy again, held");

        s.active = false;
        engine.expired(s); // the logout: its delete of the copy on n2 is made (nothing there yet)
        assertNull(store.peek("n2", BAK));
        store.asyncGate.countDown(); // the pre-logout copy lands
        assertTrue(engine.awaitIdle(5000));
        await("the pre-logout copy on n2 deleted again", () -> store.peek("n2", BAK) == null);
        store.disconnect("n1");
        // another Tomcat, which never saw the logout (this one never loads an ended id: it could not tell)
        other = started.another();
        LoadResult r = other.load(ID);
        assertFalse(r.isFound(), "the logged-out session is back from its secondary copy: " + r.status());
    }

    /**
     * The same, but the copy is another Tomcat's: the user's read-only request there refreshes the copy (missing on
     * n2, so written again, asynchronously, and held) while the user logs out here. That Tomcat never learns of the
     * logout, so it does not delete the copy when it lands; the logout's mark on n2 keeps any Tomcat from reading it.
     */
    @Test
    void aCopyAnotherTomcatSentBeforeTheLogoutAndLandingAfterItsDeleteIsNotRead() throws Exception {
        TestSession s = stored();
        store.delete("n2", BAK, 0); // evicted

        TestSession there = loadedOnAnother();
        store.asyncHeld = new CountDownLatch(1);
        store.asyncGate = new CountDownLatch(1);
        other.requestStarted(there); // read only: the copy's refresh is due there (never refreshed there)
        other.requestEnded(there);
        assertTrue(store.asyncHeld.await(5, TimeUnit.SECONDS), "the other Tomcat wrote the missing copy again, held");

        s.active = false;
        engine.expired(s); // the logout, here
        assertNull(store.peek("n2", BAK));
        store.asyncGate.countDown(); // the other Tomcat's pre-logout copy lands
        assertTrue(other.awaitIdle(5000));
        assertNotNull(store.peek("n2", BAK), "the other Tomcat's copy is on n2 (it never saw the logout)");

        store.disconnect("n1");
        for (SessionEngine e : new SessionEngine[] {other, third = started.another()}) {
            LoadResult after = e.load(ID);
            assertFalse(after.isFound(), "the logged-out session is back from its secondary copy: " + after.status());
        }
    }

    /**
     * The end is slow: its tombstone's node answers 35 s later, within {@code operationTimeout} (40 s here). Meanwhile
     * the user's next request, on another Tomcat, starts 35 s after the end began, finds no tombstone yet, and writes
     * the session: its primary copy before the tombstone, its secondary copy (held on its way) after the end deleted
     * the copy there. That copy's session was accessed more than the clock margin after the end began, but before the
     * tombstone: the mark holds the time by which the tombstones are in memcached, so it hides the copy.
     */
    @Test
    void aCopyWrittenWhileASlowEndPutItsTombstoneIsNotRead() throws Exception {
        engine.close();
        started = FakeEngine.nonSticky(clock::get, MsmConfig.OPERATION_TIMEOUT, "40000");
        engine = started.engine;
        store = started.store;
        TestSession s = stored();

        CountDownLatch tombstoneHeld = new CountDownLatch(1);
        CountDownLatch tombstoneGate = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        store.beforeSet = key -> {
            if (key.equals("p_" + ID) && first.compareAndSet(true, false)) { // the end's tombstone
                tombstoneHeld.countDown();
                try {
                    tombstoneGate.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        Thread logout = new Thread(() -> {
            s.active = false;
            engine.expired(s);
        }, "logout");
        logout.start();
        assertTrue(tombstoneHeld.await(5, TimeUnit.SECONDS), "the end, at its tombstone");

        clock.addAndGet(35_000);
        TestSession there = loadedOnAnother(); // no tombstone yet
        byte[] before = store.peek("n1", "p_" + ID);
        store.asyncGate = new CountDownLatch(1); // its secondary copy, held on its way
        other.requestStarted(there);
        there.set("cart", "full");
        other.requestEnded(there);
        byte[] written = store.peek("n1", "p_" + ID);
        assertTrue(!java.util.Arrays.equals(before, written) && !Tombstones.is(written),
                "the other Tomcat's write reached the primary key before the tombstone");

        clock.addAndGet(5_000);
        tombstoneGate.countDown();
        logout.join(5_000);
        assertFalse(logout.isAlive());
        assertTrue(engine.awaitIdle(5000));
        assertNull(store.peek("n2", BAK), "the end deleted the copy there");
        store.asyncGate.countDown(); // the other Tomcat's copy lands
        assertTrue(other.awaitIdle(5000));
        await("the other Tomcat's copy on n2", () -> store.peek("n2", BAK) != null);

        store.disconnect("n1");
        third = started.another();
        LoadResult after = third.load(ID);
        assertFalse(after.isFound(), "the logged-out session is back from its secondary copy: " + after.status());
    }
}
