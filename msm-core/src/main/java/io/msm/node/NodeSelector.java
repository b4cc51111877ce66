package io.msm.node;

import io.msm.config.MemcachedNode;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Chooses the memcached node of a session: new sessions are spread evenly over the available primary nodes; failover
 * nodes are used only while every primary node is unavailable; a session whose node is unavailable, or that sits on
 * a failover node while a primary is back, is moved. The nodes are read from {@link LiveNodes} at each choice; a node
 * that joined late is chosen only once it takes sessions ({@link NodeSet}), unless no other node is available.
 */
public final class NodeSelector {
    private final LiveNodes live;
    private final Predicate<String> isAvailable;
    private final AtomicInteger next = new AtomicInteger();

    /** Over a fixed list. */
    public NodeSelector(List<MemcachedNode> nodes, Predicate<String> isAvailable) {
        this(new LiveNodes(NodeSet.of(nodes)), isAvailable);
    }

    public NodeSelector(LiveNodes live, Predicate<String> isAvailable) {
        this.live = live;
        this.isAvailable = isAvailable;
    }

    /**
     * The node for a new session: an available primary (round robin), else an available failover node, else a
     * primary anyway (nothing is available; the session is stored once a node returns).
     */
    public String forNewSession() {
        NodeSet set = live.current();
        List<String> primaries = set.primaries();
        int start = Math.floorMod(next.getAndIncrement(), primaries.size());
        String chosen = firstAvailable(set, primaries, start);
        if (chosen == null) {
            chosen = firstAvailable(set, set.failovers(), Math.floorMod(start, Math.max(1, set.failovers().size())));
        }
        return chosen != null ? chosen : primaries.get(start);
    }

    /**
     * Where a session on {@code nodeId} should live now.
     *
     * @return a different node id to move the session to, or {@code null} to keep it where it is
     */
    public String relocation(String nodeId) {
        NodeSet set = live.current();
        MemcachedNode node = set.get(nodeId);
        boolean isPrimary = node != null && !node.isFailover();
        boolean available = node != null && isAvailable.test(nodeId);
        if (isPrimary && available) {
            return null;
        }
        List<String> primaries = set.primaries();
        int start = Math.floorMod(next.getAndIncrement(), primaries.size());
        String primary = firstAvailable(set, primaries, start);
        if (primary != null) {
            return primary;
        }
        if (available) {
            return null;
        }
        List<String> failovers = set.failovers();
        String failover = firstAvailable(set, failovers, Math.floorMod(start, Math.max(1, failovers.size())));
        return failover != null && !failover.equals(nodeId) ? failover : null;
    }

    /**
     * {@code true} if {@code nodeId} is one of the nodes, or was one not long ago (its sessions are looked for
     * elsewhere and moved).
     */
    public boolean isKnown(String nodeId) {
        return live.isKnown(nodeId);
    }

    /** The first available node from {@code start} on, preferring one that takes sessions already. */
    private String firstAvailable(NodeSet set, List<String> ids, int start) {
        long now = live.nanoTime();
        String joining = null;
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get((start + i) % ids.size());
            if (isAvailable.test(id)) {
                if (set.takesSessions(id, now)) {
                    return id;
                }
                if (joining == null) {
                    joining = id;
                }
            }
        }
        return joining;
    }
}
