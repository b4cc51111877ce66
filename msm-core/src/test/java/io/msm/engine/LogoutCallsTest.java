package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.store.MemcachedSessionStore;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a non-sticky logout costs in memcached calls. */
class LogoutCallsTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final FakeStore store = new FakeStore(clock::get, MemcachedSessionStore.ConnectionListener.NONE);
    private SessionEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    /**
     * Two nodes, every one up: the logout's calls are a tombstone under the session's key, one under the key its id
     * would have on the other node, and one delete of its secondary copy there (on main the copy was deleted twice)
     * with the mark beside it that hides a copy landing later ({@link GoneMarks}).
     */
    @Test
    void aNonStickyLogoutDeletesTheSecondaryCopyOnce() {
        engine = SessionEngine.start(FakeStore.twoNodes()
                .set(MsmConfig.STICKY, "false")
                .build(getClass().getClassLoader()),
                new EngineContext("/app", getClass().getClassLoader(), null, "p_", clock::get), listener -> store);
        TestSession s = new TestSession("S-n1", clock.get());
        engine.created(s);
        engine.requestStarted(s);
        s.set("user", "alice");
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        int sets = store.sets.get();
        int deletes = store.deletes.get();

        s.active = false;
        engine.expired(s);
        assertTrue(engine.awaitIdle(5000));
        assertEquals(3, store.sets.get() - sets, "two tombstones and a mark");
        // when the tombstone is in memcached at the latest: after a mark and a delete on n2, one timeout each
        assertEquals(clock.get() + 3 * engine.config().operationTimeoutMillis(),
                GoneMarks.endedAt(store.peek("n2", "gone:p_S-n1")), "the mark, on n2");
        assertEquals(1, store.deletes.get() - deletes, "deletes of the secondary copy");
    }
}
