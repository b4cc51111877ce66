package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

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
        if (other != null) {
            other.close();
        }
    }

    /**
     * A read-only request refreshes the secondary copy (due after half the slack); the copy is missing on n2 (evicted),
     * so it is written again, asynchronously, and that write is held. The user logs out meanwhile: the end deletes the
     * copy on n2 (there is none yet). Then the held write lands.
     */
    @Test
    void aCopyWrittenBeforeTheLogoutAndLandingAfterItsDeleteIsDeletedAgain() throws Exception {
        TestSession s = new TestSession(ID, clock.get());
        engine.created(s);
        engine.requestStarted(s);
        s.set("user", "alice");
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        assertNotNull(store.peek("n2", BAK), "its secondary copy");
        store.delete("n2", BAK, 0); // evicted

        store.asyncHeld = new CountDownLatch(1);
        store.asyncGate = new CountDownLatch(1);
        clock.addAndGet(TimeUnit.SECONDS.toMillis(SessionEngine.slackSeconds(s.maxInactive))); // the refresh is due
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
}
