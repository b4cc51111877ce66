package io.msm.node;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * Which memcached nodes can be used right now, answered from memory so a request never waits to find out.
 *
 * <p>A node is available when the store's connections to it are up (the store notices a dead process at once, before
 * any operation fails) and it is not <em>suspect</em>. A node becomes suspect
 * when an operation on it times out: a paused or overloaded memcached keeps its connections open but does not
 * answer. Requests then skip it without calling it; only {@link #probeSuspects()} (run by a background thread)
 * calls it, until it answers.
 *
 * <p>Every change of a node's availability is reported once: to the listener with {@code true} when it became
 * available (re-send what could not be stored meanwhile) and {@code false} when it stopped being available. A node's
 * availability is unknown until the start has waited for its connections ({@link #started}): they come up in any
 * order meanwhile, which is no change. A node still unavailable then is reported once.
 */
public final class NodeAvailability {
    private final Predicate<String> connected;
    private final Predicate<String> prober;
    private final BiConsumer<String, Boolean> listener;
    private final Set<String> suspects = ConcurrentHashMap.newKeySet();
    /** The last availability reported (or found at the start) per node; absent while unknown. */
    private final Map<String, Boolean> reported = new ConcurrentHashMap<>();
    /** The nodes whose start has waited for their connections ({@link #started}). */
    private final Set<String> known = ConcurrentHashMap.newKeySet();

    /**
     * @param connected whether the store's connections to a node are up (no I/O)
     * @param prober calls a node once with a bounded timeout; {@code true} if it answered
     * @param listener told {@code (nodeId, available)} on every change; must return quickly
     */
    public NodeAvailability(Predicate<String> connected, Predicate<String> prober,
            BiConsumer<String, Boolean> listener) {
        this.connected = connected;
        this.prober = prober;
        this.listener = listener;
    }

    public boolean isAvailable(String nodeId) {
        return !suspects.contains(nodeId) && connected.test(nodeId);
    }

    /**
     * One of the inputs of {@code nodeId} changed (connection events); reports a resulting change. While the node is
     * unknown only its coming up is noted, unreported.
     */
    public synchronized void changed(String nodeId) {
        boolean now = isAvailable(nodeId);
        Boolean before = reported.get(nodeId);
        if (before == null) {
            if (now) {
                reported.put(nodeId, true);
            }
        } else if (before != now) {
            reported.put(nodeId, now);
            listener.accept(nodeId, now);
        }
    }

    /**
     * The start has waited for the node's connections: from now on its availability is known, and it is reported
     * unavailable (once) if it is not available yet.
     */
    public synchronized void started(String nodeId) {
        known.add(nodeId);
        if (reported.containsKey(nodeId)) {
            changed(nodeId);
        } else {
            boolean now = isAvailable(nodeId);
            reported.put(nodeId, now);
            if (!now) {
                listener.accept(nodeId, false);
            }
        }
    }

    /**
     * Node {@code nodeId} is a new, empty node now (the same id at another address): reported unavailable if it was
     * reported available, then available at once if its new connections are up already, so its return is reported
     * (what this Tomcat holds is stored there again) however soon it connected. A timeout at the old address says
     * nothing of the new one: the node is no longer suspect. Nothing is reported while the start waits.
     */
    public synchronized void renewed(String nodeId) {
        suspects.remove(nodeId);
        if (known.contains(nodeId) && Boolean.TRUE.equals(reported.get(nodeId))) {
            reported.put(nodeId, false);
            listener.accept(nodeId, false);
        }
        changed(nodeId);
    }

    /** Node {@code nodeId} was removed: what was known of it goes, without a report. */
    public synchronized void forget(String nodeId) {
        known.remove(nodeId);
        suspects.remove(nodeId);
        reported.remove(nodeId);
    }

    /** An operation on the node timed out: skip the node until a probe succeeds. */
    public void timedOut(String nodeId) {
        if (suspects.add(nodeId)) {
            changed(nodeId);
        }
    }

    /** Probes each suspect node whose connections are up; run periodically off the request path. */
    public void probeSuspects() {
        for (String nodeId : suspects) {
            if (connected.test(nodeId) && prober.test(nodeId)
                    && suspects.remove(nodeId)) {
                changed(nodeId);
            }
        }
    }

    /** {@code true} if some node is suspect (the prober has work). */
    public boolean hasSuspects() {
        return !suspects.isEmpty();
    }
}
