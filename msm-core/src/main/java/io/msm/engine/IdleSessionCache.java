package io.msm.engine;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Non-sticky ({@code idleSessionCache}): the attribute objects of sessions that left this Tomcat's memory, each with
 * the hash and length of the attribute bytes memcached held for them when they left. The session's next load here
 * takes them back instead of deserializing, if memcached still holds bytes with that hash and length; any other
 * version (another Tomcat changed the session) is deserialized as before.
 *
 * <p>An entry is taken, not copied: the objects belong to one session in memory at a time. Bounded by count (the
 * least recently kept go first) and by age (an entry older than its session's timeout is dropped).
 */
final class IdleSessionCache {

    /** What a session's attribute bytes were, and the objects they were written from or read into. */
    static final class Version {
        final long hash;
        final int length;
        final Map<String, Object> attributes;

        Version(long hash, int length, Map<String, Object> attributes) {
            this.hash = hash;
            this.length = length;
            this.attributes = attributes;
        }
    }

    private static final class Entry {
        final Version version;
        final long keptAt;
        final long maxAgeMillis;

        Entry(Version version, long keptAt, long maxAgeMillis) {
            this.version = version;
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
    synchronized void keep(String id, Version version, long now, int maxInactiveSeconds) {
        entries.remove(id); // re-inserted last: eviction takes the least recently kept
        entries.put(id, new Entry(version, now, maxInactiveSeconds > 0 ? maxInactiveSeconds * 1000L : Long.MAX_VALUE));
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
    synchronized Map<String, Object> take(String id, long hash, int length) {
        Entry e = entries.remove(id);
        return e != null && e.version.hash == hash && e.version.length == length ? e.version.attributes : null;
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
