package io.msm.store;

import io.msm.config.MemcachedNode;
import io.msm.config.MemcachedProtocol;
import io.msm.config.MsmConfig;
import io.msm.internal.DaemonThreads;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.spy.memcached.CachedData;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.ConnectionObserver;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.auth.AuthDescriptor;
import net.spy.memcached.transcoders.Transcoder;

/**
 * {@link SessionStore} on spymemcached: one client per memcached node, so each key goes exactly to the node its
 * session id names and one node's trouble never queues behind another's. Failure mode {@code Cancel}: operations for
 * a node whose connection is down fail at once instead of waiting. spymemcached's connection also tells when a node
 * goes and comes back ({@link ConnectionListener}).
 *
 * <p>On the text protocol without SASL, the calls a request or backup thread waits for ({@code set}, {@code touch},
 * the meta get) go over {@link DirectConnections} instead: blocking connections the calling thread writes and reads
 * itself, with the same timeouts and the same errors.
 */
public final class MemcachedSessionStore implements SessionStore {

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

    /** Connection events, e.g. to drive node availability. Called on spymemcached's I/O thread: must be fast. */
    public interface ConnectionListener {
        /** Listens to nothing (tools and tests that only store). */
        ConnectionListener NONE = new ConnectionListener() {
            @Override
            public void connected(String nodeId) {
            }

            @Override
            public void disconnected(String nodeId) {
            }
        };

        void connected(String nodeId);

        void disconnected(String nodeId);
    }

    /**
     * Values up to this size are sent without checking the node's item size limit (memcached's default is 1 MB;
     * nobody runs it with less than this).
     */
    static final int CHECKED_ABOVE_BYTES = 512 * 1024;
    /** How long {@link #close()} waits for the clients' I/O threads to end after shutting them down. */
    static final long IO_THREAD_END_MILLIS = 2000;
    /** memcached's default item size limit ({@code -I 1m}), assumed when a node cannot say. */
    static final int DEFAULT_ITEM_SIZE_MAX = 1024 * 1024;
    /** Room for memcached's item header, CAS and flags next to key and value. */
    private static final int ITEM_OVERHEAD = 128;

    private final Map<String, Client> clients;
    /** Blocking connections per node for waited-for calls; empty on the binary protocol or with SASL. */
    private final Map<String, DirectConnections> direct;
    private final WriteDeadline writeDeadline = new WriteDeadline("msm-write-deadline");
    /** Each node's {@code item_size_max} ({@code stats settings}), asked when a large value first goes there. */
    private final Map<String, Integer> itemSizeMax = new java.util.concurrent.ConcurrentHashMap<>();
    private final boolean binary;
    /** Cleared when a node answers that it does not know meta commands (memcached before 1.6). */
    private volatile boolean metaCommands = true;

    /** spymemcached's client, opened up to send operations it does not know itself (meta commands). */
    private static final class Client extends MemcachedClient {
        /**
         * The client's connections (one per address; spymemcached reconnects within the same objects). Fixed here:
         * {@code getNodeLocator()} copies the locator on every call, and requests ask for the connection state twice.
         */
        private final net.spy.memcached.MemcachedNode[] nodes;

        Client(net.spy.memcached.ConnectionFactory cf, List<InetSocketAddress> addresses) throws IOException {
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

        void enqueue(String key, net.spy.memcached.ops.Operation op) {
            mconn.enqueueOperation(key, op);
        }

        /**
         * A {@code set} whose answer goes to {@code done} on the I/O thread (no future, no listener thread: one thread
         * hand-off less than spymemcached's own {@code set(...).addListener}).
         */
        void set(String key, int exp, byte[] value, java.util.function.Consumer<Boolean> done) {
            boolean[] stored = {false};
            enqueue(key, opFact.store(net.spy.memcached.ops.StoreType.set, key, 0, exp, value,
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
    }

    public MemcachedSessionStore(MsmConfig config, ConnectionListener listener) throws IOException {
        Map<String, Client> m = new LinkedHashMap<>();
        try {
            for (MemcachedNode node : config.nodes()) {
                m.put(node.id(), connect(config, node, listener));
            }
        } catch (IOException | RuntimeException e) {
            m.values().forEach(MemcachedClient::shutdown);
            throw e;
        }
        this.clients = Map.copyOf(m);
        this.binary = config.memcachedProtocol() == MemcachedProtocol.BINARY;
        Map<String, DirectConnections> d = new LinkedHashMap<>();
        if (!binary && config.username().isEmpty()) {
            for (MemcachedNode node : config.nodes()) {
                d.put(node.id(), new DirectConnections(new InetSocketAddress(node.host(), node.port()),
                        writeDeadline));
            }
        }
        this.direct = Map.copyOf(d);
    }

    private Client connect(MsmConfig config, MemcachedNode node, ConnectionListener listener) throws IOException {
        String id = node.id();
        ConnectionObserver observer = new ConnectionObserver() {
            @Override
            public void connectionEstablished(SocketAddress address, int reconnectCount) {
                itemSizeMax.remove(id); // maybe restarted with another -I
                listener.connected(id);
            }

            @Override
            public void connectionLost(SocketAddress address) {
                itemSizeMax.remove(id);
                listener.disconnected(id);
            }
        };
        ConnectionFactoryBuilder b = new ConnectionFactoryBuilder()
                .setProtocol(config.memcachedProtocol() == MemcachedProtocol.BINARY
                        ? ConnectionFactoryBuilder.Protocol.BINARY : ConnectionFactoryBuilder.Protocol.TEXT)
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
        return new Client(b.build(), List.of(new InetSocketAddress(node.host(), node.port())));
    }

    private Client client(String op, String nodeId, String key) {
        sendable(op, nodeId, key);
        Client c = clients.get(nodeId);
        if (c == null) {
            throw StoreException.failed(op, key, nodeId, 0, "no such node in memcachedNodes", null);
        }
        return c;
    }

    /** Refuses a key memcached would answer with an error that costs the connection, or that breaks the command. */
    private static void sendable(String op, String nodeId, String key) {
        if (!MemcachedKeys.isSendable(key)) {
            throw StoreException.failed(op, key, nodeId, 0, "not a memcached key (1 to " + MemcachedKeys.MAX_BYTES
                    + " bytes of UTF-8, no space or control character); not sent", null);
        }
    }

    /**
     * Refuses a value the node would refuse, without sending it: memcached answers an oversized text-protocol set by
     * closing the connection, which would cost every session on that node its connection.
     */
    private void checkSize(String op, String nodeId, String key, byte[] value) {
        if (value.length <= CHECKED_ABOVE_BYTES) {
            return;
        }
        Integer limit = itemSizeMax.get(nodeId);
        if (limit == null) {
            limit = askItemSizeMax(nodeId);
        }
        if (value.length + key.length() + ITEM_OVERHEAD > limit) {
            throw StoreException.tooLarge(op, key, nodeId, 0, value.length + " bytes, memcached node " + nodeId
                    + " takes items of at most " + limit + " bytes (its -I); not sent");
        }
    }

    private int askItemSizeMax(String nodeId) {
        Client c = clients.get(nodeId);
        try {
            for (Map<String, String> settings : c.getStats("settings").values()) {
                String v = settings.get("item_size_max");
                if (v != null) {
                    int limit = Integer.parseInt(v.trim());
                    itemSizeMax.put(nodeId, limit);
                    return limit;
                }
            }
        } catch (RuntimeException e) {
            // no answer: assume memcached's default, and ask again next time
        }
        return DEFAULT_ITEM_SIZE_MAX;
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

    @Override
    public StoredValue getWithTtl(String nodeId, String key, int refreshExp, long timeoutMillis) {
        if (binary || !metaCommands) {
            return gets(nodeId, key, timeoutMillis);
        }
        long start = System.nanoTime();
        DirectConnections dc = direct.get(nodeId);
        if (dc != null) {
            sendable("mg", nodeId, key);
            try {
                return dc.call(timeoutMillis, c -> metaGet(c, key, refreshExp));
            } catch (MetaGetOperation.MetaCommandException e) {
                metaCommands = false; // memcached before 1.6: plain gets from now on
                return gets(nodeId, key, timeoutMillis);
            } catch (IOException e) {
                throw failed("mg", nodeId, key, start, e);
            }
        }
        java.util.concurrent.CompletableFuture<StoredValue> f = new java.util.concurrent.CompletableFuture<>();
        try {
            client("mg", nodeId, key).enqueue(key, new MetaGetOperation(key, refreshExp, f));
            return await("mg", nodeId, key, f, timeoutMillis, start);
        } catch (StoreException e) {
            if (e.getCause() instanceof MetaGetOperation.MetaCommandException) {
                metaCommands = false; // memcached before 1.6: plain gets from now on
                return gets(nodeId, key, timeoutMillis);
            }
            throw e;
        } catch (RuntimeException e) {
            throw wrap("mg", nodeId, key, start, e);
        }
    }

    /** {@code mg <key> v t [T<exp>]} on a direct connection (answers as in {@link MetaGetOperation}). */
    private static StoredValue metaGet(DirectConnections.Conn c, String key, int refreshExp) throws IOException {
        c.writeCommand(MetaGetOperation.command(key, refreshExp));
        c.out.flush();
        String h = c.readLine();
        if (h.equals("EN")) {
            if (c.replacesClosed) {
                throw new MissAfterReconnect();
            }
            return new StoredValue(null, StoredValue.UNKNOWN_TTL);
        }
        if (!h.startsWith("VA ")) {
            if (h.equals("ERROR")) {
                throw new MetaGetOperation.MetaCommandException(h);
            }
            throw new DirectConnections.ProtocolException("memcached answered " + h);
        }
        long[] hit = MetaGetOperation.parseHit(h);
        if (hit == null) {
            throw new DirectConnections.ProtocolException("malformed answer " + h);
        }
        return new StoredValue(c.readData((int) hit[0]), (int) hit[1], refreshExp != KEEP_EXPIRATION, hit[2]);
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

    @Override
    public long storeIf(String nodeId, String key, int exp, byte[] value, long cas, long timeoutMillis) {
        if (cas == ANY) {
            set(nodeId, key, exp, value, timeoutMillis);
            return 0;
        }
        DirectConnections dc = direct.get(nodeId);
        if (cas == ADD && dc == null) {
            return add(nodeId, key, exp, value, timeoutMillis) >= 0 ? 0 : EXISTS;
        }
        long start = System.nanoTime();
        sendable("cas", nodeId, key);
        checkSize("cas", nodeId, key, value);
        if (dc != null) {
            String answer;
            try {
                answer = dc.call(timeoutMillis, c -> {
                    writeCas(c, key, exp, value, cas);
                    return readCasAnswer(c);
                });
            } catch (DirectConnections.ProtocolException e) {
                throw notStored(nodeId, key, start, e.getMessage(), value.length);
            } catch (IOException e) {
                throw failed("cas", nodeId, key, start, e);
            }
            return answer.equals("STORED") ? 0 : answer.equals("NOT_FOUND") ? NOT_FOUND : EXISTS;
        }
        net.spy.memcached.CASResponse r;
        try {
            r = await("cas", nodeId, key, client("cas", nodeId, key).asyncCAS(key, cas, exp, value, BYTES),
                    timeoutMillis, start);
        } catch (RuntimeException e) {
            throw wrap("cas", nodeId, key, start, e);
        }
        if (r == net.spy.memcached.CASResponse.OK) {
            return 0;
        }
        if (r == net.spy.memcached.CASResponse.EXISTS) {
            return EXISTS;
        }
        if (r == net.spy.memcached.CASResponse.NOT_FOUND) {
            return NOT_FOUND;
        }
        throw notStored(nodeId, key, start, "memcached answered " + r, value.length);
    }

    /** {@code cas}, or {@code add} for {@link #ADD}. */
    private static Void writeCas(DirectConnections.Conn c, String key, int exp, byte[] value, long cas)
            throws IOException {
        c.writeCommand((cas == ADD ? "add " : "cas ") + key + " 0 " + exp + " " + value.length
                + (cas == ADD ? "" : " " + cas) + "\r\n");
        c.writeValue(value);
        return null;
    }

    private static String readCasAnswer(DirectConnections.Conn c) throws IOException {
        String line = c.readLine();
        if (!line.equals("STORED") && !line.equals("EXISTS") && !line.equals("NOT_FOUND")
                && !line.equals("NOT_STORED")) {
            throw new DirectConnections.ProtocolException("memcached answered " + line);
        }
        return line;
    }

    /**
     * A meta get found nothing on a connection that replaced one memcached had closed. memcached may have restarted
     * empty a moment ago, before anything else noticed: a miss then is no proof that the session is gone, so it is
     * reported as a failure and the caller turns to the secondary copy (as when the node cannot answer at all).
     */
    static final class MissAfterReconnect extends IOException {
        private static final long serialVersionUID = 1L;

        MissAfterReconnect() {
            super("no value, on a new connection replacing one memcached had closed (restarted empty?)");
        }
    }

    private StoreException failed(String op, String nodeId, String key, long start, IOException e) {
        if (e instanceof java.net.SocketTimeoutException) {
            return StoreException.timeout(op, key, nodeId, elapsed(start), describe(nodeId));
        }
        return StoreException.failed(op, key, nodeId, elapsed(start), e + " (" + describe(nodeId) + ")", e);
    }

    @Override
    public void set(String nodeId, String key, int exp, byte[] value, long timeoutMillis) {
        long start = System.nanoTime();
        sendable("set", nodeId, key);
        checkSize("set", nodeId, key, value);
        DirectConnections dc = direct.get(nodeId);
        if (dc != null) {
            String answer;
            try {
                answer = dc.call(timeoutMillis, c -> {
                    writeSet(c, key, exp, value);
                    return readSetAnswer(c);
                });
            } catch (DirectConnections.ProtocolException e) { // e.g. SERVER_ERROR object too large for cache
                throw notStored(nodeId, key, start, e.getMessage(), value.length);
            } catch (IOException e) {
                throw failed("set", nodeId, key, start, e);
            }
            if (!answer.equals("STORED")) {
                throw notStored(nodeId, key, start, "memcached answered " + answer, value.length);
            }
            return;
        }
        net.spy.memcached.internal.OperationFuture<Boolean> f;
        try {
            f = client("set", nodeId, key).set(key, exp, value, BYTES);
        } catch (RuntimeException e) {
            throw wrap("set", nodeId, key, start, e);
        }
        Boolean ok = await("set", nodeId, key, f, timeoutMillis, start);
        if (!Boolean.TRUE.equals(ok)) {
            throw notStored(nodeId, key, start, "memcached answered " + f.getStatus().getMessage(), value.length);
        }
    }

    private static Void writeSet(DirectConnections.Conn c, String key, int exp, byte[] value) throws IOException {
        c.writeCommand("set " + key + " 0 " + exp + " " + value.length + "\r\n");
        c.writeValue(value);
        return null;
    }

    private static String readSetAnswer(DirectConnections.Conn c) throws IOException {
        String line = c.readLine();
        if (!line.equals("STORED") && !line.equals("NOT_STORED")) {
            throw new DirectConnections.ProtocolException("memcached answered " + line);
        }
        return line;
    }

    /**
     * Both writes over direct connections: the secondary's {@code set} is written first, then the primary's call
     * is made as {@link #storeIf} makes it, then the secondary's answer read. Without direct connections to both nodes
     * (binary protocol), the secondary goes through spymemcached as {@link #setAsync} sends it.
     */
    @Override
    public Paired storeWithSecondary(String nodeId, String key, int exp, byte[] value, long cas, long timeoutMillis,
            String secondaryNodeId, String secondaryKey, int secondaryExp, long secondaryTimeoutMillis) {
        DirectConnections bak = direct.get(secondaryNodeId);
        if (bak == null || direct.get(nodeId) == null) {
            return SessionStore.super.storeWithSecondary(nodeId, key, exp, value, cas, timeoutMillis,
                    secondaryNodeId, secondaryKey, secondaryExp, secondaryTimeoutMillis);
        }
        sendable("set", nodeId, key);
        sendable("set", secondaryNodeId, secondaryKey);
        checkSize("set", nodeId, key, value); // the same bytes on both nodes
        DirectConnections.Sent sent;
        boolean sendTimedOut = false;
        try {
            sent = bak.send(secondaryTimeoutMillis, c -> writeSet(c, secondaryKey, secondaryExp, value));
        } catch (IOException e) {
            sent = null;
            sendTimedOut = e instanceof java.net.SocketTimeoutException; // a node that stopped reading
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
            secondary = bak.receive(sent, secondaryTimeoutMillis, MemcachedSessionStore::readSetAnswer)
                    .equals("STORED") ? Secondary.STORED : Secondary.FAILED;
        } catch (java.net.SocketTimeoutException e) {
            secondary = Secondary.TIMED_OUT;
        } catch (IOException e) {
            secondary = Secondary.FAILED;
        }
        return new Paired(primary, secondary);
    }

    /** memcached refused a {@code set}: too large for its item size, or otherwise. */
    private static StoreException notStored(String nodeId, String key, long start, String answer, int size) {
        String reason = answer + " (" + size + " bytes)";
        if (answer.toLowerCase(java.util.Locale.ROOT).contains("too large")) {
            return StoreException.tooLarge("set", key, nodeId, elapsed(start), reason);
        }
        return StoreException.failed("set", key, nodeId, elapsed(start), reason, null);
    }

    @Override
    public long add(String nodeId, String key, int exp, byte[] value, long timeoutMillis) {
        long start = System.nanoTime();
        net.spy.memcached.internal.OperationFuture<Boolean> f;
        checkSize("add", nodeId, key, value);
        try {
            f = client("add", nodeId, key).add(key, exp, value, BYTES);
        } catch (RuntimeException e) {
            throw wrap("add", nodeId, key, start, e);
        }
        if (!Boolean.TRUE.equals(await("add", nodeId, key, f, timeoutMillis, start))) {
            return -1;
        }
        if (!binary) {
            return 0; // the text protocol does not report the CAS of a stored item
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
            Client c = client("delete", nodeId, key);
            long version = cas;
            if (version <= 0) {
                net.spy.memcached.CASValue<byte[]> current = await("gets", nodeId, key, c.asyncGets(key, BYTES),
                        timeoutMillis, start);
                if (current == null || !java.util.Arrays.equals(current.getValue(), expected)) {
                    return false; // gone, or another owner's
                }
                version = current.getCas();
            }
            long left = Math.max(1, timeoutMillis - elapsed(start));
            if (binary) {
                return Boolean.TRUE.equals(await("delete", nodeId, key, c.delete(key, version), left, start));
            }
            // text protocol: classic delete has no CAS, so replace our exact version with an already-expired item
            net.spy.memcached.CASResponse r = await("cas", nodeId, key, c.asyncCAS(key, version, -1, expected, BYTES),
                    left, start);
            return r == net.spy.memcached.CASResponse.OK;
        } catch (RuntimeException e) {
            throw wrap("delete", nodeId, key, start, e);
        }
    }

    @Override
    public void setAsync(String nodeId, String key, int exp, byte[] value, java.util.function.Consumer<Boolean> done) {
        Client c = clients.get(nodeId);
        if (c == null) {
            done.accept(false);
            return;
        }
        try {
            sendable("set", nodeId, key);
            checkSize("set", nodeId, key, value);
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
        DirectConnections dc = direct.get(nodeId);
        if (dc != null) {
            sendable("touch", nodeId, key);
            try {
                return dc.call(timeoutMillis, c -> {
                    c.writeCommand("touch " + key + " " + exp + "\r\n");
                    c.out.flush();
                    String line = c.readLine();
                    if (!line.equals("TOUCHED") && !line.equals("NOT_FOUND")) {
                        throw new DirectConnections.ProtocolException("memcached answered " + line);
                    }
                    return line.equals("TOUCHED");
                });
            } catch (IOException e) {
                throw failed("touch", nodeId, key, start, e);
            }
        }
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
            throw StoreException.timeout(op, key, nodeId, elapsed(start), describe(nodeId));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof TimeoutException) { // spymemcached's own operation timeout
                throw StoreException.timeout(op, key, nodeId, elapsed(start), describe(nodeId));
            }
            throw StoreException.failed(op, key, nodeId, elapsed(start), cause.toString() + " (" + describe(nodeId) + ")",
                    cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw StoreException.failed(op, key, nodeId, elapsed(start), "interrupted", e);
        }
    }

    private StoreException wrap(String op, String nodeId, String key, long start, RuntimeException e) {
        if (e instanceof StoreException) {
            return (StoreException) e;
        }
        return StoreException.failed(op, key, nodeId, elapsed(start), e.toString(), e);
    }

    private static long elapsed(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    @Override
    public void checkConnection(String nodeId, String probeKey) {
        Client c = clients.get(nodeId);
        if (c != null) {
            try {
                c.asyncGet(probeKey, BYTES);
            } catch (RuntimeException e) {
                // the client is shutting down or already knows
            }
        }
    }

    @Override
    public boolean isConnected(String nodeId) {
        Client c = clients.get(nodeId);
        return c != null && c.isConnected();
    }

    @Override
    public String describe(String nodeId) {
        MemcachedClient c = clients.get(nodeId);
        if (c == null) {
            return "unknown node";
        }
        StringBuilder sb = new StringBuilder();
        for (net.spy.memcached.MemcachedNode n : c.getNodeLocator().getAll()) {
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

    @Override
    public void close() {
        direct.values().forEach(DirectConnections::close);
        writeDeadline.close();
        for (MemcachedClient c : clients.values()) {
            c.shutdown(1, TimeUnit.SECONDS);
        }
        // an I/O thread's context class loader is the webapp's: Tomcat reports one that outlives the webapp's stop
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IO_THREAD_END_MILLIS);
        for (Client c : clients.values()) {
            c.awaitIoThreadEnd(deadline);
        }
    }

    /** Stores our blobs as they are: flags 0, no compression, no size limit of its own (memcached's -I decides). */
    private static final Transcoder<byte[]> BYTES = new Transcoder<>() {
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
