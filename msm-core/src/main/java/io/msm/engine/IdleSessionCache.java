package io.msm.engine;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Non-sticky ({@code idleSessionCache}): sessions that left this Tomcat's memory, each with the bytes memcached held
 * for it when it left. The session's next load here takes back the whole session object if memcached still holds
 * those very bytes ({@link #takeSession}); else its attribute objects, if memcached's attribute bytes have the same
 * hash and length ({@link #take}: only the times or the metadata changed); any other version (another Tomcat changed
 * the session) is deserialized as before.
 *
 * <p>An entry is taken, not copied: the objects belong to one session in memory at a time. Bounded by count (the
 * least recently kept go first) and by age (an entry older than its session's timeout is dropped). No lock: every
 * non-sticky request takes an entry and puts one back, on many threads.
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

    /** A kept session: its attributes' version, and the whole object with its bytes if it was kept too. */
    static final class Entry {
        final Version version;
        /** The session object itself, {@code null} if only its attribute objects are kept. */
        final ManagedSession session;
        /** The blob memcached held for {@link #session} when it left memory (as stored: sealed). */
        final byte[] blob;
        final long keptAt;
        final long maxAgeMillis;
        /** Which keep made it: the eviction order's ticket for it ({@link Ticket}). */
        final long seq;

        Entry(Version version, ManagedSession session, byte[] blob, long keptAt, long maxAgeMillis, long seq) {
            this.version = version;
            this.session = session;
            this.blob = blob;
            this.keptAt = keptAt;
            this.maxAgeMillis = maxAgeMillis;
            this.seq = seq;
        }
    }

    /** The eviction order: one ticket per keep, oldest first; a ticket whose entry was taken or replaced is stale. */
    private static final class Ticket {
        final String id;
        final long seq;

        Ticket(String id, long seq) {
            this.id = id;
            this.seq = seq;
        }
    }

    private final int capacity;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Ticket> order = new ConcurrentLinkedQueue<>();
    /** Tickets in {@link #order}, stale ones included: at most twice the capacity. */
    private final AtomicInteger tickets = new AtomicInteger();
    private final AtomicLong seq = new AtomicLong();

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
        long n = seq.incrementAndGet();
        entries.put(id, new Entry(version, blob == null ? null : session, blob, now,
                maxInactiveSeconds > 0 ? maxInactiveSeconds * 1000L : Long.MAX_VALUE, n));
        order.add(new Ticket(id, n));
        int queued = tickets.incrementAndGet();
        // the oldest tickets go first: an entry whose ticket goes is evicted (the least recently kept), a stale
        // ticket just leaves; stale tickets are bounded too, so the queue never outgrows twice the capacity
        while (entries.size() > capacity || queued > 2 * capacity) {
            Ticket oldest = order.poll();
            if (oldest == null) {
                break;
            }
            queued = tickets.decrementAndGet();
            entries.computeIfPresent(oldest.id, (k, e) -> e.seq == oldest.seq ? null : e);
        }
    }

    /**
     * The attributes kept for {@code id} if they were the bytes with this hash and length, removed from the cache;
     * {@code null} otherwise (an entry for another version is dropped: it can never match again).
     */
    Map<String, Object> take(String id, long hash, int length) {
        Entry e = entries.remove(id);
        return e != null && e.version.hash == hash && e.version.length == length ? e.version.attributes : null;
    }

    /**
     * The whole session object kept for {@code id}, removed from the cache, if memcached still holds exactly the
     * bytes it held when the session left memory ({@code blob}, compared byte by byte: no signature or decryption is
     * skipped for bytes other than those this Tomcat opened or wrote) and nothing changed the object since;
     * {@code null} otherwise (the entry stays for {@link #take}).
     */
    Entry takeSession(String id, byte[] blob) {
        Entry e = entries.get(id);
        if (e == null || e.session == null || !Arrays.equals(e.blob, blob)) {
            return null;
        }
        SessionState st = e.session.state();
        if (!e.session.isActive() || !st.isSettled() || !st.isStoredAs(id)) {
            return null;
        }
        return entries.remove(id, e) ? e : null;
    }

    void forget(String id) {
        entries.remove(id);
    }

    /** Drops the entries of sessions whose timeout has passed since they were kept. */
    void purge(long now) {
        entries.values().removeIf(e -> now - e.keptAt > e.maxAgeMillis);
    }

    void clear() {
        entries.clear();
        order.clear();
        tickets.set(0);
    }

    int size() {
        return entries.size();
    }

    /** Tickets in the eviction order, stale ones included (tests: at most twice the capacity). */
    int tickets() {
        return tickets.get();
    }
}
