package io.msm.config;

import java.util.Objects;

/**
 * Where the memcached nodes are found when {@code memcachedNodes} names a source instead of listing them:
 * {@code discover:<host>:<port>}, a configuration endpoint answering {@code config get cluster} (Amazon ElastiCache,
 * Google Memorystore), or {@code dns:<name>:<port>}, a name whose A/AAAA records are the nodes (a Kubernetes headless
 * service). Asked at the start and every {@code discoveryInterval} seconds.
 */
public final class NodeDiscovery {
    /** What answers with the nodes. */
    public enum Kind {
        /** {@code discover:}: a configuration endpoint. */
        CONFIG_ENDPOINT("discover:"),
        /** {@code dns:}: the addresses of a name. */
        DNS("dns:");

        final String prefix;

        Kind(String prefix) {
            this.prefix = prefix;
        }
    }

    private final Kind kind;
    private final String host;
    private final int port;
    private final int intervalSeconds;

    NodeDiscovery(Kind kind, String host, int port, int intervalSeconds) {
        this.kind = Objects.requireNonNull(kind);
        this.host = Objects.requireNonNull(host);
        this.port = port;
        this.intervalSeconds = intervalSeconds;
    }

    NodeDiscovery withInterval(int seconds) {
        return new NodeDiscovery(kind, host, port, seconds);
    }

    public Kind kind() {
        return kind;
    }

    /** The endpoint's host, or the name whose addresses are the nodes (an IPv6 literal without brackets). */
    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** Seconds between two questions ({@code discoveryInterval}). */
    public int intervalSeconds() {
        return intervalSeconds;
    }

    /** As written in {@code memcachedNodes}, e.g. {@code discover:mycluster.cfg.example.com:11211}. */
    @Override
    public String toString() {
        return kind.prefix + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
