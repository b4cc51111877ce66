package io.msm.store;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Refuses a value a node would refuse, without sending it: memcached answers an oversized text-protocol set by
 * closing the connection, which would cost every call on it. Each node's {@code item_size_max} ({@code stats
 * settings}) is asked when a large value first goes there, and forgotten when the node's connection comes back (it
 * may have restarted with another {@code -I}). The same limit bounds the size of a value a node may announce
 * ({@link #largestValue}).
 */
final class ItemSizeCheck {
    /**
     * Values up to this size are sent without checking the node's item size limit (memcached's default is 1 MB;
     * nobody runs it with less than this).
     */
    static final int CHECKED_ABOVE_BYTES = 512 * 1024;
    /** memcached's default item size limit ({@code -I 1m}), assumed when a node cannot say. */
    static final int DEFAULT_ITEM_SIZE_MAX = 1024 * 1024;
    /** memcached's largest item size limit ({@code -I}, {@code ITEM_SIZE_MAX_UPPER_LIMIT}: 1 GB). */
    static final int MEMCACHED_MAX_ITEM_SIZE = 1024 * 1024 * 1024;
    /** Room for memcached's item header, CAS and flags next to key and value. */
    private static final int ITEM_OVERHEAD = 128;
    /**
     * Kept for a node that answers {@code stats settings} without its limit (ElastiCache Serverless refuses the
     * command): not asked again until its connection comes back; it is taken to hold memcached's default.
     */
    private static final int NOT_SAID = 0;

    private final Map<String, Integer> itemSizeMax = new ConcurrentHashMap<>();
    /** A node's {@code stats settings}; {@code null} or throws if it cannot answer. */
    private final Function<String, Map<String, String>> settings;

    ItemSizeCheck(Function<String, Map<String, String>> settings) {
        this.settings = settings;
    }

    /** @throws StoreException (too large) if {@code value} is larger than the node takes */
    void check(String op, String nodeId, String key, byte[] value) {
        if (value.length <= CHECKED_ABOVE_BYTES) {
            return;
        }
        Integer limit = itemSizeMax.get(nodeId);
        if (limit == null) {
            limit = ask(nodeId, settings);
        }
        if (limit == null || limit == NOT_SAID) {
            limit = DEFAULT_ITEM_SIZE_MAX; // no answer (asked again next time), or none given: memcached's default
        }
        if (tooLarge(key, value, limit)) {
            throw StoreException.tooLarge(op, key, nodeId, 0, value.length + " bytes, memcached node " + nodeId
                    + " takes items of at most " + limit + " bytes (its -I); not sent");
        }
    }

    /**
     * Whether the node would hold {@code value}, for a copy that is given up rather than failed when it would not
     * (a secondary copy): {@code false} only if the node said its limit (before, or now through {@code settings},
     * within the caller's time) and the value exceeds it. A node that cannot tell is sent the value (it decides).
     */
    boolean takes(String nodeId, String key, byte[] value, Function<String, Map<String, String>> settings) {
        if (value.length <= CHECKED_ABOVE_BYTES) {
            return true;
        }
        Integer limit = itemSizeMax.get(nodeId);
        if (limit == null) {
            limit = ask(nodeId, settings);
        }
        return limit == null || limit == NOT_SAID || !tooLarge(key, value, limit);
    }

    private static boolean tooLarge(String key, byte[] value, int limit) {
        return value.length + key.length() + ITEM_OVERHEAD > limit;
    }

    /**
     * The largest value the node can hold (no I/O): its {@code item_size_max} if it said it, else memcached's
     * largest, {@link #MEMCACHED_MAX_ITEM_SIZE}. A value announced larger is no answer of a memcached node.
     */
    int largestValue(String nodeId) {
        Integer limit = itemSizeMax.get(nodeId);
        return limit == null || limit == NOT_SAID ? MEMCACHED_MAX_ITEM_SIZE : limit;
    }

    /** The node's connection came or went: ask again next time. */
    void forget(String nodeId) {
        itemSizeMax.remove(nodeId);
    }

    /**
     * The node's {@code item_size_max}, remembered; {@code null} if it does not answer, {@link #NOT_SAID} (remembered)
     * if it answers without it.
     */
    private Integer ask(String nodeId, Function<String, Map<String, String>> settings) {
        try {
            Map<String, String> s = settings.apply(nodeId);
            if (s == null) {
                return null;
            }
            String v = s.get("item_size_max");
            int limit = v == null ? NOT_SAID : Integer.parseInt(v.trim());
            itemSizeMax.put(nodeId, limit);
            return limit;
        } catch (RuntimeException e) {
            // no answer: ask again next time
        }
        return null;
    }
}
