package io.msm.engine;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Non-sticky ({@code idleSessionCache}): sessions that left this Tomcat's memory, each with the bytes memcached held
 * for it when it left. The session's next load here takes back the whole session object if memcached still holds
 * those very bytes ({@link #takeSession}); else its attribute objects, if memcached's attribute bytes have the same
 * hash and length ({@link #take}: only the times or the metadata changed); any other version (another Tomcat changed
 * the session) is deserialized as before.
 *
 * <p>An entry is taken, not copied: the objects belong to one session in memory at a time. Bounded by count (the
 * least recently kept go first) and by age (an entry older than its session's timeout is dropped).
 */
final class IdleSessionCache {

    /** What a session's attribute bytes were, and the objects they were written from or read into. */
    static final class Version {
        private long hash;
        /**
         * A write's encoded blob whose attribute bytes {@link #hash()} hashes when first asked, {@code null} once
         * hashed: a write's version is mostly taken back whole ({@link #takeSession}) and its hash never needed.
         */
        private byte[] encoded;
        final int length;
        final Map<String, Object> attributes;
        /**
         * Deserialized from chunks: the attribute names each chunk held (what the next write may reuse a chunk for);
         * {@code null} otherwise.
         */
        final List<Set<String>> chunkNames;

        Version(long hash, int length, Map<String, Object> attributes) {
            this(hash, length, attributes, null);
        }

        Version(long hash, int length, Map<String, Object> attributes, List<Set<String>> chunkNames) {
            this.hash = hash;
            this.length = length;
            this.attributes = attributes;
            this.chunkNames = chunkNames;
        }

        /**
         * The version a write stores as {@code encoded} (msm's encoding, before any seal), hashed only when asked. It
         * holds on to {@code encoded} only while that is the very array memcached was sent (no seal; else the writer
         * hashes it at once) and, kept in the cache, the array its entry keeps ({@link #keep}): no second copy of the
         * bytes is held.
         */
        static Version ofWrite(byte[] encoded, int length, Map<String, Object> attributes) {
            Version v = new Version(0, length, attributes, null);
            v.encoded = encoded;
            return v;
        }

        /** Kept in an entry holding {@code blob}: hashed now unless its encoded bytes are that very array. */
        synchronized void keptWith(byte[] blob) {
            if (encoded != null && encoded != blob) {
                hash();
            }
        }

        /** The hash of the attribute bytes ({@link SessionDecoder#attributesHash}). */
        synchronized long hash() {
            if (encoded != null) {
                hash = io.msm.codec.BlobCodec.attributesHash(encoded);
                encoded = null;
            }
            return hash;
        }
    }

    /** A kept session: its attributes' version, and the whole object with its bytes if it was kept too. */
    static final class Entry {
        final Version version;
        /** The session object itself, {@code null} if only its attribute objects are kept. */
        final ManagedSession session;
        /** The blob memcached held for {@link #session} when it left memory (as stored: sealed). */
        final byte[] blob;
        final long keptAt;
        final long maxAgeMillis;

        Entry(Version version, ManagedSession session, byte[] blob, long keptAt, long maxAgeMillis) {
            this.version = version;
            this.session = session;
            this.blob = blob;
            this.keptAt = keptAt;
            this.maxAgeMillis = maxAgeMillis;
        }
    }

    private final int capacity;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    IdleSessionCache(int capacity) {
        this.capacity = capacity;
    }

    /**
     * Keeps {@code version} for session {@code id}, which left memory at {@code now} (clock millis).
     *
     * @param maxInactiveSeconds the session's timeout: the entry is useless after it; {@code <= 0} never expires
     */
    void keep(String id, Version version, long now, int maxInactiveSeconds) {
        keep(id, version, null, null, now, maxInactiveSeconds);
    }

    /**
     * Keeps {@code version} and the whole {@code session} object for session {@code id}, which left memory at
     * {@code now} (clock millis) while memcached held {@code blob} for it ({@code null}: unknown, the object is not
     * kept).
     */
    void keep(String id, Version version, ManagedSession session, byte[] blob, long now, int maxInactiveSeconds) {
        version.keptWith(blob); // any hash taken before the cache's lock: every request thread shares it
        put(id, version, session, blob, now, maxInactiveSeconds);
    }

    private synchronized void put(String id, Version version, ManagedSession session, byte[] blob, long now,
            int maxInactiveSeconds) {
        entries.remove(id); // re-inserted last: eviction takes the least recently kept
        entries.put(id, new Entry(version, blob == null ? null : session, blob, now,
                maxInactiveSeconds > 0 ? maxInactiveSeconds * 1000L : Long.MAX_VALUE));
        while (entries.size() > capacity) {
            Iterator<String> oldest = entries.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
    }

    /**
     * The attributes kept for {@code id} if they were the bytes with this hash and length, removed from the cache;
     * {@code null} otherwise (an entry for another version is dropped: it can never match again).
     */
    Map<String, Object> take(String id, long hash, int length) {
        Entry e;
        synchronized (this) {
            e = entries.remove(id);
        }
        // compared after the lock: a version hashed only now takes a pass over its bytes, and the entry is the
        // caller's once removed
        return e != null && e.version.length == length && e.version.hash() == hash ? e.version.attributes : null;
    }

    /**
     * The whole session object kept for {@code id}, removed from the cache, if memcached still holds exactly the
     * bytes it held when the session left memory ({@code blob}, compared byte by byte: no signature or decryption is
     * skipped for bytes other than those this Tomcat opened or wrote) and nothing changed the object since;
     * {@code null} otherwise (the entry stays for {@link #take}). One look-up under the lock, the comparison
     * included (a few hundred nanoseconds for a typical session): a request's load takes the lock once.
     */
    synchronized Entry takeSession(String id, byte[] blob) {
        Entry e = entries.get(id);
        if (e == null || e.session == null || !Arrays.equals(e.blob, blob)) {
            return null;
        }
        ManagedSession s = e.session;
        if (!s.isActive() || !s.state().isSettled() || !s.state().isStoredAs(id) || !s.mayBeReused()) {
            return null;
        }
        entries.remove(id);
        return e;
    }

    synchronized void forget(String id) {
        entries.remove(id);
    }

    /** Drops the entries of sessions whose timeout has passed since they were kept. */
    synchronized void purge(long now) {
        entries.values().removeIf(e -> now - e.keptAt > e.maxAgeMillis);
    }

    synchronized void clear() {
        entries.clear();
    }

    synchronized int size() {
        return entries.size();
    }
}
