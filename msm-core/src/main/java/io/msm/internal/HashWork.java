package io.msm.internal;

import java.net.URL;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Bounds the hashing a session read can cause (for msm's serializers). Reading a hash set or map hashes every
 * element or key, and the {@code hashCode()} of a JDK collection visits all it contains; a graph that shares the
 * same collections at every level (the "SerialDOS" hash bomb: sets nested 50 deep, each holding the same two sets
 * of the next level) makes that exponential, so a few planted kilobytes would pin a request thread for ever.
 *
 * <p>Every object read gets a <em>weight</em>: how many objects its {@code hashCode()} may visit, counted through
 * JDK collections, maps and arrays (each reference counts again, as hashing follows it again); any other object
 * weighs 1, whatever it holds. Each element or key about to be hashed into a set or map is charged its weight, and
 * a session whose charges exceed {@link #allowance(long)} is refused. A {@link URL} as a hash key, or inside a JDK
 * collection used as one, is refused: hashing a URL resolves its host (a DNS lookup; ysoserial's URLDNS).
 */
public final class HashWork {
    /** Hashing charges every session may make, whatever its size. */
    public static final long BASE_ALLOWANCE = 20_000;
    /** Further hashing charges per byte of the blob. */
    public static final long ALLOWANCE_PER_BYTE = 4;

    /** A weight's flag: a URL is reached. */
    static final long URL = 1L << 62;
    private static final long COUNT = URL - 1;

    private final long allowance;
    private long charged;
    private Map<Object, Long> weights;

    /** The work allowed for reading a blob of {@code blobBytes} bytes. */
    public HashWork(long blobBytes) {
        this.allowance = allowance(blobBytes);
    }

    /** Hashing charges allowed for a blob of this many bytes. */
    public static long allowance(long blobBytes) {
        return BASE_ALLOWANCE + ALLOWANCE_PER_BYTE * Math.max(0, blobBytes);
    }

    /** The weight of a leaf (1), or of a URL. */
    public static long leaf(boolean url) {
        return url ? URL | 1 : 1;
    }

    /** Two weights added: counts saturate, flags combine. */
    public static long add(long a, long b) {
        long count = (a & COUNT) + (b & COUNT);
        return (count > COUNT || count < 0 ? COUNT : count) | ((a | b) & URL);
    }

    /** The number of objects a weight counts. */
    public static long count(long weight) {
        return weight & COUNT;
    }

    /**
     * An element or key of this weight is about to be hashed into a set or map.
     *
     * @throws RefusedInputException if it is or holds a URL, or the session's hashing exceeds its allowance
     */
    public void hashed(long weight) {
        if ((weight & URL) != 0) {
            throw new RefusedInputException("refused: a java.net.URL as a hash key (hashing it resolves its host)");
        }
        charged += weight & COUNT;
        if (charged > allowance || charged < 0) {
            throw new RefusedInputException("refused: hashing the session would visit more than " + allowance
                    + " objects (the bound for a blob of this size; a hash bomb?)");
        }
    }

    /** The weight of an object read earlier in this session (as {@link #remember}ed; 1 otherwise, 0 for null). */
    public long weightOf(Object o) {
        if (o == null) {
            return 0;
        }
        if (o instanceof URL) {
            return leaf(true);
        }
        if (weights != null && (o instanceof Collection || o instanceof Map || o.getClass().isArray())) {
            Long w = weights.get(o);
            if (w != null) {
                return w;
            }
        }
        return 1;
    }

    /** Remembers the weight of a collection, map or array just read (by identity, for later references). */
    public void remember(Object o, long weight) {
        if (weight == 1) {
            return;
        }
        if (weights == null) {
            weights = new IdentityHashMap<>();
        }
        weights.put(o, weight);
    }
}
