package io.msm.engine;

import static io.msm.test.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.anchor.AnchorBlob;
import io.msm.anchor.AnchorKeys;
import io.msm.config.MsmConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code legacySessions="readWrite"}, non-sticky: msm's own copies are in the old manager's format, whose times an
 * end's mark ({@link GoneMarks}) is weighed against as those of msm's format: a copy written after the mark (a session
 * taken back under an id it had) is read when its node fails, one of before is not.
 */
class LegacyCopiesGoneMarkTest {
    private static final String ID = "ABC1-n1";
    private static final String MARK = GoneMarks.PREFIX + "p_" + ID;
    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final List<SessionEngine> engines = new ArrayList<>();
    private FakeStore store;

    @AfterEach
    void close() {
        engines.forEach(SessionEngine::close);
    }

    private SessionEngine start(boolean first) {
        MsmConfig config = FakeStore.twoNodes().set(MsmConfig.STICKY, "false").set(MsmConfig.LEGACY_SESSIONS,
                "readWrite").build(getClass().getClassLoader());
        EngineContext ctx = new EngineContext("/test", getClass().getClassLoader(), null, "p_", clock::get)
                .legacySessions(AnchorKeys.withPrefix("p_"), LegacyWritesExpiryTest.CONVERTER);
        SessionEngine e = SessionEngine.start(config, ctx,
                listener -> first ? (store = new FakeStore(clock::get, listener)) : store);
        engines.add(e);
        return e;
    }

    /** The load of the session on a Tomcat started now, which finds n1 failed (from its secondary copy). */
    private LoadResult loadedWithN1Failed() throws InterruptedException {
        SessionEngine e = start(false);
        store.disconnect("n1");
        try {
            await("n1 unavailable", () -> {
                e.load(ID);
                return !e.availableNodes().contains("n1");
            });
            return e.load(ID);
        } finally {
            store.reconnect("n1");
        }
    }

    @Test
    void aCopyInTheOldFormatIsWeighedByItsTimes() throws Exception {
        SessionEngine engine = start(true);
        TestSession s = new TestSession(ID, clock.get());
        engine.created(s);
        engine.requestStarted(s);
        s.set("count", 1);
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        assertTrue(AnchorBlob.looksLikeOne(store.peek("n2", SessionEngine.BAK_PREFIX + "p_" + ID)),
                "the secondary copy, in the old format");

        store.put("n2", MARK, GoneMarks.of(clock.get() - GoneMarks.CLOCK_MARGIN_MILLIS - 1)); // an end before it
        LoadResult r = loadedWithN1Failed();
        assertTrue(r.isFound() && Integer.valueOf(1).equals(r.attributes().get("count")),
                "a copy written after the end is read: " + r.status());
        store.put("n2", MARK, GoneMarks.of(clock.get())); // an end after it
        assertNotNull(store.peek("n2", SessionEngine.BAK_PREFIX + "p_" + ID));
        // no copy to read: the load says the primary's node failed, as when there is none
        assertEquals(LoadResult.Status.UNAVAILABLE, loadedWithN1Failed().status(), "a copy of before the end is not");
        assertEquals(1, s.attributes.get("count"));
    }
}
