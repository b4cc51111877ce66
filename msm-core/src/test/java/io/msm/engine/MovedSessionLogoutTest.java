package io.msm.engine;

import static io.msm.test.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A non-sticky session that moved off a failed node (its id names the node: it has two ids now) and is then logged
 * out, with its former id handed to the end as the adapter does: every copy under either id ends, the secondary copy
 * of its current id included, so it does not come back when its new node fails too.
 */
class MovedSessionLogoutTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<SessionEngine> engines = new ArrayList<>();

    @AfterEach
    void close() {
        engines.forEach(SessionEngine::close);
    }

    /** Several random parts: which of a session's two ids the end takes first depends on their hashes. */
    @ParameterizedTest
    @ValueSource(strings = {"0123456789ABCDEF0123456789ABCDEF", "FEDCBA9876543210FEDCBA9876543210",
        "00000000000000000000000000000001", "A1B2C3D4E5F60718293A4B5C6D7E8F90"})
    void aSessionMovedOffItsNodeAndLoggedOutDoesNotComeBackWhenItsNewNodeFails(String random) throws Exception {
        FakeEngine started = FakeEngine.nonSticky(clock::get, MsmConfig.MEMCACHED_NODES,
                "n1:127.0.0.1:1,n2:127.0.0.1:2,n3:127.0.0.1:3");
        SessionEngine engine = started.engine;
        FakeStore store = started.store;
        engines.add(engine);
        String first = random + "-n1";
        TestSession s = new TestSession(first, clock.get());
        engine.created(s);
        request(engine, s, "alice");

        store.disconnect("n1"); // its node fails: the next request moves it to n2
        String moved = engine.relocate(first);
        assertEquals(random + "-n2", moved);
        s.id = moved;
        engine.relocated(first, moved);
        request(engine, s, "alice");
        assertNotNull(store.peek("n3", SessionEngine.BAK_PREFIX + "p_" + moved), "its secondary copy, on n3");
        store.reconnect("n1");

        clock.addAndGet(60_000);
        s.active = false;
        engine.expired(s, List.of(first)); // the logout
        assertTrue(engine.awaitIdle(5000));

        store.disconnect("n2"); // its new node fails
        SessionEngine other = started.another();
        engines.add(other);
        await("n2 unavailable", () -> {
            other.load(moved);
            return !other.availableNodes().contains("n2");
        });
        LoadResult r = other.load(moved);
        assertFalse(r.isFound(), "the logged-out session is back from its secondary copy: " + r.status());
    }

    private static void request(SessionEngine e, TestSession s, String user) {
        e.requestStarted(s);
        s.set("user", user);
        e.requestEnded(s);
        assertTrue(e.awaitIdle(5000));
    }
}
