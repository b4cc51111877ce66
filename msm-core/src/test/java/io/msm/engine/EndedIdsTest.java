package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.store.MemcachedSessionStore;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ids the engine remembers as ended (never loaded again) while memcached may still hold a copy: a client that
 * creates and ends sessions as fast as it can must not grow that memory once memcached holds their tombstones.
 */
class EndedIdsTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final FakeStore store = new FakeStore(clock::get, MemcachedSessionStore.ConnectionListener.NONE);
    private SessionEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private int endedIds() {
        return engine.endedIds();
    }

    /**
     * Non-sticky logouts with every node up: each ended id gets its tombstone on every node (its own key and the key
     * it would have on each other node). Once memcached holds them, nothing needs the ids in memory; on main each
     * logout left one id per other node for the session's timeout plus slack (a client with a logout URL grows the
     * map by one entry per two requests, for half an hour with the usual timeout).
     */
    @Test
    void nonStickyLogoutsLeaveNoIdInMemoryOnceTheirTombstonesAreStored() throws Exception {
        engine = SessionEngine.start(FakeStore.twoNodes()
                .set(MsmConfig.STICKY, "false")
                .build(getClass().getClassLoader()),
                new EngineContext("/app", getClass().getClassLoader(), null, "p_", clock::get), listener -> store);
        for (int i = 0; i < 100; i++) {
            TestSession s = new TestSession("S" + i + "-n1", clock.get());
            s.maxInactive = 1800;
            engine.created(s);
            engine.requestStarted(s);
            s.set("user", "alice");
            engine.requestEnded(s);
            s.active = false;
            engine.expired(s);
        }
        assertTrue(engine.awaitIdle(5000));
        assertEquals(100, store.keys("n2").stream().filter(k -> Tombstones.is(store.peek("n2", k))).count(),
                "(the tombstones of the ids on n2 are stored)");
        assertEquals(0, endedIds(), "ended ids kept in memory");
    }
}
