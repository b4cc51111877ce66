package io.msm.engine;

import io.msm.config.MsmConfig;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * A non-sticky engine of webapp {@code /app} (key prefix {@code p_}) on a {@link FakeStore} of two nodes with the
 * test's clock, as the tests of ended sessions' deletes start it; {@link #another} starts a second Tomcat's engine on
 * the same store.
 */
final class FakeEngine {
    final SessionEngine engine;
    final FakeStore store;
    private final LongSupplier clock;

    private FakeEngine(SessionEngine engine, FakeStore store, LongSupplier clock) {
        this.engine = engine;
        this.store = store;
        this.clock = clock;
    }

    static FakeEngine nonSticky(LongSupplier clock) {
        AtomicReference<FakeStore> made = new AtomicReference<>();
        SessionEngine engine = SessionEngine.start(config(), context(clock), listener -> {
            made.set(new FakeStore(clock, listener));
            return made.get();
        });
        return new FakeEngine(engine, made.get(), clock);
    }

    /** Another Tomcat's engine on the same nodes (the same store). */
    SessionEngine another() {
        return SessionEngine.start(config(), context(clock), listener -> store);
    }

    private static MsmConfig config() {
        return FakeStore.twoNodes().set(MsmConfig.STICKY, "false").build(FakeEngine.class.getClassLoader());
    }

    private static EngineContext context(LongSupplier clock) {
        return new EngineContext("/app", FakeEngine.class.getClassLoader(), null, "p_", clock);
    }
}
