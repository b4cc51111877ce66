package io.msm.store;

import io.msm.MsmException;

/**
 * A memcached operation failed: the node is down or unknown, it timed out, or memcached refused it. The message names
 * the operation, key, node and elapsed time.
 */
public final class StoreException extends MsmException {
    private static final long serialVersionUID = 1L;

    private final String nodeId;
    private final boolean timeout;
    private final boolean tooLarge;

    private StoreException(String nodeId, boolean timeout, String message, Throwable cause) {
        this(nodeId, timeout, false, message, cause);
    }

    private StoreException(String nodeId, boolean timeout, boolean tooLarge, String message, Throwable cause) {
        super(message, cause);
        this.nodeId = nodeId;
        this.tooLarge = tooLarge;
        // an operation the client cancelled because its connection broke says as much about the node as a timeout
        this.timeout = timeout || cause instanceof java.util.concurrent.CancellationException;
    }

    /** The node did not answer within the timeout. */
    public static StoreException timeout(String op, String key, String node, long elapsedMillis, String nodeState) {
        return new StoreException(node, true, op + " of " + io.msm.internal.LogIds.key(key) + " on memcached node " + node + " timed out after "
                + elapsedMillis + " ms (" + nodeState + ")", null);
    }

    /** The operation failed for {@code reason}. */
    public static StoreException failed(String op, String key, String node, long elapsedMillis, String reason, Throwable cause) {
        return new StoreException(node, false, op + " of " + io.msm.internal.LogIds.key(key) + " on memcached node " + node + " failed after "
                + elapsedMillis + " ms: " + reason, cause);
    }

    /** memcached refused the value as larger than its item size limit. */
    public static StoreException tooLarge(String op, String key, String node, long elapsedMillis, String reason) {
        return new StoreException(node, false, true, op + " of " + io.msm.internal.LogIds.key(key) + " on memcached node " + node
                + " refused after " + elapsedMillis + " ms: " + reason, null);
    }

    /** The node is known to be down; no call was made. */
    public static StoreException unavailable(String op, String key, String node) {
        return new StoreException(node, false, op + " of " + io.msm.internal.LogIds.key(key) + " skipped: memcached node " + node
                + " is unavailable", null);
    }

    /** The id of the node the operation was for. */
    public String nodeId() {
        return nodeId;
    }

    /**
     * {@code true} if the node did not answer in time or its connection broke during the operation: the node itself
     * is in trouble (as opposed to a refused item).
     */
    public boolean isTimeout() {
        return timeout;
    }

    /** {@code true} if memcached refused the value as larger than its item size (the node is fine). */
    public boolean isTooLarge() {
        return tooLarge;
    }
}
