package io.msm.engine;

import static io.msm.test.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An id this Tomcat ended while its node was away, then took back ({@link SessionEngine#relocated}: a session moved
 * back under it): the delete of its primary key waiting for the node must not drop the session stored there anew.
 * Non-sticky (the end puts tombstones).
 */
class RevivedIdTest {
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF-n1";
    private static final String ON_N2 = "0123456789ABCDEF0123456789ABCDEF-n2";
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    /** Opened at the end of each test: what it held goes on. */
    private final CountDownLatch gate = new CountDownLatch(1);
    private FakeStore store;
    private SessionEngine engine;
    private SessionEngine other;

    @BeforeEach
    void start() {
        AtomicReference<FakeStore> made = new AtomicReference<>();
        engine = SessionEngine.start(config(), context(), listener -> {
            made.set(new FakeStore(clock::get, listener));
            return made.get();
        });
        store = made.get();
    }

    private MsmConfig config() {
        return FakeStore.twoNodes().set(MsmConfig.STICKY, "false").build(getClass().getClassLoader());
    }

    private EngineContext context() {
        return new EngineContext("/app", getClass().getClassLoader(), null, "p_", clock::get);
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

    /** Whether another Tomcat (which never saw the end here) loads the session of {@code ID} as {@code user}. */
    private boolean anotherTomcatLoads(String user) {
        if (other == null) {
            other = SessionEngine.start(config(), context(), listener -> store);
        }
        LoadResult r = other.load(ID);
        return r.isFound() && user.equals(r.attributes().get("user"));
    }

    /** The end's delete waits for n1; the id is taken back; n1 answers again: the new session lives on. */
    @Test
    void anIdTakenBackDropsTheDeleteOfItsKeyWaitingForTheNode() throws Exception {
        TestSession s = stored("alice");
        store.disconnect("n1");
        s.active = false;
        engine.expired(s);
        assertTrue(engine.awaitIdle(5000));
        assertEquals(1, engine.pendingDeletes(), "the end's delete waits for n1");

        engine.relocated(ON_N2, ID); // a session taken back under ID
        assertEquals(0, engine.pendingDeletes(), "the waiting delete would drop the session stored anew under ID");
        store.reconnect("n1");
        assertTrue(engine.awaitIdle(5000));
        stored("bob");
        await("nothing waits", () -> engine.pendingDeletes() == 0 && engine.pendingSecondaryDeletes() == 0);
        assertTrue(anotherTomcatLoads("bob"), "the session stored anew under the id taken back is gone");
    }
}
