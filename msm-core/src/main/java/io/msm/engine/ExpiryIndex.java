package io.msm.engine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sessions a Tomcat watches for their timeout ({@link ExpiryWatch}): session id to when it times out as last seen
 * here, ordered by that time. Bounded by count: an id that does not fit is refused (and counted).
 *
 * <p>Seeing a session again only moves its due time ({@link #put}); the schedule keeps the earlier slot, and
 * {@link #takeDue} moves a slot whose entry is no longer due to the entry's due time then, so a request pays a map
 * update, not a reordering. Every method is thread-safe: requests put, the watch's thread takes and settles.
 */
final class ExpiryIndex {

    /** One watched session. Its fields are written inside the map's compute for its id. */
    static final class Entry {
        final String id;
        /** When the session times out as last seen here (clock millis). */
        volatile long due;
        /** Its timeout, seconds. */
        volatile int maxInactive;
        /** Its creation time (clock millis), for listings. */
        volatile long created;
        /** The entry's place in the schedule; {@code null} while the watch checks it (read by {@link #put}'s fast path). */
        volatile Slot slot;

        Entry(String id, long due, int maxInactive, long created) {
            this.id = id;
            this.due = due;
            this.maxInactive = maxInactive;
            this.created = created;
        }

        /** When the session was last accessed as seen here. */
        long lastAccessed() {
            return due - maxInactive * 1000L;
        }
    }

    /** A point in the schedule: look at {@code id} at {@code at}. */
    private static final class Slot implements Comparable<Slot> {
        final long at;
        final String id;
        final long seq;

        Slot(long at, String id, long seq) {
            this.at = at;
            this.id = id;
            this.seq = seq;
        }

        @Override
        public int compareTo(Slot o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    /** The most {@link #put} lets a due time lag behind the latest request's (see {@link #isNearlyTheSame}). */
    static final long MAX_NUDGE_MILLIS = 1000;

    private final int capacity;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final ConcurrentSkipListSet<Slot> schedule = new ConcurrentSkipListSet<>();
    private final AtomicLong seq = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    ExpiryIndex(int capacity) {
        this.capacity = capacity;
    }

    /**
     * Watches session {@code id}, which times out at {@code due} as seen now (a later call replaces it).
     *
     * @return {@code false} if the index is full and does not hold {@code id} yet (the session is not watched)
     */
    boolean put(String id, long due, int maxInactive, long created) {
        Entry seen = entries.get(id);
        if (seen != null && isNearlyTheSame(seen, due, maxInactive, created)) {
            return true;
        }
        boolean[] stored = {true};
        entries.compute(id, (k, e) -> {
            if (e == null) {
                if (entries.size() >= capacity) {
                    stored[0] = false;
                    return null;
                }
                e = new Entry(id, due, maxInactive, created);
            } else {
                e.due = due;
                e.maxInactive = maxInactive;
                e.created = created;
            }
            if (e.slot == null || e.slot.at > due) {
                schedule(e, due);
            }
            return e;
        });
        if (!stored[0]) {
            refused.incrementAndGet();
        }
        return stored[0];
    }

    /**
     * {@code true} if {@code e} is scheduled and would move only a little later (less than 1% of the timeout, at most
     * {@value #MAX_NUDGE_MILLIS} ms), nothing else changing: the request's put is skipped (no lock). The due time is a
     * hint: a check that comes that much early reads the copy's TTL in memcached, which the request refreshed, and
     * looks again later. So a non-sticky request that sees its session again within a second of the last one pays a
     * map read, not a locked update (the map's bin of a session many requests share is contended).
     */
    private static boolean isNearlyTheSame(Entry e, long due, int maxInactive, long created) {
        long later = due - e.due;
        return later >= 0 && later < Math.min(MAX_NUDGE_MILLIS, maxInactive * 10L) && e.maxInactive == maxInactive
                && e.created == created && e.slot != null;
    }

    /** Stops watching {@code id}. */
    void remove(String id) {
        entries.computeIfPresent(id, (k, e) -> {
            if (e.slot != null) {
                schedule.remove(e.slot);
            }
            return null;
        });
    }

    /**
     * Stops watching the entry after a check, unless a {@link #put} saw the session again meanwhile (it is then
     * scheduled again).
     */
    void settle(Entry checked) {
        entries.computeIfPresent(checked.id, (k, e) -> e == checked && e.slot == null ? null : e);
    }

    /** Looks at the entry again at {@code at}, after a check (unless a {@link #put} scheduled it meanwhile). */
    void recheck(Entry checked, long at) {
        entries.computeIfPresent(checked.id, (k, e) -> {
            if (e == checked && e.slot == null) {
                schedule(e, at);
            }
            return e;
        });
    }

    /**
     * The entries due at {@code now}, at most {@code max}, taken out of the schedule until the caller settles or
     * rechecks them. Entries seen again since their slot was made are moved to their new due time instead.
     */
    List<Entry> takeDue(long now, int max) {
        List<Entry> due = new ArrayList<>();
        while (due.size() < max) {
            Slot first = schedule.isEmpty() ? null : firstOrNull();
            if (first == null || first.at > now) {
                break;
            }
            if (!schedule.remove(first)) {
                continue;
            }
            entries.computeIfPresent(first.id, (k, e) -> {
                if (e.slot != first) {
                    return e; // a stale slot (the entry was scheduled again)
                }
                if (e.due > now) {
                    schedule(e, e.due);
                } else {
                    e.slot = null;
                    due.add(e);
                }
                return e;
            });
        }
        return due;
    }

    private Slot firstOrNull() {
        try {
            return schedule.first();
        } catch (java.util.NoSuchElementException emptied) {
            return null;
        }
    }

    private void schedule(Entry e, long at) {
        if (e.slot != null) {
            schedule.remove(e.slot);
        }
        e.slot = new Slot(at, e.id, seq.incrementAndGet());
        schedule.add(e.slot);
    }

    Entry get(String id) {
        return entries.get(id);
    }

    boolean contains(String id) {
        return entries.containsKey(id);
    }

    int size() {
        return entries.size();
    }

    /** A snapshot of the watched sessions (listings, and the list left at a stop). */
    Collection<Entry> entries() {
        return new ArrayList<>(entries.values());
    }

    /** Sessions refused because the index was full, since the start. */
    long refused() {
        return refused.get();
    }

    void clear() {
        entries.clear();
        schedule.clear();
    }
}
