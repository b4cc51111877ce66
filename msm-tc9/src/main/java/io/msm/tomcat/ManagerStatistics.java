package io.msm.tomcat;

import io.msm.engine.SessionEngine;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.stats.MsmStatistics.Timer;

/**
 * The statistics of {@link MemcachedSessionManager} as attributes of its JMX MBean ({@code Catalina:type=Manager,...}),
 * named {@code msm*}: Tomcat describes the MBean from the manager's public getters. Zero while msm is not running.
 *
 * <p>Package-private: javac gives the public {@code MemcachedSessionManager} a public bridge for each of these public
 * methods, which is what Tomcat's digester and JMX find by reflection ({@code ManagerAttributesTest} checks both).
 */
abstract class ManagerStatistics extends ManagerAttributes {

    ManagerStatistics() {
    }

    /** The engine, while started. */
    public abstract SessionEngine engine();

    private MsmStatistics stats() {
        SessionEngine e = engine();
        return e == null ? null : e.statistics();
    }

    private long counter(Counter c) {
        MsmStatistics s = stats();
        return s == null ? 0 : s.get(c);
    }

    private double meanMillis(Timer t) {
        MsmStatistics s = stats();
        return s == null ? 0 : s.meanMillis(t);
    }

    private double maxMillis(Timer t) {
        MsmStatistics s = stats();
        return s == null ? 0 : s.maxMillis(t);
    }

    // One getter per statistic, by name: JMX finds them by reflection.
    public long getMsmSessionsCreated() { return counter(Counter.SESSIONS_CREATED); }
    public long getMsmSessionsLoaded() { return counter(Counter.SESSIONS_LOADED); }
    public long getMsmSessionsNotFound() { return counter(Counter.SESSIONS_NOT_FOUND); }
    public long getMsmLoadFailures() { return counter(Counter.LOAD_FAILURES); }
    public long getMsmUnreadableSessions() { return counter(Counter.UNREADABLE_SESSIONS); }
    public long getMsmLegacySessionsLoaded() { return counter(Counter.LEGACY_SESSIONS_LOADED); }
    public long getMsmBackups() { return counter(Counter.BACKUPS); }
    public long getMsmBackupsUnchanged() { return counter(Counter.BACKUPS_UNCHANGED); }
    public long getMsmBackupsCoalesced() { return counter(Counter.BACKUPS_COALESCED); }
    public long getMsmBackupFailures() { return counter(Counter.BACKUP_FAILURES); }
    public long getMsmBackupTimeouts() { return counter(Counter.BACKUP_TIMEOUTS); }
    public long getMsmTouches() { return counter(Counter.TOUCHES); }
    public long getMsmDeletes() { return counter(Counter.DELETES); }
    public long getMsmNodeFailovers() { return counter(Counter.NODE_FAILOVERS); }
    public long getMsmTomcatFailovers() { return counter(Counter.TOMCAT_FAILOVERS); }
    public long getMsmSecondaryWrites() { return counter(Counter.SECONDARY_WRITES); }
    public long getMsmSecondaryLoads() { return counter(Counter.SECONDARY_LOADS); }
    public long getMsmLoadsReused() { return counter(Counter.LOADS_REUSED); }
    public long getMsmLocksAcquired() { return counter(Counter.LOCKS_ACQUIRED); }
    public long getMsmLockWaits() { return counter(Counter.LOCK_WAITS); }
    public long getMsmLockTimeouts() { return counter(Counter.LOCK_TIMEOUTS); }
    public long getMsmLocksLost() { return counter(Counter.LOCKS_LOST); }
    public long getMsmUntrustedSessions() { return counter(Counter.UNTRUSTED_SESSIONS); }
    public long getMsmOversizedSessions() { return counter(Counter.OVERSIZED_SESSIONS); }
    public long getMsmAttributesTooLarge() { return counter(Counter.ATTRIBUTES_TOO_LARGE); }

    public double getMsmLockWaitMeanMillis() { return meanMillis(Timer.LOCK_WAIT); }
    public double getMsmBackupMeanMillis() { return meanMillis(Timer.BACKUP); }
    public double getMsmBackupMaxMillis() { return maxMillis(Timer.BACKUP); }
    public double getMsmSerializationMeanMillis() { return meanMillis(Timer.SERIALIZATION); }
    public double getMsmLoadMeanMillis() { return meanMillis(Timer.LOAD); }
    public double getMsmLoadMaxMillis() { return maxMillis(Timer.LOAD); }

    public long getMsmMeanStoredBytes() {
        MsmStatistics s = stats();
        return s == null ? 0 : s.meanStoredBytes();
    }

    public long getMsmMaxStoredBytes() {
        MsmStatistics s = stats();
        return s == null ? 0 : s.maxStoredBytes();
    }

    /** Sessions whose latest state is not in memcached yet because their node was unavailable. */
    public int getMsmUnsavedSessions() {
        SessionEngine e = engine();
        return e == null ? 0 : e.unsavedSessions();
    }

    /** Keys of ended or moved sessions waiting to be deleted until their node is available again. */
    public int getMsmPendingDeletes() {
        SessionEngine e = engine();
        return e == null ? 0 : e.pendingDeletes();
    }

    /** Memcached node ids currently available, comma separated. */
    public String getMsmAvailableNodes() {
        SessionEngine e = engine();
        return e == null ? "" : String.join(",", e.availableNodes());
    }
}
