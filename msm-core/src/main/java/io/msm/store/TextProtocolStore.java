package io.msm.store;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import javax.net.ssl.SSLHandshakeException;

/**
 * {@link SessionStore} on memcached's text protocol: every call goes over the node's own pool of blocking
 * {@link DirectConnections}, written and read by the calling thread ({@link TextCommands}), and the same pools tell
 * whether a node is there ({@link NodeWatch}). A secondary copy sent without waiting ({@link #setAsync}) is written by
 * one small thread per node, in order, from a bounded queue.
 */
final class TextProtocolStore implements SessionStore {
    private static final String MG = "mg";

    /** The nodes' pools by id; nodes are added and removed while running ({@link #addNode}, {@link #removeNode}). */
    private final Map<String, DirectConnections> nodes = new ConcurrentHashMap<>();
    private final TlsLayer tls;
    private final String name;
    private final AsyncWriters async;
    private final WriteDeadline writeDeadline;
    private final NodeWatch watch;
    private final ItemSizeCheck sizes = new ItemSizeCheck(this::settings);
    private final long operationTimeoutMillis;
    /**
     * The nodes that answered that they do not know meta commands (memcached before 1.6, or a proxy): read with
     * {@code gets} until they reconnect. At most one entry per node.
     */
    private final Set<String> noMetaCommands = ConcurrentHashMap.newKeySet();

    /**
     * @param nodes the nodes at the start
     * @param name names the store's threads (the context's name)
     */
    TextProtocolStore(MsmConfig config, List<MemcachedNode> nodes, String name,
            MemcachedSessionStore.ConnectionListener listener) {
        this.operationTimeoutMillis = config.operationTimeoutMillis();
        this.name = name;
        this.writeDeadline = new WriteDeadline("msm-write-deadline-" + name);
        this.tls = config.tlsContext().map(c -> new TlsLayer(c, name)).orElse(null);
        Map<String, DirectConnections> n = new LinkedHashMap<>();
        for (MemcachedNode node : nodes) {
            n.put(node.id(), pool(node));
        }
        this.nodes.putAll(n);
        this.async = new AsyncWriters(n.keySet(), name, operationTimeoutMillis);
        this.watch = new NodeWatch(n, "msm-watch-" + name, operationTimeoutMillis, true,
                MemcachedSessionStore.listener(nodeId -> {
                    sizes.forget(nodeId); // maybe restarted with another -I
                    noMetaCommands.remove(nodeId); // or another version
                    listener.connected(nodeId);
                }, nodeId -> {
                    sizes.forget(nodeId);
                    listener.disconnected(nodeId);
                })).start();
    }

    private DirectConnections pool(MemcachedNode node) {
        return new DirectConnections(node.host(), node.port(), writeDeadline, tls, name);
    }

    @Override
    public void addNode(MemcachedNode node) {
        DirectConnections pool = pool(node);
        if (nodes.putIfAbsent(node.id(), pool) != null) {
            pool.close();
            return;
        }
        async.add(node.id());
        watch.add(node.id(), pool);
    }

    @Override
    public void removeNode(String nodeId) {
        DirectConnections pool = nodes.remove(nodeId);
        if (pool == null) {
            return;
        }
        watch.remove(nodeId);
        pool.close(); // first: ends a write under way to it, as at close()
        async.remove(nodeId);
        sizes.forget(nodeId);
        noMetaCommands.remove(nodeId);
    }

    private DirectConnections pool(String op, String nodeId, String key) {
        return MemcachedSessionStore.connectionTo(op, nodeId, key, nodes);
    }

    /** One exchange on the node's pool; every failure a {@link StoreException}. */
    private <T> T call(String op, String nodeId, String key, long timeoutMillis,
            DirectConnections.Exchange<T> exchange) {
        long start = System.nanoTime();
        DirectConnections pool = pool(op, nodeId, key);
        try {
            return pool.call(timeoutMillis, exchange);
        } catch (IOException e) {
            throw failed(op, nodeId, key, start, e);
        }
    }

    private StoreException failed(String op, String nodeId, String key, long start, IOException e) {
        if (e instanceof ConnectException || e instanceof SSLHandshakeException) {
            // refused, or its certificate no longer verifies (while older connections may still serve): down until
            // the watch's own connect and handshake succeed
            watch.refused(nodeId);
        }
        long elapsed = MemcachedSessionStore.elapsed(start);
        if (e instanceof SocketTimeoutException) {
            return StoreException.timeout(op, key, nodeId, elapsed, describe(nodeId));
        }
        return StoreException.failed(op, key, nodeId, elapsed, e + " (" + describe(nodeId) + ")", e);
    }

    /** A storage command and its answer ({@code STORED}, {@code NOT_STORED}, {@code EXISTS}, {@code NOT_FOUND}). */
    private String store(String op, String nodeId, String key, TextCommands.Verb verb, int exp, byte[] value, long cas,
            long timeoutMillis) {
        long start = System.nanoTime();
        DirectConnections pool = pool(op, nodeId, key);
        sizes.check(op, nodeId, key, value);
        try {
            return pool.call(timeoutMillis, c -> {
                TextCommands.writeStore(c, verb, key, exp, value, cas);
                return TextCommands.storeAnswer(c);
            });
        } catch (ProtocolException e) { // e.g. SERVER_ERROR object too large for cache
            throw MemcachedSessionStore.notStored(op, nodeId, key, start, e.getMessage(), value.length);
        } catch (IOException e) {
            throw failed(op, nodeId, key, start, e);
        }
    }

    private Map<String, String> settings(String nodeId) {
        return settings(nodeId, operationTimeoutMillis);
    }

    private Map<String, String> settings(String nodeId, long timeoutMillis) {
        try {
            DirectConnections pool = nodes.get(nodeId);
            return pool == null ? null : pool.call(timeoutMillis, c -> TextCommands.stats(c, "settings"));
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public byte[] get(String nodeId, String key, long timeoutMillis) {
        return call("get", nodeId, key, timeoutMillis, c -> TextCommands.get(c, key, sizes.largestValue(nodeId)));
    }

    @Override
    public StoredValue getWithTtl(String nodeId, String key, int refreshExp, long timeoutMillis) {
        if (noMetaCommands.contains(nodeId)) {
            return gets(nodeId, key, timeoutMillis);
        }
        try {
            return call(MG, nodeId, key, timeoutMillis, c -> TextCommands.metaGet(c, key, refreshExp,
                    sizes.largestValue(nodeId)));
        } catch (StoreException e) {
            if (e.getCause() instanceof TextCommands.MetaCommandsUnknown) {
                noMetaCommands.add(nodeId); // memcached before 1.6: plain gets on this node from now on
                return gets(nodeId, key, timeoutMillis);
            }
            throw e;
        }
    }

    @Override
    public StoredValue gets(String nodeId, String key, long timeoutMillis) {
        return call("gets", nodeId, key, timeoutMillis, c -> TextCommands.gets(c, key, sizes.largestValue(nodeId)));
    }

    @Override
    public void set(String nodeId, String key, int exp, byte[] value, long timeoutMillis) {
        long start = System.nanoTime();
        String answer = store("set", nodeId, key, TextCommands.Verb.SET, exp, value, 0, timeoutMillis);
        if (!answer.equals("STORED")) {
            throw MemcachedSessionStore.notStored("set", nodeId, key, start, "memcached answered " + answer,
                    value.length);
        }
    }

    @Override
    public long storeIf(String nodeId, String key, int exp, byte[] value, long cas, long timeoutMillis) {
        if (cas == ANY) {
            set(nodeId, key, exp, value, timeoutMillis);
            return 0;
        }
        String answer = cas == ADD ? store("add", nodeId, key, TextCommands.Verb.ADD, exp, value, 0, timeoutMillis)
                : store("cas", nodeId, key, TextCommands.Verb.CAS, exp, value, cas, timeoutMillis);
        return answer.equals("STORED") ? 0 : answer.equals("NOT_FOUND") ? NOT_FOUND : EXISTS;
    }

    /** The text protocol does not report the CAS of a stored item: {@code 0} when stored. */
    @Override
    public long add(String nodeId, String key, int exp, byte[] value, long timeoutMillis) {
        return store("add", nodeId, key, TextCommands.Verb.ADD, exp, value, 0, timeoutMillis).equals("STORED") ? 0
                : -1;
    }

    /** Classic {@code delete} has no CAS: our exact version is replaced with an already expired item. */
    @Override
    public boolean compareAndDelete(String nodeId, String key, byte[] expected, long cas, long timeoutMillis) {
        long start = System.nanoTime();
        long version = cas;
        if (version <= 0) {
            StoredValue current = gets(nodeId, key, timeoutMillis);
            if (current.value() == null || !Arrays.equals(current.value(), expected)) {
                return false; // gone, or another owner's
            }
            version = current.cas();
        }
        long left = Math.max(1, timeoutMillis - MemcachedSessionStore.elapsed(start));
        return store("delete", nodeId, key, TextCommands.Verb.CAS, -1, expected, version, left).equals("STORED");
    }

    @Override
    public boolean append(String nodeId, String key, byte[] value, long timeoutMillis) {
        return store("append", nodeId, key, TextCommands.Verb.APPEND, 0, value, 0, timeoutMillis).equals("STORED");
    }

    @Override
    public boolean touch(String nodeId, String key, int exp, long timeoutMillis) {
        return call("touch", nodeId, key, timeoutMillis, c -> TextCommands.touch(c, key, exp));
    }

    @Override
    public boolean delete(String nodeId, String key, long timeoutMillis) {
        return call("delete", nodeId, key, timeoutMillis, c -> TextCommands.delete(c, key));
    }

    /** Queued for the node's writer thread ({@link AsyncWriters}), which makes the {@code set}. */
    @Override
    public void setAsync(String nodeId, String key, int exp, byte[] value, Consumer<Boolean> done) {
        if (!MemcachedKeys.isSendable(key)) {
            done.accept(false);
            return;
        }
        async.submit(nodeId, value.length, timeoutMillis -> {
            try {
                set(nodeId, key, exp, value, timeoutMillis);
                return true;
            } catch (StoreException e) {
                return false;
            }
        }, done);
    }

    /**
     * The secondary's {@code set} is written first, then the primary's call is made as {@link #storeIf} makes it,
     * then the secondary's answer read: one wait for both. A value larger than the secondary holds is not sent to
     * it ({@link Secondary#FAILED}).
     */
    @Override
    public Paired storeWithSecondary(String nodeId, String key, int exp, byte[] value, long cas, long timeoutMillis,
            String secondaryNodeId, String secondaryKey, int secondaryExp, long secondaryTimeoutMillis) {
        pool("set", nodeId, key);
        DirectConnections bak = pool("set", secondaryNodeId, secondaryKey);
        sizes.check("set", nodeId, key, value);
        long start = System.nanoTime();
        // the same bytes, but the secondary may hold smaller items (its -I): a copy it cannot hold is not sent
        boolean fits = sizes.takes(secondaryNodeId, secondaryKey, value, id -> settings(id, secondaryTimeoutMillis));
        long sendMillis = secondaryTimeoutMillis - MemcachedSessionStore.elapsed(start); // what asking it left
        SentCommand sent = null;
        boolean sendTimedOut = fits && sendMillis <= 0;
        try {
            if (fits && !sendTimedOut) {
                sent = bak.send(sendMillis,
                        c -> TextCommands.writeStore(c, TextCommands.Verb.SET, secondaryKey, secondaryExp, value, 0));
            }
        } catch (IOException e) {
            sendTimedOut = e instanceof SocketTimeoutException; // a node that stopped reading
        }
        boolean primaryAnswered = false;
        long primary;
        try {
            primary = storeIf(nodeId, key, exp, value, cas, timeoutMillis);
            primaryAnswered = true;
        } finally {
            if (!primaryAnswered && sent != null) {
                bak.abandon(sent);
            }
        }
        if (sent == null) {
            return new Paired(primary, sendTimedOut ? Secondary.TIMED_OUT : Secondary.FAILED);
        }
        Secondary secondary;
        try {
            secondary = bak.receive(sent, secondaryTimeoutMillis, TextCommands::storeAnswer).equals("STORED")
                    ? Secondary.STORED : Secondary.FAILED;
        } catch (SocketTimeoutException e) {
            secondary = Secondary.TIMED_OUT;
        } catch (IOException e) {
            secondary = Secondary.FAILED;
        }
        return new Paired(primary, secondary);
    }

    @Override
    public boolean isConnected(String nodeId) {
        return watch.isUp(nodeId);
    }

    @Override
    public String describe(String nodeId) {
        DirectConnections pool = nodes.get(nodeId);
        if (pool == null) {
            return "unknown node";
        }
        return pool.address() + (watch.isUp(nodeId) ? " connected" : " disconnected") + ", "
                + pool.openConnections() + " connections open (" + pool.idleConnections() + " idle)"
                + (pool.handshakeFailing() ? ", its TLS handshake failing (see the line logged for it)" : "");
    }

    @Override
    public void close() {
        watch.close();
        // first: closing the connections ends a writer's wait for a node that stopped answering (a blocking read
        // ignores the interrupt); its write and those still queued fail
        nodes.values().forEach(DirectConnections::close);
        async.close();
        writeDeadline.close();
    }
}
