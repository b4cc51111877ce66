package io.msm.stats;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and timings of one session manager, cheap to record from many threads. When statistics are disabled
 * ({@code enableStatistics="false"}) recording does nothing and every value reads 0. Adapters expose these as
 * attributes of the Manager's JMX MBean.
 */
public final class MsmStatistics {

    /** What is counted. */
    public enum Counter {
        /** Sessions created by this manager. */
        SESSIONS_CREATED,
        /** Sessions read from memcached (a Tomcat met a session it did not hold). */
        SESSIONS_LOADED,
        /** Look-ups in memcached that found nothing (expired, never stored, or lost). */
        SESSIONS_NOT_FOUND,
        /** Look-ups that could not ask memcached (node unavailable, timeout, error). */
        LOAD_FAILURES,
        /** Blobs in memcached that could not be read (corrupt, truncated, wrong format, unknown classes). */
        UNREADABLE_SESSIONS,
        /**
         * Sessions read as memcached-session-manager stored them ({@code legacySessions}), then stored in msm's
         * format: how a rolling switch from it progresses.
         */
        LEGACY_SESSIONS_LOADED,
        /** Sessions written to memcached. */
        BACKUPS,
        /** Backups skipped because the session's stored form had not changed. */
        BACKUPS_UNCHANGED,
        /** Backup requests folded into a backup already running for the same session. */
        BACKUPS_COALESCED,
        /** Backups that failed (node unavailable, timeout, serialization error). */
        BACKUP_FAILURES,
        /** Synchronous backups a request stopped waiting for after {@code sessionBackupTimeout}. */
        BACKUP_TIMEOUTS,
        /** Expiry refreshes ({@code touch}) of sessions that were only read. */
        TOUCHES,
        /** Session keys deleted from memcached (invalidation, expiry, id change). */
        DELETES,
        /** Sessions moved to another memcached node because theirs was unavailable (new id, new cookie). */
        NODE_FAILOVERS,
        /** Sessions taken over from another Tomcat (jvmRoute changed). */
        TOMCAT_FAILOVERS,
        /** Secondary copies written (non-sticky mode). */
        SECONDARY_WRITES,
        /**
         * Deletes of secondary copies of ended sessions (non-sticky) that could not be made and did not wait for their
         * node, because 10,000 already did: each such copy expires by its TTL and could bring its session back.
         */
        SECONDARY_DELETES_NOT_KEPT,
        /**
         * Deletes of the primary keys of ended sessions that could not be made and did not wait for their node,
         * because 10,000 deletes already did: each such copy expires by its TTL, and another Tomcat may load it
         * meanwhile.
         */
        PRIMARY_DELETES_NOT_KEPT,
        /** Sessions read from their secondary copy because the primary node could not answer (non-sticky). */
        SECONDARY_LOADS,
        /**
         * Loads (non-sticky) that reused the attribute objects this Tomcat kept for an idle session, memcached still
         * holding the same attribute bytes ({@code idleSessionCache}): no deserialization.
         */
        LOADS_REUSED,
        /** Session locks taken (non-sticky). */
        LOCKS_ACQUIRED,
        /** Session locks taken only after waiting for another owner. */
        LOCK_WAITS,
        /** Requests that could not take their session's lock within operationTimeout. */
        LOCK_TIMEOUTS,
        /**
         * Session locks that expired while their request still ran: it ran longer than the renewals go on (a minute,
         * or {@code lockExpiration} if longer), or memcached lost the lock.
         */
        LOCKS_LOST,
        /**
         * Blobs refused because {@code sessionProtection} is on and they were not signed or encrypted with one of the
         * configured keys, or were altered: someone else wrote to memcached, or the keys differ between Tomcats.
         */
        UNTRUSTED_SESSIONS,
        /** Backups memcached refused as larger than its item size limit. */
        OVERSIZED_SESSIONS,
        /** Attributes left out of a backup because they exceeded {@code maxAttributeSize}. */
        ATTRIBUTES_TOO_LARGE
    }

    /** What is timed. */
    public enum Timer {
        /** Writing one session to memcached, serialization included. */
        BACKUP,
        /** Serializing one session's attributes. */
        SERIALIZATION,
        /** Reading one session from memcached, deserialization included. */
        LOAD,
        /** Waiting for a session lock another owner held. */
        LOCK_WAIT
    }

    private final boolean enabled;
    private final LongAdder[] counters = new LongAdder[Counter.values().length];
    private final LongAdder[] timerCounts = new LongAdder[Timer.values().length];
    private final LongAdder[] timerNanos = new LongAdder[Timer.values().length];
    /**
     * Each timer's maximum: read on every call, written only when a new maximum comes (a {@code LongAccumulator}
     * looked up its striped cells on every call: 2% of a non-sticky read-only request thread's JFR samples).
     */
    private final AtomicLongArray timerMaxNanos = new AtomicLongArray(Timer.values().length);
    private final LongAdder storedBytes = new LongAdder();
    private final AtomicLong maxStoredBytes = new AtomicLong();

    public MsmStatistics(boolean enabled) {
        this.enabled = enabled;
        for (int i = 0; i < counters.length; i++) {
            counters[i] = new LongAdder();
        }
        for (int i = 0; i < timerCounts.length; i++) {
            timerCounts[i] = new LongAdder();
            timerNanos[i] = new LongAdder();
        }
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void count(Counter c) {
        if (enabled) {
            counters[c.ordinal()].increment();
        }
    }

    public void add(Counter c, long n) {
        if (enabled) {
            counters[c.ordinal()].add(n);
        }
    }

    public void time(Timer t, long nanos) {
        if (enabled) {
            timerCounts[t.ordinal()].increment();
            timerNanos[t.ordinal()].add(nanos);
            raiseMax(t.ordinal(), nanos);
        }
    }

    private void raiseMax(int timer, long nanos) {
        long max = timerMaxNanos.get(timer);
        while (nanos > max && !timerMaxNanos.compareAndSet(timer, max, nanos)) {
            max = timerMaxNanos.get(timer);
        }
    }

    public void storedSize(int bytes) {
        if (enabled) {
            storedBytes.add(bytes);
            long max = maxStoredBytes.get();
            while (bytes > max && !maxStoredBytes.compareAndSet(max, bytes)) {
                max = maxStoredBytes.get();
            }
        }
    }

    public long get(Counter c) {
        return counters[c.ordinal()].sum();
    }

    public long count(Timer t) {
        return timerCounts[t.ordinal()].sum();
    }

    /** Total time recorded for {@code t}, in nanoseconds (with {@link #count(Timer)}: a rate and a mean). */
    public long totalNanos(Timer t) {
        return timerNanos[t.ordinal()].sum();
    }

    /** Mean duration in milliseconds, 0 when nothing was timed. */
    public double meanMillis(Timer t) {
        long n = timerCounts[t.ordinal()].sum();
        return n == 0 ? 0 : timerNanos[t.ordinal()].sum() / 1e6 / n;
    }

    public double maxMillis(Timer t) {
        return timerMaxNanos.get(t.ordinal()) / 1e6;
    }

    /** Mean size of stored session blobs in bytes. */
    public long meanStoredBytes() {
        long n = get(Counter.BACKUPS);
        return n == 0 ? 0 : storedBytes.sum() / n;
    }

    public long maxStoredBytes() {
        return maxStoredBytes.get();
    }

    /** Every value by a stable name, e.g. for a status page or a test. */
    public Map<String, Number> snapshot() {
        Map<String, Number> m = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            m.put(c.name(), get(c));
        }
        for (Timer t : Timer.values()) {
            m.put(t.name() + "_COUNT", count(t));
            m.put(t.name() + "_MEAN_MS", meanMillis(t));
            m.put(t.name() + "_MAX_MS", maxMillis(t));
        }
        m.put("MEAN_STORED_BYTES", meanStoredBytes());
        m.put("MAX_STORED_BYTES", maxStoredBytes());
        return m;
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
