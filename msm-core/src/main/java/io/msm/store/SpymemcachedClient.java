package io.msm.store;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.internal.DaemonThreads;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;
import net.spy.memcached.CachedData;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.ConnectionObserver;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.auth.AuthDescriptor;
import net.spy.memcached.transcoders.Transcoder;

/**
 * One memcached node's spymemcached client on the binary protocol (SASL if configured): its connections fixed, its
 * I/O thread awaitable, and a {@code set} that answers on the I/O thread.
 */
final class SpymemcachedClient extends MemcachedClient {
    /**
     * The client's connections (one per address; spymemcached reconnects within the same objects). Fixed here:
     * {@code getNodeLocator()} copies the locator on every call, and requests ask for the connection state twice.
     */
    private final net.spy.memcached.MemcachedNode[] nodes;

    SpymemcachedClient(net.spy.memcached.ConnectionFactory cf, List<InetSocketAddress> addresses) throws IOException {
        super(cf, addresses);
        this.nodes = mconn.getLocator().getAll().toArray(new net.spy.memcached.MemcachedNode[0]);
    }

    /** Waits (until {@code deadlineNanos}) for the I/O thread, which {@code shutdown} only tells to end. */
    boolean awaitIoThreadEnd(long deadlineNanos) {
        return DaemonThreads.awaitEnd(mconn, deadlineNanos);
    }

    boolean isConnected() {
        for (net.spy.memcached.MemcachedNode n : nodes) {
            if (n.isActive()) {
                return true;
            }
        }
        return false;
    }

    /** The connection's state for error messages. */
    String describe() {
        StringBuilder sb = new StringBuilder();
        for (net.spy.memcached.MemcachedNode n : nodes) {
            sb.append(n.getSocketAddress()).append(n.isActive() ? " connected" : " disconnected");
            if (n.getReconnectCount() > 0) {
                sb.append(", ").append(n.getReconnectCount()).append(" reconnect attempts");
            }
            if (n.getBytesRemainingToWrite() > 0) {
                sb.append(", ").append(n.getBytesRemainingToWrite()).append(" bytes waiting to be written");
            }
        }
        return sb.toString();
    }

    /**
     * A {@code set} whose answer goes to {@code done} on the I/O thread (no future, no listener thread: one thread
     * hand-off less than spymemcached's own {@code set(...).addListener}).
     */
    void set(String key, int exp, byte[] value, Consumer<Boolean> done) {
        boolean[] stored = {false};
        mconn.enqueueOperation(key, opFact.store(net.spy.memcached.ops.StoreType.set, key, 0, exp, value,
                new net.spy.memcached.ops.StoreOperation.Callback() {
                    @Override
                    public void receivedStatus(net.spy.memcached.ops.OperationStatus status) {
                        stored[0] = status.isSuccess();
                    }

                    @Override
                    public void gotData(String k, long cas) {
                        // the CAS is not needed
                    }

                    @Override
                    public void complete() {
                        done.accept(stored[0]);
                    }
                }));
    }

    /** How many seconds spymemcached waits at most between reconnect attempts to a dead node. */
    static final long MAX_RECONNECT_DELAY_SECONDS = 2;

    static {
        // spymemcached logs to stderr by default; send it to System.Logger (Tomcat's logging), its INFO chatter at
        // DEBUG, unless chosen. (In the bundles the property name is relocated with spymemcached, so a webapp's own
        // spymemcached keeps its own choice.)
        if (System.getProperty("net.spy.log.LoggerImpl") == null) {
            System.setProperty("net.spy.log.LoggerImpl", io.msm.internal.SpymemcachedLogger.class.getName());
        }
    }

    /** A binary-protocol client for {@code node}, SASL if configured; {@code observer} hears of its connection. */
    static SpymemcachedClient connect(MsmConfig config, MemcachedNode node, ConnectionObserver observer)
            throws IOException {
        ConnectionFactoryBuilder b = new ConnectionFactoryBuilder()
                .setProtocol(ConnectionFactoryBuilder.Protocol.BINARY)
                .setOpTimeout(config.operationTimeoutMillis())
                .setFailureMode(FailureMode.Cancel)
                .setMaxReconnectDelay(MAX_RECONNECT_DELAY_SECONDS)
                .setUseNagleAlgorithm(false)
                .setDaemon(true)
                .setInitialObservers(List.of(observer));
        if (config.username().isPresent()) {
            // no fixed mechanism list: spymemcached asks memcached which it offers and uses the first the JDK has
            // (AuthDescriptor.typical insists on CRAM-MD5 first, so it fails against the usual mech_list: plain)
            b.setAuthDescriptor(new AuthDescriptor(null, new net.spy.memcached.auth.PlainCallbackHandler(
                    config.username().get(), config.password().orElse(""))));
        }
        return new SpymemcachedClient(b.build(), List.of(new InetSocketAddress(node.host(), node.port())));
    }


    /** Stores our blobs as they are: flags 0, no compression, no size limit of its own (memcached's -I decides). */
    static final Transcoder<byte[]> BYTES = new Transcoder<>() {
        @Override
        public boolean asyncDecode(CachedData d) {
            return false;
        }

        @Override
        public CachedData encode(byte[] o) {
            return new CachedData(0, o, Integer.MAX_VALUE);
        }

        @Override
        public byte[] decode(CachedData d) {
            return d.getData();
        }

        @Override
        public int getMaxSize() {
            return Integer.MAX_VALUE;
        }
    };
}
