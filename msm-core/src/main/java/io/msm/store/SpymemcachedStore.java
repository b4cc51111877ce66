package io.msm.store;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import net.spy.memcached.ConnectionObserver;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.transcoders.Transcoder;

/**
 * {@link SessionStore} on memcached's binary protocol (and with it SASL), which only spymemcached speaks here: one
 * client per memcached node, so each key goes exactly to the node its session id names and one node's trouble never
 * queues behind another's. Failure mode {@code Cancel}: operations for a node whose connection is down fail at once
 * instead of waiting. The binary protocol has no meta get: {@link #getWithTtl} is a {@code gets}.
 *
 * <p>spymemcached only learns that a node died when it next writes to it, so a {@link NodeWatch} on an idle
 * connection of its own notices it at once and makes the client write.
 */
final class SpymemcachedStore implements SessionStore {

    /** How long {@link #close()} waits for the clients' I/O threads to end after shutting them down. */
    static final long IO_THREAD_END_MILLIS = 2000;
    private static final Transcoder<byte[]> BYTES = SpymemcachedClient.BYTES;
    /** Read to make a client notice a connection that died while idle. */
    private static final String PROBE_KEY = "msm:probe";

    private final Map<String, SpymemcachedClient> clients;
    /** The watch's connections: never used by calls. */
    private final Map<String, DirectConnections> watched;
    private final WriteDeadline writeDeadline;
    private final NodeWatch watch;
    private final ItemSizeCheck sizes = new ItemSizeCheck(this::settings);

    SpymemcachedStore(MsmConfig config, String name, MemcachedSessionStore.ConnectionListener listener)
            throws IOException {
        Map<String, SpymemcachedClient> m = new LinkedHashMap<>();
        try {
            for (MemcachedNode node : config.nodes()) {
                m.put(node.id(), SpymemcachedClient.connect(config, node, observer(node.id(), listener)));
            }
        } catch (IOException | RuntimeException e) {
            m.values().forEach(MemcachedClient::shutdown);
            throw e;
        }
        this.clients = Map.copyOf(m);
        this.writeDeadline = new WriteDeadline("msm-write-deadline-" + name);
        Map<String, DirectConnections> w = new LinkedHashMap<>();
        for (MemcachedNode node : config.nodes()) {
            // a fixed address, as spymemcached's own: the watch tells about the address the client uses
            w.put(node.id(), new DirectConnections(new InetSocketAddress(node.host(), node.port()), writeDeadline, null));
        }
        this.watched = java.util.Collections.unmodifiableMap(w);
        this.watch = new NodeWatch(watched, "msm-watch-" + name, config.operationTimeoutMillis(), false,
                MemcachedSessionStore.listener(listener::connected, nodeId -> {
                    poke(nodeId); // the client finds out too, or it would keep a dead connection for "up"
                    listener.disconnected(nodeId);
                })).start();
    }

    private ConnectionObserver observer(String id, MemcachedSessionStore.ConnectionListener listener) {
        return new ConnectionObserver() {
            @Override
            public void connectionEstablished(SocketAddress address, int reconnectCount) {
                sizes.forget(id); // maybe restarted with another -I
                listener.connected(id);
            }

            @Override
            public void connectionLost(SocketAddress address) {
                sizes.forget(id);
                listener.disconnected(id);
            }
        };
    }

    private SpymemcachedClient client(String op, String nodeId, String key) {
        return MemcachedSessionStore.connectionTo(op, nodeId, key, clients);
    }

    private Map<String, String> settings(String nodeId) {
        for (Map<String, String> s : clients.get(nodeId).getStats("settings").values()) {
            return s;
        }
        return null;
    }

    /** Sends one harmless request without waiting, so the client notices a connection that died while idle. */
    private void poke(String nodeId) {
        SpymemcachedClient c = clients.get(nodeId);
        if (c != null) {
            try {
                c.asyncGet(PROBE_KEY, BYTES);
            } catch (RuntimeException e) {
                // the client is shutting down or already knows
            }
        }
    }

    @Override
    public byte[] get(String nodeId, String key, long timeoutMillis) {
        long start = System.nanoTime();
        try {
            return await("get", nodeId, key, client("get", nodeId, key).asyncGet(key, BYTES), timeoutMillis, start);
        } catch (RuntimeException e) {
            throw wrap("get", nodeId, key, start, e);
        }
    }

    /** A {@code gets}: the binary protocol has no meta get ({@link StoredValue#UNKNOWN_TTL}, no refresh). */
    @Override
    public StoredValue getWithTtl(String nodeId, String key, int refreshExp, long timeoutMillis) {
        return gets(nodeId, key, timeoutMillis);
    }

    @Override
    public StoredValue gets(String nodeId, String key, long timeoutMillis) {
        long start = System.nanoTime();
        try {
            net.spy.memcached.CASValue<byte[]> v = await("gets", nodeId, key,
                    client("gets", nodeId, key).asyncGets(key, BYTES), timeoutMillis, start);
            return v == null ? new StoredValue(null, StoredValue.UNKNOWN_TTL)
                    : new StoredValue(v.getValue(), StoredValue.UNKNOWN_TTL, false, v.getCas());
        } catch (RuntimeException e) {
            throw wrap("gets", nodeId, key, start, e);
        }
    }

    /** Sends a storage operation for a checked key and value. */
    private <T> T send(String op, String nodeId, String key, byte[] value, long start,
            java.util.function.Function<SpymemcachedClient, T> operation) {
        SpymemcachedClient c = client(op, nodeId, key);
        sizes.check(op, nodeId, key, value);
        try {
            return operation.apply(c);
        } catch (RuntimeException e) {
            throw wrap(op, nodeId, key, start, e);
        }
    }

    @Override
    public void set(String nodeId, String key, int exp, byte[] value, long timeoutMillis) {
        long start = System.nanoTime();
        net.spy.memcached.internal.OperationFuture<Boolean> f = send("set", nodeId, key, value, start,
                c -> c.set(key, exp, value, BYTES));
        Boolean ok = await("set", nodeId, key, f, timeoutMillis, start);
        if (!Boolean.TRUE.equals(ok)) {
            throw MemcachedSessionStore.notStored("set", nodeId, key, start,
                    "memcached answered " + f.getStatus().getMessage(), value.length);
        }
    }

    @Override
    public long storeIf(String nodeId, String key, int exp, byte[] value, long cas, long timeoutMillis) {
        if (cas == ANY) {
            set(nodeId, key, exp, value, timeoutMillis);
            return 0;
        }
        if (cas == ADD) {
            return add(nodeId, key, exp, value, timeoutMillis) >= 0 ? 0 : EXISTS;
        }
        long start = System.nanoTime();
        net.spy.memcached.CASResponse r = await("cas", nodeId, key,
                send("cas", nodeId, key, value, start, c -> c.asyncCAS(key, cas, exp, value, BYTES)), timeoutMillis,
                start);
        if (r == net.spy.memcached.CASResponse.OK) {
            return 0;
        }
        if (r == net.spy.memcached.CASResponse.EXISTS) {
            return EXISTS;
        }
        if (r == net.spy.memcached.CASResponse.NOT_FOUND) {
            return NOT_FOUND;
        }
        throw MemcachedSessionStore.notStored("cas", nodeId, key, start, "memcached answered " + r, value.length);
    }

    @Override
    public long add(String nodeId, String key, int exp, byte[] value, long timeoutMillis) {
        long start = System.nanoTime();
        net.spy.memcached.internal.OperationFuture<Boolean> f = send("add", nodeId, key, value, start,
                c -> c.add(key, exp, value, BYTES));
        if (!Boolean.TRUE.equals(await("add", nodeId, key, f, timeoutMillis, start))) {
            return -1;
        }
        try {
            Long cas = f.getCas();
            return cas == null || cas < 0 ? 0 : cas;
        } catch (RuntimeException e) {
            return 0;
        }
    }

    @Override
    public boolean compareAndDelete(String nodeId, String key, byte[] expected, long cas, long timeoutMillis) {
        long start = System.nanoTime();
        try {
            SpymemcachedClient c = client("delete", nodeId, key);
            long version = cas;
            if (version <= 0) {
                net.spy.memcached.CASValue<byte[]> current = await("gets", nodeId, key, c.asyncGets(key, BYTES),
                        timeoutMillis, start);
                if (current == null || !java.util.Arrays.equals(current.getValue(), expected)) {
                    return false; // gone, or another owner's
                }
                version = current.getCas();
            }
            long left = Math.max(1, timeoutMillis - MemcachedSessionStore.elapsed(start));
            return Boolean.TRUE.equals(await("delete", nodeId, key, c.delete(key, version), left, start));
        } catch (RuntimeException e) {
            throw wrap("delete", nodeId, key, start, e);
        }
    }

    /** The answer goes to {@code done} on the I/O thread. */
    @Override
    public void setAsync(String nodeId, String key, int exp, byte[] value, Consumer<Boolean> done) {
        SpymemcachedClient c;
        try {
            c = client("set", nodeId, key);
            sizes.check("set", nodeId, key, value);
        } catch (RuntimeException e) {
            done.accept(false);
            return;
        }
        try {
            c.set(key, exp, value, done);
        } catch (RuntimeException e) { // shutting down: the operation was not queued
            done.accept(false);
        }
    }

    @Override
    public boolean append(String nodeId, String key, byte[] value, long timeoutMillis) {
        long start = System.nanoTime();
        try {
            return Boolean.TRUE.equals(await("append", nodeId, key,
                    client("append", nodeId, key).append(key, value, BYTES), timeoutMillis, start));
        } catch (RuntimeException e) {
            throw wrap("append", nodeId, key, start, e);
        }
    }

    @Override
    public boolean touch(String nodeId, String key, int exp, long timeoutMillis) {
        long start = System.nanoTime();
        try {
            return Boolean.TRUE.equals(await("touch", nodeId, key, client("touch", nodeId, key).touch(key, exp),
                    timeoutMillis, start));
        } catch (RuntimeException e) {
            throw wrap("touch", nodeId, key, start, e);
        }
    }

    @Override
    public boolean delete(String nodeId, String key, long timeoutMillis) {
        long start = System.nanoTime();
        try {
            return Boolean.TRUE.equals(await("delete", nodeId, key, client("delete", nodeId, key).delete(key),
                    timeoutMillis, start));
        } catch (RuntimeException e) {
            throw wrap("delete", nodeId, key, start, e);
        }
    }

    private <T> T await(String op, String nodeId, String key, Future<T> f, long timeoutMillis, long start) {
        try {
            return f.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(false);
            throw StoreException.timeout(op, key, nodeId, MemcachedSessionStore.elapsed(start), describe(nodeId));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof TimeoutException) { // spymemcached's own operation timeout
                throw StoreException.timeout(op, key, nodeId, MemcachedSessionStore.elapsed(start),
                        describe(nodeId));
            }
            throw StoreException.failed(op, key, nodeId, MemcachedSessionStore.elapsed(start),
                    cause.toString() + " (" + describe(nodeId) + ")", cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw StoreException.failed(op, key, nodeId, MemcachedSessionStore.elapsed(start), "interrupted", e);
        }
    }

    private static StoreException wrap(String op, String nodeId, String key, long start, RuntimeException e) {
        if (e instanceof StoreException) {
            return (StoreException) e;
        }
        return StoreException.failed(op, key, nodeId, MemcachedSessionStore.elapsed(start), e.toString(), e);
    }

    @Override
    public void addNode(MemcachedNode node) {
        throw new UnsupportedOperationException("memcached nodes change only with memcachedProtocol=\"text\"");
    }

    @Override
    public void removeNode(String nodeId) {
        throw new UnsupportedOperationException("memcached nodes change only with memcachedProtocol=\"text\"");
    }

    @Override
    public boolean isConnected(String nodeId) {
        SpymemcachedClient c = clients.get(nodeId);
        return c != null && c.isConnected() && watch.isUp(nodeId);
    }

    @Override
    public String describe(String nodeId) {
        SpymemcachedClient c = clients.get(nodeId);
        if (c == null) {
            return "unknown node";
        }
        return c.describe() + (watch.isUp(nodeId) ? "" : ", watch connection refused");
    }

    @Override
    public void close() {
        watch.close();
        watched.values().forEach(DirectConnections::close);
        writeDeadline.close();
        for (MemcachedClient c : clients.values()) {
            c.shutdown(1, TimeUnit.SECONDS);
        }
        // an I/O thread's context class loader is the webapp's: Tomcat reports one that outlives the webapp's stop
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IO_THREAD_END_MILLIS);
        for (SpymemcachedClient c : clients.values()) {
            c.awaitIoThreadEnd(deadline);
        }
    }

}
