package io.msm.discovery;

import java.util.List;

/**
 * A configuration endpoint's answer: the configuration version (ElastiCache raises it on every change of the node
 * list) and the nodes in the endpoint's order (ElastiCache sorts them by host name). At least one node; no node
 * twice.
 */
public final class ClusterConfig {
    private final long version;
    private final List<DiscoveredNode> nodes;

    ClusterConfig(long version, List<DiscoveredNode> nodes) {
        if (version < 0 || nodes.isEmpty()) {
            throw new IllegalArgumentException("version " + version + ", " + nodes.size() + " nodes");
        }
        this.version = version;
        this.nodes = List.copyOf(nodes);
    }

    /** Non-negative; a higher version is a newer node list. */
    public long version() {
        return version;
    }

    /** Unmodifiable, never empty. */
    public List<DiscoveredNode> nodes() {
        return nodes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClusterConfig && ((ClusterConfig) o).version == version
                && ((ClusterConfig) o).nodes.equals(nodes);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(version) * 31 + nodes.hashCode();
    }

    @Override
    public String toString() {
        return "version " + version + ": " + nodes;
    }
}
