package io.msm.engine;

import io.msm.codec.SessionData;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A minimal container session for engine tests. */
final class TestSession implements ManagedSession {
    volatile String id;
    volatile boolean active = true;
    volatile int maxInactive = 60;
    volatile long thisAccessed;
    /** {@link #mayBeReused()}: {@code false} stands for a request the container still finishes. */
    volatile boolean reusable = true;
    final Map<String, Object> attributes = new ConcurrentHashMap<>();
    private final SessionState state = new SessionState();

    TestSession(String id, long now) {
        this.id = id;
        this.thisAccessed = now;
    }

    /**
     * The session a load gives, as the adapter takes it: the object kept when it left memory if the load reused it,
     * else a new one filled from the stored copy (then {@link SessionEngine#loaded} is the caller's).
     */
    static TestSession loadedFrom(LoadResult r, long now) {
        if (r.reusedSession() != null) {
            TestSession kept = (TestSession) r.reusedSession();
            kept.thisAccessed = now;
            return kept;
        }
        TestSession s = new TestSession(r.data().id(), now);
        s.maxInactive = r.data().maxInactiveInterval();
        s.attributes.putAll(r.attributes());
        return s;
    }

    void set(String name, Object value) {
        attributes.put(name, value);
        state.attributeAccessed(name);
    }

    /** Reads an attribute as a container session does: a value that may change in place marks it accessed. */
    Object get(String name) {
        Object value = attributes.get(name);
        if (!ImmutableValues.cannotChange(value)) {
            state.attributeAccessed(name);
        }
        return value;
    }

    @Override
    public boolean mayBeReused() {
        return reusable;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public boolean isActive() {
        return active;
    }

    @Override
    public int maxInactiveInterval() {
        return maxInactive;
    }

    @Override
    public long thisAccessedTime() {
        return thisAccessed;
    }

    @Override
    public SessionData.Builder metadata() {
        return SessionData.builder(id).times(1, thisAccessed, thisAccessed)
                .maxInactiveInterval(maxInactive);
    }

    @Override
    public Map<String, Object> attributes() {
        return Map.copyOf(attributes);
    }

    @Override
    public SessionState state() {
        return state;
    }
}
