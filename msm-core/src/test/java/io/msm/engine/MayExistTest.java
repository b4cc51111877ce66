package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Choosing among session cookies asks memcached whether a session exists: under the keys the session has. */
class MayExistTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private FakeStore store;
    private SessionEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    /**
     * Non-sticky, the session's node down: the question goes to its secondary copy. Behind a prefix long enough that
     * the keys are hashed (see StorageKeys), the secondary copy's key is not "bak:" and the primary's key.
     */
    @Test
    void aSessionWhoseNodeIsDownIsFoundByItsSecondaryCopyBehindALongPrefix() {
        engine = SessionEngine.start(FakeStore.twoNodes()
                .set(MsmConfig.STICKY, "false")
                .build(getClass().getClassLoader()),
                new EngineContext("/app", getClass().getClassLoader(), null, "context".repeat(35) + "_", clock::get),
                listener -> store = new FakeStore(clock::get, listener));
        TestSession s = new TestSession("SESSIONRANDOM-n1", clock.get());
        engine.created(s);
        engine.requestStarted(s);
        s.set("count", 1);
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        assertTrue(engine.mayExist(s.id()), "(node up: found)");
        store.disconnect("n1");
        assertFalse(engine.availableNodes().contains("n1"));
        assertTrue(engine.mayExist(s.id()), "its secondary copy on n2 was not found");
    }
}
