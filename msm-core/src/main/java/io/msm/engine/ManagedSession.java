package io.msm.engine;

import io.msm.codec.SessionData;
import java.util.Map;

/**
 * A container's session as the engine sees it. Implemented by the adapter's session class; every method may be called
 * from a backup thread while requests use the session.
 */
public interface ManagedSession {

    /** The current id. */
    String id();

    /** {@code false} once the session is invalidated or expiring: it must not be stored again. */
    boolean isActive();

    /** Seconds; {@code <= 0} never expires. */
    int maxInactiveInterval();

    /** When the last request for this session started (ms since the epoch). */
    long thisAccessedTime();

    /** When the session was created (ms since the epoch); {@code 0} if unknown. */
    default long creationTime() {
        return 0;
    }

    /** Sticky: the ids this session had before msm moved it here (takeovers, node failovers), as far as known. */
    default java.util.Collection<String> formerIds() {
        return java.util.List.of();
    }

    /**
     * Non-sticky ({@code idleSessionCache}): whether this object, which left memory, may serve the session's next load
     * as it is; {@code false} while the container still finishes a request that used it (the next load then builds
     * a new object).
     */
    default boolean mayBeReused() {
        return true;
    }

    /** The metadata to store (id, times, auth state, notes); the engine adds the attribute bytes. */
    SessionData.Builder metadata();

    /** A point-in-time shallow copy of the attributes. */
    Map<String, Object> attributes();

    /**
     * Names in {@link #attributes()} whose values a request may change in place without the session being told
     * (e.g. a user principal the adapter stores among the attributes, which a request reaches through the request,
     * not {@code getAttribute}): serialized on every write, never reused from an earlier one.
     */
    default java.util.Set<String> unwatchedAttributes() {
        return java.util.Set.of();
    }

    /** The engine's bookkeeping for this session, created by {@link SessionEngine#newState()}. */
    SessionState state();
}
