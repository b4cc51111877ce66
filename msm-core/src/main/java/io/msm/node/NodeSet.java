package io.msm.node;

import io.msm.config.MemcachedNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The memcached nodes at one moment, immutable: what {@link LiveNodes} hands out. The order is the configured one
 * ({@code memcachedNodes}) or, for discovered nodes, the order of their ids, the same in every Tomcat: it is the ring
 * the secondary copy of a session follows ({@link #successors}).
 *
 * <p>A node that joined while msm was running takes new sessions (and sessions moved off other nodes) only from
 * {@link #takesSessionsFrom} on: by then every other Tomcat polling the same source has seen it too, so none of them
 * takes a session id naming it for one of an unknown node.
 */
public final class NodeSet {
    private final List<MemcachedNode> nodes;
    private final Map<String, MemcachedNode> byId;
    private final List<String> primaries;
    private final List<String> failovers;
    /** {@link System#nanoTime()} from which a node that joined late takes sessions; absent: at once. */
    private final Map<String, Long> takesFrom;
    /** {@link #successors} of each node of this set, computed at first use (a request path asks on every write). */
    private final Map<String, List<MemcachedNode>> rings = new ConcurrentHashMap<>();

    NodeSet(List<MemcachedNode> nodes, Map<String, Long> takesFrom) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("no memcached node");
        }
        Map<String, MemcachedNode> m = new LinkedHashMap<>();
        List<String> p = new ArrayList<>();
        List<String> f = new ArrayList<>();
        for (MemcachedNode n : nodes) {
            if (m.put(n.id(), n) != null) {
                throw new IllegalArgumentException("node id " + n.id() + " twice");
            }
            (n.isFailover() ? f : p).add(n.id());
        }
        if (p.isEmpty()) {
            throw new IllegalArgumentException("no primary memcached node");
        }
        this.nodes = List.copyOf(nodes);
        this.byId = Collections.unmodifiableMap(m);
        this.primaries = List.copyOf(p);
        this.failovers = List.copyOf(f);
        Map<String, Long> t = new LinkedHashMap<>(takesFrom);
        t.keySet().retainAll(m.keySet());
        this.takesFrom = Collections.unmodifiableMap(t);
    }

    /** The nodes as configured at the start: each takes sessions at once. */
    public static NodeSet of(List<MemcachedNode> nodes) {
        return new NodeSet(nodes, Map.of());
    }

    /** Every node, in ring order. */
    public List<MemcachedNode> nodes() {
        return nodes;
    }

    public boolean contains(String nodeId) {
        return byId.containsKey(nodeId);
    }

    /** The node with id {@code nodeId}, or {@code null}. */
    public MemcachedNode get(String nodeId) {
        return byId.get(nodeId);
    }

    List<String> primaries() {
        return primaries;
    }

    List<String> failovers() {
        return failovers;
    }

    /** Whether node {@code nodeId} takes new sessions at {@code nanoTime} (see the class comment). */
    boolean takesSessions(String nodeId, long nanoTime) {
        Long from = takesFrom.get(nodeId);
        return from == null || nanoTime - from >= 0;
    }

    /** When a node that joined late takes sessions ({@link System#nanoTime()}), by id; unmodifiable. */
    Map<String, Long> takesSessionsFrom() {
        return takesFrom;
    }

    /**
     * The nodes after {@code nodeId} in ring order, wrapping around, without {@code nodeId}: where its session's
     * secondary copy goes (the first available one). For a node not in the set (removed, or not known yet here) the
     * ring goes on from the first node whose id sorts after it; with ids in sorted order (discovered nodes) that is
     * where the node stood or will stand, so the copy is looked for where the Tomcats that knew it put it, as long as
     * the node after it is still there.
     */
    public List<MemcachedNode> successors(String nodeId) {
        return byId.containsKey(nodeId) ? rings.computeIfAbsent(nodeId, this::ringAfter) : ringAfter(nodeId);
    }

    private List<MemcachedNode> ringAfter(String nodeId) {
        int start = -1;
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).id().equals(nodeId)) {
                start = i + 1;
                break;
            }
        }
        if (start < 0) {
            start = 0;
            for (int i = 0; i < nodes.size(); i++) {
                if (nodes.get(i).id().compareTo(nodeId) > 0) {
                    start = i;
                    break;
                }
            }
        }
        List<MemcachedNode> ring = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            MemcachedNode n = nodes.get((start + i) % nodes.size());
            if (!n.id().equals(nodeId)) {
                ring.add(n);
            }
        }
        return Collections.unmodifiableList(ring);
    }

    @Override
    public String toString() {
        return nodes.toString();
    }
}
