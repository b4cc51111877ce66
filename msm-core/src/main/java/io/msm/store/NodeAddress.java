package io.msm.store;

import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Where a node's connections go: its host as written in {@code memcachedNodes}, resolved when the store starts and
 * again by {@link #resolve} (the {@link NodeWatch} calls it before each reconnect attempt while the node is down), so
 * a node whose name moved to another IP (an ElastiCache node replaced, a Kubernetes pod rescheduled) is reached at its
 * new address without a restart. Calls never resolve: they connect to the address last resolved ({@link #now}).
 *
 * <p>The address keeps the host name ({@link InetSocketAddress#getHostString()}): TLS checks the server's certificate
 * against the name as written, not the IP it resolved to.
 */
final class NodeAddress {
    private static final System.Logger LOG = System.getLogger("io.msm.store");
    /** An IPv4 literal (an IPv6 one has a colon): nothing to resolve again. */
    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");

    /** The host name resolved again; {@code null}: the address is fixed (an IP literal, or made so). */
    private final String name;
    /** The context's name, for the line logged when the name moves. */
    private final String context;
    private volatile InetSocketAddress address;

    private NodeAddress(String name, InetSocketAddress address, String context) {
        this.name = name;
        this.address = address;
        this.context = context;
    }

    /**
     * The node at {@code host}: resolved now (a name that does not resolve yet: connects fail with
     * {@link UnknownHostException} until {@link #resolve} finds it) and by {@link #resolve} again.
     *
     * @param host a name, or an IP literal (never resolved)
     * @param context the context's name, for log lines
     */
    static NodeAddress of(String host, int port, String context) {
        return new NodeAddress(isIpLiteral(host) ? null : host, new InetSocketAddress(host, port), context);
    }

    /** The fixed {@code address}, never resolved again. */
    static NodeAddress fixed(InetSocketAddress address) {
        return new NodeAddress(null, address, null);
    }

    static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || IPV4.matcher(host).matches();
    }

    /** The address connects go to now. */
    InetSocketAddress now() {
        return address;
    }

    /**
     * Resolves the host name again; the next connects go to the address it resolves to now. A name that does not
     * resolve (now) keeps the last address; an IP literal or a fixed address is never resolved. The lookup goes
     * through the JVM's DNS cache ({@code networkaddress.cache.ttl}: 30 s by default), so a name that moved is seen
     * once its cached answer expired, and most lookups are answered from that cache, without a query.
     *
     * <p>Blocks as long as the resolver takes: only the node's watch thread calls it, never a request's.
     *
     * @return whether the address changed
     */
    boolean resolve() {
        if (name == null) {
            return false;
        }
        InetAddress ip;
        try {
            ip = InetAddress.getByName(name); // the InetAddress keeps the name as its host name
        } catch (UnknownHostException | RuntimeException e) { // not (now), or a SecurityException
            return false;
        }
        InetSocketAddress before = address;
        if (ip.equals(before.getAddress())) {
            return false;
        }
        address = new InetSocketAddress(ip, before.getPort());
        LOG.log(Level.INFO, () -> "[" + context + "] memcached " + name + ":" + before.getPort() + " now resolves to "
                + ip.getHostAddress() + " (was " + (before.isUnresolved() ? "unresolved"
                        : before.getAddress().getHostAddress()) + ")");
        return true;
    }

    @Override
    public String toString() {
        return address.toString();
    }
}
