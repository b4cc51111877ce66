package io.msm.config;

import java.util.Objects;

/**
 * One memcached node of {@code memcachedNodes}: its id (the part of a session id that routes to it), address, and
 * whether it is a failover node (used only while every primary node is down).
 */
public final class MemcachedNode {
    private final String id;
    private final String host;
    private final int port;
    private final boolean failover;

    MemcachedNode(String id, String host, int port, boolean failover) {
        this.id = Objects.requireNonNull(id);
        this.host = Objects.requireNonNull(host);
        this.port = port;
        this.failover = failover;
    }

    /**
     * A node found by discovery: a primary node.
     *
     * @param id {@code [A-Za-z0-9_]+}
     * @param host a host name or an IP literal (IPv6 without brackets)
     * @throws IllegalArgumentException for another id or a port not in 1..65535
     */
    public static MemcachedNode discovered(String id, String host, int port) {
        if (!id.matches("[A-Za-z0-9_]+") || port < 1 || port > 65535) {
            throw new IllegalArgumentException("node " + id + " at port " + port);
        }
        return new MemcachedNode(id, host, port, false);
    }

    /**
     * The node id, {@code [A-Za-z0-9_]+}. For a single node configured without an id ({@code host:port}) this is
     * {@code host:port}, and session ids carry no node id.
     */
    public String id() {
        return id;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** {@code true} if this node is listed in {@code failoverNodes}. */
    public boolean isFailover() {
        return failover;
    }

    MemcachedNode asFailover() {
        return new MemcachedNode(id, host, port, true);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof MemcachedNode)) {
            return false;
        }
        MemcachedNode n = (MemcachedNode) o;
        return id.equals(n.id) && host.equals(n.host) && port == n.port && failover == n.failover;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, host, port, failover);
    }

    @Override
    public String toString() {
        String address = host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        return (id.equals(address) ? "" : id + ":") + address + (failover ? " (failover)" : "");
    }
}
