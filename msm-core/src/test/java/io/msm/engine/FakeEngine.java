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
    private final String[] attributes;

    private FakeEngine(SessionEngine engine, FakeStore store, LongSupplier clock, String[] attributes) {
        this.engine = engine;
        this.store = store;
        this.clock = clock;
        this.attributes = attributes;
    }

    /** @param attributes more configuration, name and value in turn (every engine of the store gets them) */
    static FakeEngine nonSticky(LongSupplier clock, String... attributes) {
        AtomicReference<FakeStore> made = new AtomicReference<>();
        SessionEngine engine = SessionEngine.start(config(attributes), context(clock), listener -> {
            made.set(new FakeStore(clock, listener));
            return made.get();
        });
        return new FakeEngine(engine, made.get(), clock, attributes);
    }

    /** Another Tomcat's engine on the same nodes (the same store). */
    SessionEngine another() {
        return SessionEngine.start(config(attributes), context(clock), listener -> store);
    }

    private static MsmConfig config(String... attributes) {
        MsmConfig.Builder b = FakeStore.twoNodes().set(MsmConfig.STICKY, "false");
        for (int i = 0; i < attributes.length; i += 2) {
            b.set(attributes[i], attributes[i + 1]);
        }
        return b.build(FakeEngine.class.getClassLoader());
    }

    private static EngineContext context(LongSupplier clock) {
        return new EngineContext("/app", FakeEngine.class.getClassLoader(), null, "p_", clock);
    }
}
