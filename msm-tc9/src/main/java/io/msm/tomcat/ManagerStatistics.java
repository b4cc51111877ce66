package io.msm.tomcat;

import io.msm.engine.SessionEngine;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.stats.MsmStatistics.Timer;
import java.util.function.ToIntFunction;

/**
 * The statistics of {@link MemcachedSessionManager} as attributes of its JMX MBean ({@code Catalina:type=Manager,...}),
 * named {@code msm*}: Tomcat describes the MBean from the manager's public getters. Zero while msm is not running.
 *
 * <p>Package-private: javac gives the public {@code MemcachedSessionManager} a public bridge for each of these public
 * methods, which is what Tomcat's digester and JMX find by reflection ({@code ManagerAttributesTest} checks both).
 */
abstract class ManagerStatistics extends ManagerAttributes implements org.apache.catalina.DistributedManager {

    /** What the getters read while msm is not running: nothing recorded, every value 0. */
    private static final MsmStatistics NOT_RUNNING = new MsmStatistics(false);

    ManagerStatistics() {
    }

    /** The engine, while started. */
    public abstract SessionEngine engine();

    /** The engine's statistics while started; else statistics that record nothing, every value 0. */
    private MsmStatistics stats() {
        SessionEngine e = engine();
        return e == null ? NOT_RUNNING : e.statistics();
    }

    /** {@code value} of the engine while started; else 0. */
    private int ofEngine(ToIntFunction<SessionEngine> value) {
        SessionEngine e = engine();
        return e == null ? 0 : value.applyAsInt(e);
    }

    private long counter(Counter c) {
        return stats().get(c);
    }

    private double meanMillis(Timer t) {
        return stats().meanMillis(t);
    }

    private double maxMillis(Timer t) {
        return stats().maxMillis(t);
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
    public long getMsmSecondaryDeletesNotKept() { return counter(Counter.SECONDARY_DELETES_NOT_KEPT); }
    public long getMsmPrimaryDeletesNotKept() { return counter(Counter.PRIMARY_DELETES_NOT_KEPT); }
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

    public long getMsmMeanStoredBytes() { return stats().meanStoredBytes(); }
    public long getMsmMaxStoredBytes() { return stats().maxStoredBytes(); }

    /** Sessions whose latest state is not in memcached yet because their node was unavailable. */
    public int getMsmUnsavedSessions() { return ofEngine(SessionEngine::unsavedSessions); }

    /** Keys of ended or moved sessions waiting to be deleted until their node is available again. */
    public int getMsmPendingDeletes() { return ofEngine(SessionEngine::pendingDeletes); }

    /**
     * The sessions of {@link #findSessions()}, counted without listing them (JMX reads this at every poll): those held
     * here and those this Tomcat watches for their timeout without holding them (non-sticky: the sessions it served;
     * sticky: those its last stop left). Tomcat counts these, not {@link #getActiveSessions()} (held in memory only:
     * non-sticky none between requests), before it undeploys an old version of a parallel deployment
     * ({@code undeployOldVersions}); the manager webapp's list shows this count with {@code showProxySessions}.
     */
    @Override
    public int getActiveSessionsFull() {
        SessionEngine e = engine();
        if (e == null) {
            return sessions.size();
        }
        io.msm.engine.ExpiryWatch watch = e.expiry();
        int held = 0;
        int heldAndWatched = 0;
        for (String id : sessions.keySet()) {
            held++;
            if (watch.watches(id)) {
                heldAndWatched++;
            }
        }
        return Math.max(held, held + watch.size() - heldAndWatched);
    }

    /** The ids of {@link #getActiveSessionsFull()}'s sessions. */
    @Override
    public java.util.Set<String> getSessionIdsFull() {
        java.util.Set<String> ids = new java.util.HashSet<>(sessions.keySet());
        SessionEngine e = engine();
        if (e != null) {
            for (io.msm.engine.ExpiryWatch.Watched w : e.expiry().watched()) {
                ids.add(w.id);
            }
        }
        return ids;
    }

    /** Memcached node ids currently available, comma separated. */
    public String getMsmAvailableNodes() {
        SessionEngine e = engine();
        return e == null ? "" : String.join(",", e.availableNodes());
    }
}
