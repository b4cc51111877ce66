package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.msm.internal.Backoff;
import io.msm.internal.HashWork;
import java.util.Arrays;
import java.util.Collection;
import java.util.ConcurrentModificationException;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * Serializers for the JDK types sessions hold, written against public JDK APIs only (no reflection into
 * {@code java.base}, so no {@code --add-opens}). Each one reads back an equal object of the same class.
 *
 * <p>This class holds what they share: snapshots of collections another thread may be changing, counts checked
 * against the input, the session read's hashing account, and the reading and writing of elements and entries. The
 * serializers themselves are grouped by family: {@link CollectionSerializers}, {@link BuiltCollectionSerializers},
 * {@link AtomicSerializers}, {@link LocaleSerializer}, {@link ProxySerializer}, {@link JavaSerializer} and
 * {@link RefusingSerializer}.
 */
final class JdkSerializers {
    private JdkSerializers() {
    }

    /** Snapshot attempts of a collection another thread is changing, before giving up with a CME. */
    static final int SNAPSHOT_ATTEMPTS = 100;

    /**
     * The elements of {@code c} as an array. {@code retry}: a copy that meets a concurrent change is taken again
     * ({@code copyCollectionsForSerialization}); otherwise the failure propagates (and the engine serializes again).
     */
    static Object[] snapshot(Collection<?> c, boolean retry) {
        if (!retry) {
            return c.toArray();
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return c.toArray();
            } catch (RuntimeException e) { // CME, or a broken read of an unsynchronized collection (AIOOBE, NPE)
                if (attempt >= SNAPSHOT_ATTEMPTS) {
                    ConcurrentModificationException cme = new ConcurrentModificationException(
                            c.getClass().getName() + " kept changing while it was copied for serialization");
                    cme.initCause(e);
                    throw cme;
                }
                Backoff.pause(attempt); // spins, yields, then parks: ~50 ms over all attempts
            }
        }
    }

    /**
     * Keys and values of {@code m}, alternating. The keys are copied first (retried like a collection), then each
     * value is looked up: a key removed meanwhile is left out, a value changed meanwhile is taken as it is now.
     */
    static Object[] snapshot(Map<?, ?> m, boolean retry) {
        Object[] keys = snapshot(m.keySet(), retry);
        Object[] flat = new Object[keys.length * 2];
        int n = 0;
        for (Object k : keys) {
            Object v = m.get(k);
            if (v == null && !m.containsKey(k)) {
                continue;
            }
            flat[n++] = k;
            flat[n++] = v;
        }
        return n == flat.length ? flat : Arrays.copyOf(flat, n);
    }

    /** A count read from the input, refused if the rest of the input cannot hold that many items of a byte each. */
    static int count(Input input, int bytesPerItem) {
        int n = input.readVarInt(true);
        long remaining = input.limit() - input.position();
        if (n < 0 || (long) n * bytesPerItem > remaining) {
            throw new KryoException("declared " + n + " items, but only " + remaining + " bytes follow");
        }
        return n;
    }

    /** Starts a session read's hashing account for a blob of this size (Kryo's reset ends it). */
    @SuppressWarnings("unchecked")
    static void startHashWork(Kryo kryo, long blobBytes) {
        kryo.getGraphContext().put(HashWork.class, new HashWork(blobBytes));
    }

    /** This session read's hashing account ({@link HashWork}), kept in Kryo's graph context (cleared by reset). */
    @SuppressWarnings("unchecked")
    static HashWork hashWork(Kryo kryo) {
        HashWork work = (HashWork) kryo.getGraphContext().get(HashWork.class);
        if (work == null) {
            work = new HashWork(0);
            kryo.getGraphContext().put(HashWork.class, work);
        }
        return work;
    }

    /** Whether adding to this set or map hashes the element or key (sorted, identity and enum ones do not). */
    static boolean hashes(Object container) {
        return container instanceof Set && !(container instanceof SortedSet)
                || container instanceof Map && !(container instanceof SortedMap)
                        && !(container instanceof IdentityHashMap) && !(container instanceof EnumMap);
    }

    /** Reads {@code n} elements into {@code c}, charging their hashing if {@code c} hashes; returns c's weight. */
    static long readInto(Kryo kryo, Input input, Collection<Object> c, int n) {
        HashWork work = hashWork(kryo);
        boolean hashes = hashes(c);
        long weight = 1;
        for (int i = 0; i < n; i++) {
            Object e = kryo.readClassAndObject(input);
            long w = work.weightOf(e);
            if (hashes) {
                work.hashed(w);
            }
            weight = HashWork.add(weight, w);
            c.add(e);
        }
        return weight;
    }

    static void writeElements(Kryo kryo, Output output, Object[] elements) {
        output.writeVarInt(elements.length, true);
        for (Object e : elements) {
            kryo.writeClassAndObject(output, e);
        }
    }

    static Object[] readElements(Kryo kryo, Input input) {
        Object[] elements = new Object[count(input, 1)];
        for (int i = 0; i < elements.length; i++) {
            elements[i] = kryo.readClassAndObject(input);
        }
        return elements;
    }

    static void writeEntries(Kryo kryo, Output output, Object[] flat) {
        output.writeVarInt(flat.length / 2, true);
        for (Object o : flat) {
            kryo.writeClassAndObject(output, o);
        }
    }

    /** Reads entries into {@code into}, charging the keys' hashing if it hashes them, and remembers its weight. */
    static void readEntries(Kryo kryo, Input input, Map<Object, Object> into) {
        HashWork work = hashWork(kryo);
        boolean hashes = hashes(into);
        long weight = 1;
        int n = count(input, 2);
        for (int i = 0; i < n; i++) {
            Object k = kryo.readClassAndObject(input);
            long w = work.weightOf(k);
            Object v = kryo.readClassAndObject(input);
            if (hashes) {
                work.hashed(w);
            }
            weight = HashWork.add(HashWork.add(weight, w), work.weightOf(v));
            into.put(k, v);
        }
        work.remember(into, weight);
    }
}
