package io.msm.engine;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/** What the container adapter tells the engine about the webapp it serves. */
public final class EngineContext {
    private final String name;
    private final ClassLoader classLoader;
    private final String jvmRoute;
    private final String keyPrefix;
    private final LongSupplier clock;
    private final Supplier<Collection<? extends ManagedSession>> residents;
    private String owner;
    private java.util.function.Consumer<ManagedSession> lost = s -> { };
    private java.util.function.Consumer<ManagedSession> endedElsewhere = s -> { };
    private String host;
    /** {@link #holdsAny}, or {@code null}. */
    private java.util.function.BooleanSupplier holdsAny;
    private io.msm.anchor.AnchorKeys legacyKeys;
    private io.msm.anchor.AnchorConverter legacyConverter;

    /**
     * @param name shown in every log line, e.g. the context path
     * @param classLoader the webapp class loader; attribute classes are resolved through it
     * @param jvmRoute this Tomcat's jvmRoute, or null
     * @param keyPrefix the resolved {@code storageKeyPrefix}
     * @param clock milliseconds since the epoch; tests inject their own
     * @param residents the sessions this container holds now (checked against a memcached node that returns)
     */
    public EngineContext(String name, ClassLoader classLoader, String jvmRoute, String keyPrefix, LongSupplier clock,
            Supplier<Collection<? extends ManagedSession>> residents) {
        this.name = Objects.requireNonNull(name);
        this.classLoader = Objects.requireNonNull(classLoader);
        this.jvmRoute = jvmRoute == null || jvmRoute.isEmpty() ? null : jvmRoute;
        this.keyPrefix = Objects.requireNonNull(keyPrefix);
        this.clock = Objects.requireNonNull(clock);
        this.residents = Objects.requireNonNull(residents);
    }

    /** A context for a container that does not list its sessions. */
    public EngineContext(String name, ClassLoader classLoader, String jvmRoute, String keyPrefix, LongSupplier clock) {
        this(name, classLoader, jvmRoute, keyPrefix, clock, List::of);
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

    /**
     * Marks every stored session as belonging to {@code owner} (e.g. the context path): a blob of another owner is not
     * loaded, so webapps sharing a memcached without a distinguishing {@code storageKeyPrefix} never adopt each
     * other's sessions.
     */
    public EngineContext ownedBy(String owner) {
        this.owner = owner;
        return this;
    }

    /**
     * Sticky mode: {@code listener} is told when another Tomcat took over a session this container holds; the
     * container drops it from memory (without ending it: it lives on there) and forgets its aliases.
     */
    public EngineContext onLost(java.util.function.Consumer<ManagedSession> listener) {
        this.lost = Objects.requireNonNull(listener);
        return this;
    }

    /** Tells the container that it lost {@code session} to another Tomcat. */
    void lost(ManagedSession session) {
        lost.accept(session);
    }

    /**
     * Sticky mode: {@code listener} is told when a session this container took over from another Tomcat was ended
     * there (a logout still running on that Tomcat); the container ends it, with its listeners.
     */
    public EngineContext onEndedElsewhere(java.util.function.Consumer<ManagedSession> listener) {
        this.endedElsewhere = Objects.requireNonNull(listener);
        return this;
    }

    void endedElsewhere(ManagedSession session) {
        endedElsewhere.accept(session);
    }

    /**
     * {@link #ownedBy(String)} the context path, on virtual host {@code host}: with {@code sessionProtection}, stored
     * sessions are bound to host, context path and key prefix, and a blob bound to another webapp (or to none) is not
     * loaded, so a signed blob copied from one virtual host's key to another's is refused.
     */
    public EngineContext ownedBy(String host, String contextPath) {
        this.host = host;
        return ownedBy(contextPath);
    }

    /** The owner of this webapp's sessions, or {@code null}. */
    public String owner() {
        return owner;
    }

    /** The virtual host of this webapp, or {@code null}. */
    public String host() {
        return host;
    }

    /**
     * Where and how memcached-session-manager stored this webapp's sessions (its key layout for the webapp, and the
     * adapter's converter of its format); used with {@code legacySessions}.
     */
    public EngineContext legacySessions(io.msm.anchor.AnchorKeys keys, io.msm.anchor.AnchorConverter converter) {
        this.legacyKeys = Objects.requireNonNull(keys);
        this.legacyConverter = Objects.requireNonNull(converter);
        return this;
    }

    io.msm.anchor.AnchorKeys legacyKeys() {
        return legacyKeys;
    }

    io.msm.anchor.AnchorConverter legacyConverter() {
        return legacyConverter;
    }

    /** The sessions the container holds now. */
    public Collection<? extends ManagedSession> residents() {
        return residents.get();
    }

    /**
     * Tells, without listing them, whether the container holds any session now (asked four times a second: listing
     * 100,000 sessions to find out would cost more than the read it saves). Without it {@link #residents()} is asked.
     */
    public EngineContext holdsAny(java.util.function.BooleanSupplier holdsAny) {
        this.holdsAny = Objects.requireNonNull(holdsAny);
        return this;
    }

    /** Whether the container holds any session now. */
    boolean holdsAnySession() {
        return holdsAny != null ? holdsAny.getAsBoolean() : !residents.get().isEmpty();
    }
}
