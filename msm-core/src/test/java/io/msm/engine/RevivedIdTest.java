package io.msm.engine;

import static io.msm.test.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * An id this Tomcat ended while its node was away, then took back ({@link SessionEngine#relocated}: a session moved
 * back under it): the delete of its primary key waiting for the node must not drop the session stored there anew.
 * Non-sticky (the end puts tombstones).
 */
class RevivedIdTest {
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF-n1";
    private static final String BAK = SessionEngine.BAK_PREFIX + "p_" + ID;
    private static final String ON_N2 = "0123456789ABCDEF0123456789ABCDEF-n2";
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    /** Opened at the end of each test: what it held goes on. */
    private final CountDownLatch gate = new CountDownLatch(1);
    private FakeEngine started;
    private FakeStore store;
    private SessionEngine engine;
    private SessionEngine other;

    @BeforeEach
    void start() {
        started = FakeEngine.nonSticky(clock::get);
        engine = started.engine;
        store = started.store;
    }

    @AfterEach
    void close() {
        gate.countDown();
        engine.close();
        if (other != null) {
            other.close();
        }
    }

    private TestSession stored(String user) {
        TestSession s = new TestSession(ID, clock.get());
        engine.created(s);
        engine.requestStarted(s);
        s.set("user", user);
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        return s;
    }

    /** Ends {@code s} here (a logout) while n1, its node, is away. */
    private void endedWhileN1IsAway(TestSession s) {
        store.disconnect("n1");
        s.active = false;
        engine.expired(s);
        assertTrue(engine.awaitIdle(5000));
    }

    /** Whether another Tomcat (which never saw the end here) loads the session of {@code ID} as {@code user}. */
    private boolean anotherTomcatLoads(String user) {
        if (other == null) {
            other = started.another();
        }
        LoadResult r = other.load(ID);
        return r.isFound() && user.equals(r.attributes().get("user"));
    }

    /** The end's delete waits for n1; the id is taken back; n1 answers again: the new session lives on. */
    @Test
    void anIdTakenBackDropsTheDeleteOfItsKeyWaitingForTheNode() throws Exception {
        endedWhileN1IsAway(stored("alice"));
        assertEquals(1, engine.pendingDeletes(), "the end's delete waits for n1");

        engine.relocated(ON_N2, ID); // a session taken back under ID
        assertEquals(0, engine.pendingDeletes(), "the waiting delete would drop the session stored anew under ID");
        store.reconnect("n1");
        assertTrue(engine.awaitIdle(5000));
        stored("bob");
        await("nothing waits", () -> engine.pendingDeletes() == 0 && engine.pendingSecondaryDeletes() == 0);
        assertTrue(anotherTomcatLoads("bob"), "the session stored anew under the id taken back is gone");
    }

    /**
     * The end deleted the secondary copy on n2 and left its mark there ({@link GoneMarks}), which hides copies of the
     * session before its end. The session taken back under the id writes copies accessed after it: read when n1 fails,
     * except one written within the clock margin of the end, until the session's next write after the margin.
     */
    @Test
    void aSessionTakenBackIsReadFromItsSecondaryCopyWhenItsNodeFails() throws Exception {
        endedWhileN1IsAway(stored("alice"));
        assertNotNull(store.peek("n2", GoneMarks.PREFIX + "p_" + ID), "the end's mark beside the copy it deleted");
        engine.relocated(ON_N2, ID); // a session taken back under ID
        store.reconnect("n1");
        assertTrue(engine.awaitIdle(5000));

        TestSession bob = stored("bob"); // at once: within the margin
        assertNotNull(store.peek("n2", BAK));
        // no copy to read: the load says the primary's node failed, as when there is none
        assertEquals(LoadResult.Status.UNAVAILABLE, loadedWithN1Failed().status(),
                "a copy accessed within the margin of the end is taken for one before it");

        clock.addAndGet(GoneMarks.CLOCK_MARGIN_MILLIS + 1);
        bob.thisAccessed = clock.get();
        engine.requestStarted(bob);
        bob.set("cart", "full");
        engine.requestEnded(bob);
        assertTrue(engine.awaitIdle(5000));
        LoadResult r = loadedWithN1Failed();
        assertTrue(r.isFound() && "bob".equals(r.attributes().get("user")), "the session taken back is lost with n1: "
                + r.status());
    }

    /** The load of {@code ID} on a Tomcat started now, which finds n1 failed (from its secondary copy); n1 answers again after. */
    private LoadResult loadedWithN1Failed() throws InterruptedException {
        SessionEngine e = started.another();
        try {
            store.disconnect("n1");
            await("n1 unavailable", () -> {
                e.load(ID);
                return !e.availableNodes().contains("n1");
            });
            return e.load(ID);
        } finally {
            e.close();
            store.reconnect("n1");
        }
    }

    /**
     * The end's delete waits for n1; n1 answers again and the recovery's retry makes it (non-sticky: the secondary
     * copy's delete on n2 first, held here, then the tombstone on n1). Meanwhile the id is taken back and the session
     * written anew under it. The late tombstone must not end the session taken back.
     */
    @Test
    @Disabled("known, not covered (README, \"Logouts stay done\"): waiting for the retry and removing its tombstone, "
            + "as tried, could undo another Tomcat's logout of the same id")
    void aRetryInFlightWhenTheIdIsTakenBackDoesNotEndTheSessionWrittenAnew() throws Exception {
        endedWhileN1IsAway(stored("alice"));
        assertEquals(1, engine.pendingDeletes(), "the end's delete waits for n1");
        HeldDelete retry = store.holdDelete("n2/" + BAK, 1, gate);
        store.reconnect("n1");
        assertTrue(retry.held.await(5, TimeUnit.SECONDS), "the recovery's retry of the delete, held");

        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread request = new Thread(() -> {
            try {
                engine.relocated(ON_N2, ID); // a session taken back under ID
                TestSession again = new TestSession(ID, clock.get());
                engine.created(again);
                engine.requestStarted(again);
                again.set("user", "bob");
                engine.requestEnded(again);
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "request");
        request.start();
        // either the take-back and the write went on, or the take-back waits for the delete in flight
        await("the request wrote bob or waits", () -> request.isAlive() ? waitsIn(request, "revive")
                : storedOnN1());
        gate.countDown();
        request.join(10_000);
        assertTrue(!request.isAlive() && failed.get() == null, "the request: " + failed.get());
        assertTrue(engine.awaitIdle(5000));
        assertTrue(anotherTomcatLoads("bob"), "the late delete of the retry ended the session taken back");
    }

    /** Whether the primary key of {@code ID} on n1 holds a session (not a tombstone). */
    private boolean storedOnN1() {
        byte[] v = store.peek("n1", "p_" + ID);
        return v != null && !Tombstones.is(v);
    }

    /** Whether {@code t} waits (parked) in a method named {@code method} of the engine. */
    private static boolean waitsIn(Thread t, String method) {
        Thread.State state = t.getState();
        if (state != Thread.State.WAITING && state != Thread.State.TIMED_WAITING) {
            return false;
        }
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("io.msm.engine.") && e.getMethodName().equals(method)) {
                return true;
            }
        }
        return false;
    }
}
