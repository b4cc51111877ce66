package io.msm.store;

/**
 * Byte storage on named memcached nodes. Every call names the node explicitly (the node id from the session id),
 * waits at most {@code timeoutMillis}, and reports any failure as a {@link StoreException}.
 *
 * <p>{@code exp} is memcached's expiration: seconds from now up to 30 days, an absolute Unix time beyond, {@code 0}
 * for none (see {@link Expiration}).
 */
public interface SessionStore extends AutoCloseable {

    /** The value, or {@code null} if the key is absent. */
    byte[] get(String nodeId, String key, long timeoutMillis);

    /** Stores the value; throws if memcached did not store it. */
    void set(String nodeId, String key, int exp, byte[] value, long timeoutMillis);

    /** Resets the expiration; {@code false} if the key is absent. */
    boolean touch(String nodeId, String key, int exp, long timeoutMillis);

    /** Deletes the key; {@code false} if it was absent. */
    boolean delete(String nodeId, String key, long timeoutMillis);

    /** Whether the client holds an open connection to the node (no I/O). */
    boolean isConnected(String nodeId);

    /** A short description of the node's connection state for error messages. */
    String describe(String nodeId);

    @Override
    void close();
}
