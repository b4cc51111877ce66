package io.msm.engine;

import java.util.Objects;
import java.util.function.LongSupplier;

/** What the container adapter tells the engine about the webapp it serves. */
public final class EngineContext {
    private final String name;
    private final ClassLoader classLoader;
    private final String jvmRoute;
    private final String keyPrefix;
    private final LongSupplier clock;

    /**
     * @param name shown in every log line, e.g. the context path
     * @param classLoader the webapp class loader; attribute classes are resolved through it
     * @param jvmRoute this Tomcat's jvmRoute, or null
     * @param keyPrefix the resolved {@code storageKeyPrefix}
     * @param clock milliseconds since the epoch; tests inject their own
     */
    public EngineContext(String name, ClassLoader classLoader, String jvmRoute, String keyPrefix, LongSupplier clock) {
        this.name = Objects.requireNonNull(name);
        this.classLoader = Objects.requireNonNull(classLoader);
        this.jvmRoute = jvmRoute == null || jvmRoute.isEmpty() ? null : jvmRoute;
        this.keyPrefix = Objects.requireNonNull(keyPrefix);
        this.clock = Objects.requireNonNull(clock);
    }

    public String name() {
        return name;
    }

    public ClassLoader classLoader() {
        return classLoader;
    }

    /** This Tomcat's jvmRoute, or {@code null}. */
    public String jvmRoute() {
        return jvmRoute;
    }

    public String keyPrefix() {
        return keyPrefix;
    }

    public LongSupplier clock() {
        return clock;
    }
}
