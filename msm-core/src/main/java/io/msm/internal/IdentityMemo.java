package io.msm.internal;

import java.util.function.Function;

/**
 * What was last worked out from a few strings (session ids), found again only for the <em>same</em> string object: a
 * request hands one id string around and works things out of it several times (its parse, its keys), while other
 * requests do the same with theirs on other threads.
 * <p>
 * The strings are never compared by content, so no caller learns, by its time, how much of its string matches
 * another's (a session id is a bearer token). Fixed slots in pairs, the pair picked by the string's hash (which
 * {@code String} keeps once computed; {@code System.identityHashCode} costs a call into the JVM for each new string):
 * a request's cookie and its session's own id are equal strings, both looked up in turn, and share a pair without
 * taking each other's place. The one found or added last is first in its pair; a new string takes the place of the
 * one used least lately. Concurrent requests mostly use other pairs. Any thread may read and write it without a lock:
 * each slot holds an immutable entry, so a reader sees a whole entry or an older one (a race may lose an entry: it is
 * worked out again).
 *
 * @param <V> what is worked out of a string
 */
public final class IdentityMemo<V> {
    /** Slots: a power of two, well above the request threads of a busy Tomcat running at once on a few cores. */
    static final int SLOTS = 64;

    private final Entry<V>[] slots;

    @SuppressWarnings("unchecked")
    public IdentityMemo() {
        slots = (Entry<V>[]) new Entry<?>[SLOTS];
    }

    /**
     * The value kept for this very string, or else {@code work}'s (kept unless {@code null}). {@code work} may run
     * more than once for one string when threads race; it must give equal values.
     */
    public V get(String key, Function<String, V> work) {
        int first = pair(key);
        Entry<V> e = slots[first];
        if (e != null && e.key == key) {
            return e.value;
        }
        Entry<V> other = slots[first + 1];
        if (other != null && other.key == key) {
            slots[first + 1] = e; // used last: first
            slots[first] = other;
            return other.value;
        }
        V v = work.apply(key);
        if (v != null) {
            slots[first + 1] = e;
            slots[first] = new Entry<>(key, v);
        }
        return v;
    }

    /** The first slot of {@code key}'s pair. */
    static int pair(String key) {
        return (key.hashCode() & (SLOTS / 2 - 1)) * 2;
    }

    private static final class Entry<V> {
        final String key;
        final V value;

        Entry(String key, V value) {
            this.key = key;
            this.value = value;
        }
    }
}
