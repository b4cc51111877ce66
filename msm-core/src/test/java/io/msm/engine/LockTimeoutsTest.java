package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.msm.config.MsmConfig;
import io.msm.store.MemcachedSessionStore;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Non-sticky locking: waiting for a busy lock says nothing about its node's health. */
class LockTimeoutsTest {
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
     * A request waits for a lock another request holds, retrying with growing pauses until operationTimeout (100 ms).
     * Its last attempt has what is left of that time, 25 ms here; the node answers every call in 50 ms, well within
     * operationTimeout. That attempt timing out is the wait ending, not the node failing: the node stays available.
     */
    @Test
    void aLockAttemptThatTimesOutWithLittleTimeLeftLeavesItsNodeAvailable() {
        engine = SessionEngine.start(FakeStore.twoNodes()
                .set(MsmConfig.STICKY, "false").set(MsmConfig.LOCKING_MODE, "all")
                .set(MsmConfig.OPERATION_TIMEOUT, "100")
                .build(getClass().getClassLoader()),
                new EngineContext("/app", getClass().getClassLoader(), null, "p_", clock::get), listener -> store);
        SessionLock held = engine.lock("S-n1");
        assertNotNull(held);
        store.addLatencyMillis = 50;
        assertNull(engine.lock("S-n1"), "(the lock is busy for the whole wait)");
        assertEquals(List.of("n1", "n2"), engine.availableNodes(), "a busy lock made its node unavailable");
        store.addLatencyMillis = 0;
        engine.unlock(held);
    }
}
