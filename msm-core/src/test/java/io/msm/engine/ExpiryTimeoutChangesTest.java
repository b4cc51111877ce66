package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Non-sticky, a session's timeout is its own, whatever Tomcat set it last: the timeout watch and a request's load
 * judge memcached's copy by it, and a load never leaves the copy shorter-lived than it (fake store and clock; the
 * watch's thread is not started, ticks are called).
 */
class ExpiryTimeoutChangesTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private FakeStore store;
    private final List<SessionEngine> engines = new ArrayList<>();
    private final List<String> ended = new ArrayList<>();

    private final ExpiryWatch.Container container = new ExpiryWatch.Container() {
        @Override
        public boolean holds(String id) {
            return false;
        }

        @Override
        public void expire(LoadResult loaded) {
            ended.add(loaded.data().id());
        }
    };

    /** A non-sticky Tomcat on the shared fake store. */
    private SessionEngine tomcat() {
        MsmConfig config = FakeStore.twoNodes()
                .set(MsmConfig.STICKY, "false")
                .build(getClass().getClassLoader());
        SessionEngine e = SessionEngine.start(config,
                new EngineContext("/test", getClass().getClassLoader(), null, "p_", clock::get),
                listener -> store != null ? store : (store = new FakeStore(clock::get, listener)));
        engines.add(e);
        return e;
    }

    @AfterEach
    void close() {
        engines.forEach(SessionEngine::close);
    }

    private void advance(long seconds) {
        clock.addAndGet(seconds * 1000);
    }

    /** A new session with timeout {@code maxInactive}, stored by the request that created it. */
    private TestSession created(SessionEngine e, String id, int maxInactive) {
        TestSession s = new TestSession(id, clock.get());
        s.maxInactive = maxInactive;
        e.created(s);
        e.requestStarted(s);
        s.set("count", 1);
        e.requestEnded(s);
        assertTrue(e.awaitIdle(5000));
        return s;
    }

    /** A request that starts using session {@code id} (loaded from memcached); the caller ends it. */
    private TestSession started(SessionEngine e, String id) {
        LoadResult r = e.load(id);
        assertTrue(r.isFound(), r.status().toString());
        assertFalse(r.timedOut(), "a request that came before the timeout");
        TestSession s = TestSession.loadedFrom(r, clock.get());
        e.loaded(s, r);
        e.requestStarted(s);
        return s;
    }

    private void request(SessionEngine e, String id, Consumer<TestSession> work) {
        TestSession s = started(e, id);
        work.accept(s);
        e.requestEnded(s);
        assertTrue(e.awaitIdle(5000));
    }

    /**
     * tc1 saw the session with a 10-minute timeout; on tc2 the application lowered it to 60 s (slack 6 s), and the
     * user goes on there, a request every 30 s. When its timeout as last seen on tc1 comes, memcached's copy has 36 s
     * left: less than the slack of a 10-minute timeout (60 s), not less than its own.
     */
    @Test
    void aTimeoutLoweredOnAnotherTomcatDoesNotEndTheSessionInUseThere() {
        SessionEngine tc1 = tomcat();
        SessionEngine tc2 = tomcat();
        tc1.expiry().adopt(container);
        TestSession s = created(tc1, "ABC1-n1", 600);
        request(tc2, s.id(), c -> {
            c.maxInactive = 60;
            c.state().metadataChanged();
        });
        for (int i = 1; i <= 24; i++) { // 12 minutes: past its timeout as last seen on tc1
            advance(30);
            tc1.expiry().tick();
            assertEquals(List.of(), ended, "used on tc2 30 s ago, " + i * 30 + " s after tc1 served it");
            request(tc2, s.id(), c -> { });
        }
        advance(61); // now idle for its own timeout
        for (int tick = 0; tick < 240 && ended.isEmpty(); tick++) { // its first look is up to a timeout away
            clock.addAndGet(ExpiryWatch.TICK_MILLIS);
            tc1.expiry().tick();
        }
        assertEquals(List.of(s.id()), ended, "ends once idle for its own timeout");
    }

    /**
     * tc2's usual timeout is 60 s (the sessions it made have it), so its load refreshes memcached's copy for 66 s. A
     * long request there (a download, a long poll) uses a session with a 10-minute timeout: a parallel request on
     * tc1 10 s later must not find it timed out (56 s left, less than its slack, 60 s).
     */
    @Test
    void aLoadForAShorterUsualTimeoutLeavesTheSessionAliveDuringALongRequest() {
        SessionEngine tc1 = tomcat();
        SessionEngine tc2 = tomcat();
        TestSession s = created(tc1, "ABC1-n1", 600);
        created(tc2, "ABC2-n2", 60); // tc2's usual timeout
        TestSession longRequest = started(tc2, s.id());
        assertTrue(tc2.awaitIdle(5000));

        advance(10);
        LoadResult parallel = tc1.load(s.id());
        assertTrue(parallel.isFound());
        assertFalse(parallel.timedOut(), "in use on tc2 (its request started 10 s ago)");
        tc2.requestEnded(longRequest);
    }

    /** The same, with a request longer than tc2's usual timeout: memcached must not drop the copy meanwhile. */
    @Test
    void aLoadForAShorterUsualTimeoutKeepsTheCopyForTheSessionsOwnTimeout() {
        SessionEngine tc1 = tomcat();
        SessionEngine tc2 = tomcat();
        TestSession s = created(tc1, "ABC1-n1", 600);
        created(tc2, "ABC2-n2", 60);
        TestSession longRequest = started(tc2, s.id());
        assertTrue(tc2.awaitIdle(5000));

        advance(70);
        assertEquals(LoadResult.Status.FOUND, tc1.load(s.id()).status(), "its request started 70 s ago");
        tc2.requestEnded(longRequest);
    }

    /**
     * A session that never times out ({@code maxInactiveInterval <= 0}) keeps a copy that never expires, even when a
     * Tomcat whose usual timeout is 60 s only reads it.
     */
    @Test
    void aSessionWithoutTimeoutReadByATomcatWithAUsualTimeoutIsNotDroppedByMemcached() {
        SessionEngine tc1 = tomcat();
        SessionEngine tc2 = tomcat();
        TestSession s = created(tc1, "ABC1-n1", -1);
        created(tc2, "ABC2-n2", 60);
        request(tc2, s.id(), c -> c.get("count")); // reads it

        advance(3600);
        assertEquals(LoadResult.Status.FOUND, tc1.load(s.id()).status(), "it never times out");
    }
}
