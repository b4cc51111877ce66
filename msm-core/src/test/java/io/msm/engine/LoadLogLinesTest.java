package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.store.MemcachedSessionStore;
import io.msm.test.log.LogLines;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the engine logs when a load goes wrong: never a session id in full (an id is a bearer token). */
class LoadLogLinesTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final FakeStore store = new FakeStore(clock::get, MemcachedSessionStore.ConnectionListener.NONE);
    private final Logger logger = Logger.getLogger("io.msm.engine");
    private final Level levelBefore = logger.getLevel();
    private LogLines capture;
    private List<String> lines;
    private SessionEngine engine;

    @AfterEach
    void close() {
        if (capture != null) {
            capture.close();
        }
        logger.setLevel(levelBefore);
        if (engine != null) {
            engine.close();
        }
    }

    /**
     * The blob under one session's key holds another session (copied there by whoever can write to memcached): the
     * load is refused, and neither its reason nor the log line names the other session's id, which the line would
     * otherwise hand out (with {@code encrypt}, memcached never showed it).
     */
    @Test
    void aBlobOfAnotherSessionUnderASessionsKeyIsRefusedWithoutNamingItsId() {
        logger.setLevel(Level.ALL);
        capture = LogLines.all("io.msm.engine");
        lines = capture.lines();
        engine = SessionEngine.start(FakeStore.twoNodes()
                .build(getClass().getClassLoader()),
                new EngineContext("/app", getClass().getClassLoader(), "tc1", "p_", clock::get), listener -> store);
        for (String id : List.of("VICTIMSECRET-n1.tc1", "MINE-n1.tc1")) {
            TestSession s = new TestSession(id, clock.get());
            engine.created(s);
            engine.requestStarted(s);
            s.set("count", 1);
            engine.requestEnded(s);
        }
        assertTrue(engine.awaitIdle(5000));
        store.put("n1", "p_MINE-n1.tc1", store.peek("n1", "p_VICTIMSECRET-n1.tc1"));

        LoadResult r = engine.load("MINE-n1.tc1");
        assertEquals(LoadResult.Status.UNREADABLE, r.status());
        assertFalse(r.reason().contains("VICTIMSECRET"), "the reason names the other session: " + r.reason());
        assertFalse(lines.isEmpty(), "the refusal is logged");
        for (String line : lines) {
            assertFalse(line.contains("VICTIMSECRET"), "a log line names the other session: " + line);
        }
    }
}
