package io.msm.internal;

import java.util.function.Function;

/**
 * What was last worked out from a few strings (session ids), found again only for the <em>same</em> string object: a
 * request hands one id string around and works things out of it several times (its parse, its keys), while other
 * requests do the same with theirs on other threads.
 * <p>
 * The strings are never compared by content, so no caller learns, by its time, how much of its string matches
 * another's (a session id is a bearer token). A fixed number of slots, picked by the string's identity hash (not its
 * content's: a request's cookie and its session's id are equal strings, each looked up again, and must not take each
 * other's slot): concurrent requests mostly keep apart, and a string that lands on a taken slot replaces what was
 * there (a later look-up of the old one works it out again). Any thread may read and write it without a lock: each slot holds an immutable entry,
 * so a reader sees a whole entry or an older one, never half of one.
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
        int slot = System.identityHashCode(key) & (SLOTS - 1);
        Entry<V> e = slots[slot];
        if (e != null && e.key == key) {
            return e.value;
        }
        V v = work.apply(key);
        if (v != null) {
            slots[slot] = new Entry<>(key, v);
        }
        return v;
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
