package io.msm.node;

import io.msm.config.MemcachedNode;
import io.msm.internal.DaemonThreads;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Notices within milliseconds that a memcached node died or came back, without sending it anything.
 *
 * <p>spymemcached only learns that a node died when it next sends it an operation, so the first request after a
 * crash would still think the node is up. The watch keeps one idle connection per node open on a selector thread:
 * memcached never sends unsolicited bytes, so a readable watch socket means the peer closed it (process killed,
 * stopped, host down with a reset). A closed node is reconnected every {@link #RETRY_MILLIS} until it accepts again.
 * A paused or partitioned node keeps its socket open; operation timeouts catch that case.
 */
public final class ConnectionWatch implements AutoCloseable {
    /** Delay between connection attempts to a node that is down. */
    static final long RETRY_MILLIS = 250;
    /** How long {@link #close()} waits for the watch thread to end. */
    static final long END_MILLIS = 2000;

    private final Map<String, InetSocketAddress> addresses = new ConcurrentHashMap<>();
    private final Map<String, Boolean> up = new ConcurrentHashMap<>();
    private final BiConsumer<String, Boolean> listener;
    private final long connectTimeoutMillis;
    private final Selector selector;
    private final Thread thread;
    private volatile boolean closed;

    /** One node's watch connection. */
    private final class Watched {
        final String id;
        SocketChannel channel;
        long connectStarted;
        long retryAt;
        /** The socket closed while up: one immediate reconnect decides whether the node is down. */
        boolean recheck;

        Watched(String id) {
            this.id = id;
        }
    }

    /**
     * @param listener told {@code (nodeId, true)} when a node's watch connection is established and
     *     {@code (nodeId, false)} when it is lost; called on the watch thread, must be quick
     */
    public ConnectionWatch(List<MemcachedNode> nodes, String threadName, long connectTimeoutMillis,
            BiConsumer<String, Boolean> listener) throws IOException {
        this.listener = listener;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.selector = Selector.open();
        List<Watched> watched = new ArrayList<>();
        for (MemcachedNode n : nodes) {
            addresses.put(n.id(), new InetSocketAddress(n.host(), n.port()));
            up.put(n.id(), false);
            watched.add(new Watched(n.id()));
        }
        this.thread = new Thread(() -> run(watched), threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** {@code true} while the node's watch connection is open. */
    public boolean isUp(String nodeId) {
        return Boolean.TRUE.equals(up.get(nodeId));
    }

    private void run(List<Watched> nodes) {
        ByteBuffer sink = ByteBuffer.allocate(64);
        try {
            while (!closed) {
                long now = System.nanoTime() / 1_000_000;
                for (Watched w : nodes) {
                    if (w.channel == null && now >= w.retryAt) {
                        connect(w, now);
                    } else if (w.channel != null && w.channel.isConnectionPending()
                            && now - w.connectStarted > connectTimeoutMillis) {
                        lost(w, now);
                    }
                }
                selector.select(RETRY_MILLIS);
                for (SelectionKey key : selector.selectedKeys()) {
                    Watched w = (Watched) key.attachment();
                    now = System.nanoTime() / 1_000_000;
                    try {
                        if (key.isConnectable()) {
                            if (w.channel.finishConnect()) {
                                key.interestOps(SelectionKey.OP_READ);
                                w.recheck = false;
                                set(w.id, true);
                            }
                        } else if (key.isReadable()) {
                            sink.clear();
                            if (w.channel.read(sink) < 0) {
                                closed(w, now);
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        lost(w, now);
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | ClosedSelectorException e) {
            // closing
        } finally {
            for (Watched w : nodes) {
                closeQuietly(w.channel);
            }
        }
    }

    private void connect(Watched w, long now) {
        try {
            SocketChannel ch = SocketChannel.open();
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            w.channel = ch;
            w.connectStarted = now;
            if (ch.connect(addresses.get(w.id))) {
                ch.register(selector, SelectionKey.OP_READ, w);
                w.recheck = false;
                set(w.id, true);
            } else {
                ch.register(selector, SelectionKey.OP_CONNECT, w);
            }
        } catch (IOException | RuntimeException e) {
            lost(w, now);
        }
    }

    /**
     * The peer closed the socket. A dead memcached refuses the immediate reconnect (reported down within one
     * round trip); one that only closed an idle connection ({@code -o idle_timeout}) accepts it and stays up.
     */
    private void closed(Watched w, long now) {
        closeQuietly(w.channel);
        w.channel = null;
        if (Boolean.TRUE.equals(up.get(w.id)) && !w.recheck) {
            w.recheck = true;
            connect(w, now);
        } else {
            lost(w, now);
        }
    }

    private void lost(Watched w, long now) {
        w.recheck = false;
        closeQuietly(w.channel);
        w.channel = null;
        w.retryAt = now + RETRY_MILLIS;
        set(w.id, false);
    }

    private void set(String id, boolean isUp) {
        Boolean before = up.put(id, isUp);
        if (!closed && (before == null || before != isUp)) {
            listener.accept(id, isUp);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            selector.close();
        } catch (IOException e) {
            // nothing to do
        }
        thread.interrupt();
        // started by the context's start, with the webapp's context class loader: end before the webapp's stop does
        DaemonThreads.awaitEnd(thread, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(END_MILLIS));
    }
}
