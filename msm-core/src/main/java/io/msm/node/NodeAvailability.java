package io.msm.node;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Which memcached nodes can be used right now, answered from memory so a request never waits to find out.
 *
 * <p>A node is available when its connection is up and it is not <em>suspect</em>. A node becomes suspect when an
 * operation on it times out (a paused or overloaded memcached keeps its connection open but does not answer); from
 * then on requests skip it without calling it, and only {@link #probeSuspects()} (run by a background thread) calls
 * it, until it answers. A lost connection makes a node unavailable at once; spymemcached reconnects by itself and
 * {@link #connected(String)} makes it available again. Each return to availability is reported to the recovery
 * listener, which re-sends what could not be stored meanwhile.
 */
public final class NodeAvailability {
    private final Predicate<String> isConnected;
    private final Predicate<String> prober;
    private final Consumer<String> onRecovered;
    private final Set<String> suspects = ConcurrentHashMap.newKeySet();

    /**
     * @param isConnected whether the client's connection to a node is up (no I/O)
     * @param prober calls a node once with a bounded timeout; {@code true} if it answered
     * @param onRecovered told the id of a node that became available again; must return quickly
     */
    public NodeAvailability(Predicate<String> isConnected, Predicate<String> prober, Consumer<String> onRecovered) {
        this.isConnected = isConnected;
        this.prober = prober;
        this.onRecovered = onRecovered;
    }

    public boolean isAvailable(String nodeId) {
        return !suspects.contains(nodeId) && isConnected.test(nodeId);
    }

    /**
     * An operation on the node timed out: skip the node until a probe succeeds.
     *
     * @return {@code true} if the node just became suspect (log it once)
     */
    public boolean timedOut(String nodeId) {
        return suspects.add(nodeId);
    }

    /** The node's connection came up (again). */
    public void connected(String nodeId) {
        suspects.remove(nodeId);
        onRecovered.accept(nodeId);
    }

    /** Probes each suspect node whose connection is up; run periodically off the request path. */
    public void probeSuspects() {
        for (String nodeId : suspects) {
            if (isConnected.test(nodeId) && prober.test(nodeId) && suspects.remove(nodeId)) {
                onRecovered.accept(nodeId);
            }
        }
    }

    /** {@code true} if some node is suspect (the prober has work). */
    public boolean hasSuspects() {
        return !suspects.isEmpty();
    }
}
