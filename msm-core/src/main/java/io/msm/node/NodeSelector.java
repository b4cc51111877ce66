package io.msm.node;

import io.msm.config.MemcachedNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Chooses the memcached node of a session: new sessions are spread evenly over the available primary nodes; failover
 * nodes are used only while every primary node is unavailable; a session whose node is unavailable, or that sits on
 * a failover node while a primary is back, is moved.
 */
public final class NodeSelector {
    private final List<String> primaries;
    private final List<String> failovers;
    private final Predicate<String> isAvailable;
    private final AtomicInteger next = new AtomicInteger();

    public NodeSelector(List<MemcachedNode> nodes, Predicate<String> isAvailable) {
        List<String> p = new ArrayList<>();
        List<String> f = new ArrayList<>();
        for (MemcachedNode n : nodes) {
            (n.isFailover() ? f : p).add(n.id());
        }
        this.primaries = List.copyOf(p);
        this.failovers = List.copyOf(f);
        this.isAvailable = isAvailable;
    }

    /**
     * The node for a new session: an available primary (round robin), else an available failover node, else a
     * primary anyway (nothing is available; the session is stored once a node returns).
     */
    public String forNewSession() {
        int start = Math.floorMod(next.getAndIncrement(), primaries.size());
        String chosen = firstAvailable(primaries, start);
        if (chosen == null) {
            chosen = firstAvailable(failovers, Math.floorMod(start, Math.max(1, failovers.size())));
        }
        return chosen != null ? chosen : primaries.get(start);
    }

    /**
     * Where a session on {@code nodeId} should live now.
     *
     * @return a different node id to move the session to, or {@code null} to keep it where it is
     */
    public String relocation(String nodeId) {
        boolean isPrimary = primaries.contains(nodeId);
        boolean available = isAvailable.test(nodeId);
        if (isPrimary && available) {
            return null;
        }
        int start = Math.floorMod(next.getAndIncrement(), primaries.size());
        String primary = firstAvailable(primaries, start);
        if (primary != null) {
            return primary;
        }
        if (available) {
            return null;
        }
        String failover = firstAvailable(failovers, Math.floorMod(start, Math.max(1, failovers.size())));
        return failover != null && !failover.equals(nodeId) ? failover : null;
    }

    /** {@code true} if {@code nodeId} is one of the configured nodes. */
    public boolean isKnown(String nodeId) {
        return primaries.contains(nodeId) || failovers.contains(nodeId);
    }

    private String firstAvailable(List<String> ids, int start) {
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get((start + i) % ids.size());
            if (isAvailable.test(id)) {
                return id;
            }
        }
        return null;
    }
}
