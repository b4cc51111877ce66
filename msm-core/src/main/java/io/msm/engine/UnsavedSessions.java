package io.msm.engine;

import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sessions whose latest state could not be stored (their node was unavailable); stored when a node returns. Sticky
 * sessions live in the container's memory anyway. Non-sticky ones are held in memory only for this reason (the
 * container keeps them while they are here), so in non-sticky mode their number is bounded (a client creating a
 * session per request during an outage cannot fill the heap), and one that is no longer in the container's memory is
 * forgotten at its timeout (the container expires those it holds).
 */
final class UnsavedSessions {
    /** Non-sticky: at most this many sessions wait for a node. */
    static final int NON_STICKY_MAX = 10_000;

    private final Set<ManagedSession> sessions = ConcurrentHashMap.newKeySet();
    private final int max;

    /** @param max how many are kept at most ({@link Integer#MAX_VALUE}: no bound) */
    UnsavedSessions(int max) {
        this.max = max;
    }

    /**
     * Keeps {@code s} until it is stored.
     *
     * @return {@code false} if it is not kept: the bound is reached (concurrent adds may pass it by a few)
     */
    boolean add(ManagedSession s) {
        if (sessions.contains(s)) {
            return true;
        }
        if (sessions.size() >= max) {
            return false;
        }
        sessions.add(s);
        return true;
    }

    /** Called for every write and load: mostly none are unsaved, and the check then needs no hash of {@code s}. */
    boolean remove(ManagedSession s) {
        return !sessions.isEmpty() && sessions.remove(s);
    }

    boolean contains(ManagedSession s) {
        return !sessions.isEmpty() && sessions.contains(s);
    }

    int size() {
        return sessions.size();
    }

    boolean isEmpty() {
        return sessions.isEmpty();
    }

    /** A copy, for work that stores them. */
    Set<ManagedSession> snapshot() {
        return new HashSet<>(sessions);
    }

    /**
     * Forgets the sessions that ended, and those the container no longer holds whose timeout has passed since their
     * last request (at {@code now}, clock millis).
     */
    void purge(long now, Collection<? extends ManagedSession> residents) {
        if (sessions.isEmpty()) {
            return;
        }
        Set<ManagedSession> held = Collections.newSetFromMap(new IdentityHashMap<>());
        held.addAll(residents);
        sessions.removeIf(s -> !s.isActive() || !held.contains(s) && timedOut(s, now));
    }

    private static boolean timedOut(ManagedSession s, long now) {
        int mi = s.maxInactiveInterval();
        long last = Math.max(s.thisAccessedTime(), s.state().lastRequestEnd);
        return mi > 0 && now - last > mi * 1000L;
    }
}
