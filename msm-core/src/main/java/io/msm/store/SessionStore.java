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

    /** Leave the item's expiration as it is ({@code refreshExp} of {@link #getWithTtl}). */
    int KEEP_EXPIRATION = -1;

    /**
     * The value and its remaining time to live in one round trip where the protocol allows it (memcached 1.6 meta
     * get on the text protocol), and if {@code refreshExp} is not {@link #KEEP_EXPIRATION}, in the same round trip
     * the new expiration {@code refreshExp} (a get-and-touch; {@link StoredValue#refreshed()} says whether it was
     * set). Otherwise a plain get with {@link StoredValue#UNKNOWN_TTL}, the expiration left as it is.
     */
    StoredValue getWithTtl(String nodeId, String key, int refreshExp, long timeoutMillis);

    /** Stores the value; throws if memcached did not store it. */
    void set(String nodeId, String key, int exp, byte[] value, long timeoutMillis);

    /**
     * Sends a {@code set} without waiting for its answer: it is queued (in order with the other such requests to the
     * node), and {@code done} is told later whether memcached stored it ({@code false} at once if the queue is
     * full). Used for the secondary copy, so a response never waits for it. {@code done} may run on one of the
     * store's threads: it must be quick and must not block.
     */
    void setAsync(String nodeId, String key, int exp, byte[] value, java.util.function.Consumer<Boolean> done);

    /** What became of the secondary copy of {@link #setWithSecondary}. */
    enum Secondary {
        /** memcached stored it. */
        STORED,
        /** memcached refused it, or the call failed. */
        FAILED,
        /** No answer within its timeout (it may still land). */
        TIMED_OUT
    }

    /**
     * Stores {@code value} under {@code key} as {@link #set} does and, on another node, under {@code secondaryKey}:
     * both commands are sent before either answer is awaited, so the caller waits one round trip for both. The
     * secondary's answer is awaited at most {@code secondaryTimeoutMillis} after the primary's.
     *
     * @return the secondary's outcome
     * @throws StoreException the primary {@code set} failed, as {@link #set} (the secondary's outcome is then unknown)
     */
    default Secondary setWithSecondary(String nodeId, String key, int exp, byte[] value, long timeoutMillis,
            String secondaryNodeId, String secondaryKey, int secondaryExp, long secondaryTimeoutMillis) {
        return storeWithSecondary(nodeId, key, exp, value, ANY, timeoutMillis, secondaryNodeId, secondaryKey,
                secondaryExp, secondaryTimeoutMillis).secondary;
    }

    /** What became of both copies of {@link #storeWithSecondary}. */
    final class Paired {
        /** The primary's outcome, as {@link #storeIf} returns it. */
        public final long primary;
        public final Secondary secondary;

        public Paired(long primary, Secondary secondary) {
            this.primary = primary;
            this.secondary = secondary;
        }
    }

    /**
     * {@link #setWithSecondary} with the primary stored as {@link #storeIf} stores it (the secondary is a plain
     * {@code set}, sent whatever the primary's outcome).
     */
    default Paired storeWithSecondary(String nodeId, String key, int exp, byte[] value, long cas, long timeoutMillis,
            String secondaryNodeId, String secondaryKey, int secondaryExp, long secondaryTimeoutMillis) {
        java.util.concurrent.CompletableFuture<Boolean> secondary = new java.util.concurrent.CompletableFuture<>();
        setAsync(secondaryNodeId, secondaryKey, secondaryExp, value, secondary::complete);
        long primary = storeIf(nodeId, key, exp, value, cas, timeoutMillis);
        Secondary outcome;
        try {
            outcome = secondary.get(secondaryTimeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS)
                    ? Secondary.STORED : Secondary.FAILED;
        } catch (java.util.concurrent.TimeoutException e) {
            outcome = Secondary.TIMED_OUT;
        } catch (java.util.concurrent.ExecutionException e) {
            outcome = Secondary.FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = Secondary.TIMED_OUT;
        }
        return new Paired(primary, outcome);
    }

    /** {@link #storeIf}'s {@code cas} for "only if the key does not exist" ({@code add}). */
    long ADD = 0;
    /** {@link #storeIf}'s {@code cas} for "whatever the key holds" (a plain {@code set}). */
    long ANY = Long.MIN_VALUE;
    /** {@link #storeIf}: the key holds another version than the one expected (or, for {@link #ADD}, exists). */
    long EXISTS = -1;
    /** {@link #storeIf}: the key holds nothing (for an expected version). */
    long NOT_FOUND = -2;

    /** The value and its CAS ({@code gets}); {@link StoredValue#UNKNOWN_TTL}. */
    StoredValue gets(String nodeId, String key, long timeoutMillis);

    /**
     * Stores the value only if the key holds the version {@code cas} ({@code cas}), or does not exist ({@link #ADD}),
     * or whatever it holds ({@link #ANY}, a {@code set}).
     *
     * @return the item's new CAS ({@code 0} if memcached did not tell it), {@link #EXISTS} or {@link #NOT_FOUND}
     * @throws StoreException as {@link #set}
     */
    long storeIf(String nodeId, String key, int exp, byte[] value, long cas, long timeoutMillis);

    /**
     * Stores the value only if the key does not exist ({@code add}).
     *
     * @return the item's CAS if memcached reported it, {@code 0} if stored with an unknown CAS, {@code -1} if the key
     *     exists
     */
    long add(String nodeId, String key, int exp, byte[] value, long timeoutMillis);

    /**
     * Deletes the key only if it still holds {@code expected} (and, when {@code cas > 0}, that exact version): an
     * atomic check-and-delete, so a lock is only ever released by its owner.
     *
     * @return {@code true} if deleted
     */
    boolean compareAndDelete(String nodeId, String key, byte[] expected, long cas, long timeoutMillis);

    /**
     * Appends {@code value} to the item's value ({@code append}); the item keeps its expiration.
     *
     * @return {@code false} if the key is absent (nothing is stored)
     */
    boolean append(String nodeId, String key, byte[] value, long timeoutMillis);

    /** Resets the expiration; {@code false} if the key is absent. */
    boolean touch(String nodeId, String key, int exp, long timeoutMillis);

    /** Deletes the key; {@code false} if it was absent. */
    boolean delete(String nodeId, String key, long timeoutMillis);

    /** Whether the node is known to accept connections (no I/O); changes are told to the store's listener. */
    boolean isConnected(String nodeId);

    /**
     * Connects to {@code node} too (a node added while running); it is unconnected until the store's connection
     * events say otherwise.
     *
     * @throws UnsupportedOperationException the store cannot change its nodes (the binary protocol)
     */
    void addNode(io.msm.config.MemcachedNode node);

    /**
     * Closes everything of node {@code nodeId} (removed while running); calls on it fail from now on, and no connection
     * event about it follows.
     *
     * @throws UnsupportedOperationException the store cannot change its nodes (the binary protocol)
     */
    void removeNode(String nodeId);

    /** A short description of the node's connection state for error messages. */
    String describe(String nodeId);

    @Override
    void close();
}
