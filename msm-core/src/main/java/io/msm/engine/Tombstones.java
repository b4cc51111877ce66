package io.msm.engine;

import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import io.msm.store.StoredValue;
import java.util.Arrays;

/**
 * Non-sticky mode: an id whose session ended (invalidated, expired, or given up by the application for a new id at a
 * login) keeps a tombstone under its key until any copy of it would have expired, and every write of a session is
 * conditional ({@code add} for a key this Tomcat did not read or write, else {@code cas} on the version it did), so no
 * request that ends later, on any Tomcat, replaces the tombstone and brings the session back. A write refused because
 * the key holds another version reads it: a tombstone ends the write, another version of the session is replaced
 * (the last write wins, as with a plain {@code set}).
 */
final class Tombstones {
    /** What a tombstone holds: not a blob (blobs start with "MSMB"). */
    static final byte[] VALUE = {'M', 'S', 'M', 'X'};
    /** Outcome of a write that found a tombstone. */
    static final long ENDED = Long.MIN_VALUE + 1;
    /** The version a write expects is not known: it is read first. */
    static final long UNKNOWN = -3;
    /** Conditional writes one write makes at most before it gives up (others keep changing the key). */
    static final int ATTEMPTS = 3;

    private final SessionStore store;

    Tombstones(SessionStore store) {
        this.store = store;
    }

    static boolean is(byte[] value) {
        return value != null && Arrays.equals(value, VALUE);
    }

    /**
     * The version a write of {@code id} expects: none ({@link SessionStore#ADD}) if this Tomcat neither read nor wrote
     * the session under that id, else the version it did, or {@link #UNKNOWN}.
     */
    static long expected(SessionState st, String id) {
        if (!st.isStoredAs(id)) {
            return SessionStore.ADD;
        }
        return st.cas > 0 ? st.cas : UNKNOWN;
    }

    /** The version the key holds: {@link SessionStore#ADD} if none, {@link #ENDED} for a tombstone. */
    long read(String node, String key, long timeoutMillis) {
        StoredValue v = store.gets(node, key, timeoutMillis);
        if (v.value() == null) {
            return SessionStore.ADD;
        }
        if (is(v.value())) {
            return ENDED;
        }
        return v.cas() > 0 ? v.cas() : SessionStore.ANY;
    }

    /**
     * Stores {@code blob} after a conditional write was refused ({@link SessionStore#EXISTS} or
     * {@link SessionStore#NOT_FOUND}): reads the version there and writes on it, at most {@link #ATTEMPTS} times.
     *
     * @return the new CAS ({@code 0} if not known), or {@link #ENDED} if the key holds a tombstone
     * @throws StoreException a call failed, or the key changed on every attempt
     */
    long retry(String node, String key, int exp, byte[] blob, long refused, long timeoutMillis) {
        long expected = refused == SessionStore.NOT_FOUND ? SessionStore.ADD : UNKNOWN;
        for (int i = 0; i < ATTEMPTS; i++) {
            if (expected == UNKNOWN) {
                expected = read(node, key, timeoutMillis);
                if (expected == ENDED) {
                    return ENDED;
                }
            }
            long outcome = store.storeIf(node, key, exp, blob, expected, timeoutMillis);
            if (outcome >= 0) {
                return outcome;
            }
            expected = outcome == SessionStore.NOT_FOUND ? SessionStore.ADD : UNKNOWN;
        }
        throw StoreException.failed("cas", key, node, 0, "the key changed " + ATTEMPTS + " times while storing", null);
    }

    /** Puts the tombstone of an ended id. */
    void put(String node, String key, int exp, long timeoutMillis) {
        store.set(node, key, exp, VALUE, timeoutMillis);
    }
}
