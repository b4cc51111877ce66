package io.msm.store;

import io.msm.config.MemcachedProtocol;
import io.msm.config.MsmConfig;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Opens the {@link SessionStore} on memcached that a configuration asks for: on the text protocol (the default) the
 * project's own blocking connections ({@link TextProtocolStore}), on the binary protocol (and with it SASL)
 * spymemcached ({@link SpymemcachedStore}). Both judge node availability from their own connections and tell it to a
 * {@link ConnectionListener}.
 */
public final class MemcachedSessionStore {

    /** Connection events, e.g. to drive node availability. Called on the store's threads: must be fast. */
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

    private MemcachedSessionStore() {
    }

    /** {@link #open(MsmConfig, String, ConnectionListener)} with threads named {@code msm}. */
    public static SessionStore open(MsmConfig config, ConnectionListener listener) throws IOException {
        return open(config, "msm", listener);
    }

    /**
     * The store for {@code config}'s nodes and protocol; it connects in the background and tells {@code listener}.
     *
     * @param name names the store's threads (a context's name)
     * @throws IOException spymemcached's clients cannot be created
     */
    public static SessionStore open(MsmConfig config, String name, ConnectionListener listener) throws IOException {
        return open(config, config.nodes(), name, listener);
    }

    /**
     * The store for {@code nodes} (discovered, or {@code config}'s) on {@code config}'s protocol.
     *
     * @param name names the store's threads (a context's name)
     * @throws IOException spymemcached's clients cannot be created
     */
    public static SessionStore open(MsmConfig config, java.util.List<io.msm.config.MemcachedNode> nodes, String name,
            ConnectionListener listener) throws IOException {
        if (config.memcachedProtocol() == MemcachedProtocol.BINARY) {
            return new SpymemcachedStore(config, name, listener);
        }
        return new TextProtocolStore(config, nodes, name, listener);
    }

    /** A listener made of two actions. */
    static ConnectionListener listener(java.util.function.Consumer<String> connected,
            java.util.function.Consumer<String> disconnected) {
        return new ConnectionListener() {
            @Override
            public void connected(String nodeId) {
                connected.accept(nodeId);
            }

            @Override
            public void disconnected(String nodeId) {
                disconnected.accept(nodeId);
            }
        };
    }

    /** The node's entry of {@code connections} for a call with {@code key}, which must be {@link #sendable}. */
    static <T> T connectionTo(String op, String nodeId, String key, java.util.Map<String, T> connections) {
        sendable(op, nodeId, key);
        T c = connections.get(nodeId);
        if (c == null) {
            throw StoreException.failed(op, key, nodeId, 0, "no such node in memcachedNodes", null);
        }
        return c;
    }

    /** Refuses a key memcached would answer with an error that costs the connection, or that breaks the command. */
    static void sendable(String op, String nodeId, String key) {
        if (!MemcachedKeys.isSendable(key)) {
            throw StoreException.failed(op, key, nodeId, 0, "not a memcached key (1 to " + MemcachedKeys.MAX_BYTES
                    + " bytes of UTF-8, no space or control character); not sent", null);
        }
    }

    /** memcached refused a storage command: too large for its item size, or otherwise. */
    static StoreException notStored(String op, String nodeId, String key, long start, String answer, int size) {
        String reason = answer + " (" + size + " bytes)";
        if (answer.toLowerCase(java.util.Locale.ROOT).contains("too large")) {
            return StoreException.tooLarge(op, key, nodeId, elapsed(start), reason);
        }
        return StoreException.failed(op, key, nodeId, elapsed(start), reason, null);
    }

    static long elapsed(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}
