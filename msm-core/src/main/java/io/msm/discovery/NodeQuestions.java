package io.msm.discovery;

import io.msm.config.MemcachedNode;
import io.msm.config.NodeDiscovery;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Asks a {@link NodeDiscovery} source once for its nodes, each with its stable id ({@link NodeIds}), in the order of
 * their ids (the same in every Tomcat: the ring secondary copies follow).
 *
 * <p>A configuration endpoint is asked on a connection of its own, closed after the answer: one connection every
 * {@code discoveryInterval}, and nothing held between (an endpoint that is replaced is simply connected to anew). The
 * connect, the TLS handshake and every read are bounded by one deadline, so an endpoint that trickles its answer
 * cannot hold the poller past it; {@link ConfigAnswer} bounds the bytes.
 *
 * <p>A name is resolved through the JVM's resolver and its DNS cache ({@code networkaddress.cache.ttl}, 30 s by
 * default): a changed record is seen once the cached answer expires.
 */
final class NodeQuestions {
    /** More nodes than this in one answer is refused: no cluster is that large, and each node costs a thread. */
    static final int MAX_NODES = 256;
    /**
     * Closes a question's socket at its deadline: a read timeout alone restarts with each read, so a peer that sends a
     * TLS handshake a byte at a time would stretch it without end. One daemon thread, ended when idle.
     */
    private static final java.util.concurrent.ScheduledThreadPoolExecutor DEADLINES = deadlines();

    private NodeQuestions() {
    }

    private static java.util.concurrent.ScheduledThreadPoolExecutor deadlines() {
        java.util.concurrent.ScheduledThreadPoolExecutor e = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
                r -> {
                    Thread t = new Thread(r, "msm-discovery-deadline");
                    t.setDaemon(true);
                    t.setContextClassLoader(NodeQuestions.class.getClassLoader());
                    return t;
                });
        e.setKeepAliveTime(10, TimeUnit.SECONDS);
        e.allowCoreThreadTimeOut(true);
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    /**
     * @param tls the context for a TLS endpoint, or {@code null}
     * @param socketSeen told the socket while the question is under way (so a close can end it), then {@code null}
     */
    static List<MemcachedNode> ask(NodeDiscovery source, SSLContext tls, long timeoutMillis,
            Consumer<Socket> socketSeen) throws DiscoveryException {
        return source.kind() == NodeDiscovery.Kind.DNS ? resolve(source)
                : askEndpoint(source, tls, timeoutMillis, socketSeen);
    }

    private static List<MemcachedNode> askEndpoint(NodeDiscovery source, SSLContext tls, long timeoutMillis,
            Consumer<Socket> socketSeen) throws DiscoveryException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Socket tcp = new Socket();
        socketSeen.accept(tcp);
        java.util.concurrent.ScheduledFuture<?> cut = DEADLINES.schedule(() -> closeQuietly(tcp), timeoutMillis,
                TimeUnit.MILLISECONDS);
        try {
            InetSocketAddress address = new InetSocketAddress(source.host(), source.port());
            if (address.isUnresolved()) {
                throw new DiscoveryException(source + ": host " + source.host() + " cannot be resolved", null);
            }
            tcp.connect(address, (int) Math.max(1, timeoutMillis));
            tcp.setTcpNoDelay(true);
            Socket s = tcp;
            if (tls != null) {
                s = handshake(tls, tcp, source, deadline);
                socketSeen.accept(s);
            }
            OutputStream out = s.getOutputStream();
            out.write(ConfigAnswer.COMMAND.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ClusterConfig config = ConfigAnswer.read(new DeadlineInput(s, deadline));
            return withIds(source, config.nodes());
        } catch (ConfigAnswerException e) {
            throw new DiscoveryException(source + " answered what is not a node list: " + e.getMessage()
                    + (e.getMessage().contains("ERROR") ? " (not a configuration endpoint: memcached without"
                    + " the config command)" : ""), e);
        } catch (SocketTimeoutException e) {
            throw new DiscoveryException(source + " did not answer within " + timeoutMillis + " ms", e);
        } catch (ConnectException e) {
            throw new DiscoveryException(source + " refused the connection (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            if (System.nanoTime() - deadline >= 0) { // cut at the deadline (a trickling handshake or answer)
                throw new DiscoveryException(source + " did not answer within " + timeoutMillis + " ms", e);
            }
            throw new DiscoveryException(source + ": " + e, e);
        } finally {
            cut.cancel(false);
            socketSeen.accept(null);
            closeQuietly(tcp); // and the TLS socket over it
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closed anyway
        }
    }

    private static Socket handshake(SSLContext tls, Socket tcp, NodeDiscovery source, long deadline)
            throws IOException {
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(tcp, source.host(), source.port(), true);
        s.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS"); // the endpoint's certificate checked against its name
        s.setSSLParameters(p);
        tcp.setSoTimeout(remainingMillis(deadline));
        s.startHandshake();
        return s;
    }

    private static List<MemcachedNode> resolve(NodeDiscovery source) throws DiscoveryException {
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(source.host());
        } catch (UnknownHostException e) {
            throw new DiscoveryException(source + ": the name " + source.host() + " does not resolve", e);
        } catch (RuntimeException e) { // a resolver's SecurityException, or another surprise
            throw new DiscoveryException(source + ": resolving " + source.host() + " failed: " + e, e);
        }
        Set<String> ips = new LinkedHashSet<>();
        for (InetAddress a : addresses) {
            String ip = a.getHostAddress();
            if (a instanceof Inet6Address && ip.indexOf('%') >= 0) {
                ip = ip.substring(0, ip.indexOf('%')); // no zone: the same in every Tomcat
            }
            ips.add(ip);
        }
        if (ips.isEmpty()) {
            throw new DiscoveryException(source + ": the name " + source.host() + " has no address", null);
        }
        List<DiscoveredNode> nodes = new ArrayList<>();
        for (String ip : ips) {
            nodes.add(new DiscoveredNode(ip, ip, source.port()));
        }
        return withIds(source, nodes);
    }

    /** The nodes with their ids, in the order of the ids. */
    static List<MemcachedNode> withIds(NodeDiscovery source, List<DiscoveredNode> nodes) throws DiscoveryException {
        if (nodes.size() > MAX_NODES) {
            throw new DiscoveryException(source + " lists " + nodes.size() + " nodes, more than the " + MAX_NODES
                    + " msm takes", null);
        }
        return withIds(nodes);
    }

    private static List<MemcachedNode> withIds(List<DiscoveredNode> nodes) {
        List<MemcachedNode> list = new ArrayList<>();
        for (Map.Entry<String, DiscoveredNode> e : NodeIds.assign(nodes).entrySet()) {
            list.add(MemcachedNode.discovered(e.getKey(), e.getValue().host(), e.getValue().port()));
        }
        list.sort(Comparator.comparing(MemcachedNode::id));
        return list;
    }

    private static int remainingMillis(long deadline) throws SocketTimeoutException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    /** A socket's input whose every read ends by one deadline. */
    private static final class DeadlineInput extends InputStream {
        private final Socket socket;
        private final InputStream in;
        private final long deadline;

        DeadlineInput(Socket socket, long deadline) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            socket.setSoTimeout(remainingMillis(deadline));
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            socket.setSoTimeout(remainingMillis(deadline));
            return in.read(b, off, len);
        }
    }
}
