package io.msm.discovery;

import java.util.Locale;
import java.util.Objects;

/**
 * One node of a configuration endpoint's answer: {@code hostname|ip|port}. The host name is what to connect to
 * (the IP of an ElastiCache node can change when it is replaced, its name does not); the IP is what the endpoint
 * knew, or empty.
 */
public final class DiscoveredNode {
    private final String host;
    private final String ip;
    private final int port;

    /** A checked node: {@link ConfigAnswer} validates host, IP and port before it makes one. */
    DiscoveredNode(String host, String ip, int port) {
        this.host = Objects.requireNonNull(host);
        this.ip = Objects.requireNonNull(ip);
        this.port = port;
    }

    /** A DNS name, or an IP literal (Memorystore lists its nodes by IP). */
    public String host() {
        return host;
    }

    /** An IPv4 or IPv6 literal, or empty if the endpoint did not give one. */
    public String ip() {
        return ip;
    }

    public int port() {
        return port;
    }

    /**
     * What identifies this node across answers: the host name in lower case (DNS names ignore case) and the port.
     * The IP is left out on purpose: it changes when ElastiCache replaces a node's machine under the same name.
     */
    String key() {
        return host.toLowerCase(Locale.ROOT) + ":" + port;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DiscoveredNode)) {
            return false;
        }
        DiscoveredNode n = (DiscoveredNode) o;
        return host.equals(n.host) && ip.equals(n.ip) && port == n.port;
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, ip, port);
    }

    /** As the endpoint wrote it: {@code hostname|ip|port}. */
    @Override
    public String toString() {
        return host + "|" + ip + "|" + port;
    }
}
