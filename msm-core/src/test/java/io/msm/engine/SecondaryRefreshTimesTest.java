package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How long a non-sticky Tomcat remembers when it refreshed a secondary copy: 60 s (the longest half slack, with
 * margin); only a test shortens it ({@link SecondaryCopies#keepRefreshTimes}), to wait less for the purge.
 */
class SecondaryRefreshTimesTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private EngineBase base;
    private SecondaryCopies secondaries;
    private TestSession session;

    @BeforeEach
    void refreshedNow() {
        MsmConfig config = FakeStore.twoNodes().set(MsmConfig.STICKY, "false").build(getClass().getClassLoader());
        base = new EngineBase(config, new EngineContext("/app", getClass().getClassLoader(), null, "p_", clock::get),
                listener -> new FakeStore(clock::get, listener));
        base.health.awaitConnections(0);
        secondaries = new SecondaryCopies(base);
        session = new TestSession("ABC-n1", clock.get());
        session.maxInactive = 1800; // slack 60 s: refreshed at most every 30 s
        session.state().stored = true;
        secondaries.secondaryAnswered(session.state(), session.id(), "n2", true, clock.get(), 60);
    }

    @AfterEach
    void close() {
        base.threads.shutdownNow();
        base.store.close();
    }

    @Test
    void refreshTimeIsKeptSixtySeconds() {
        long at = clock.get();
        secondaries.purge(at + 59_000);
        assertFalse(secondaries.secondaryDue(session, at + 1000), "still known: not due before half the slack");
        secondaries.purge(at + 60_001);
        assertTrue(secondaries.secondaryDue(session, at + 1000), "forgotten: due again");
    }

    @Test
    void aTestCanShortenHowLongItIsKept() {
        long at = clock.get();
        secondaries.keepRefreshTimes(2000);
        secondaries.purge(at + 1000);
        assertFalse(secondaries.secondaryDue(session, at + 1000));
        secondaries.purge(at + 2001);
        assertTrue(secondaries.secondaryDue(session, at + 2001), "forgotten after 2 s");
    }
}
