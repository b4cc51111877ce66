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
    final Map<String, Object> attributes = new ConcurrentHashMap<>();
    private final SessionState state = new SessionState();

    TestSession(String id, long now) {
        this.id = id;
        this.thisAccessed = now;
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
