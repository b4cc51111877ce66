package io.msm.engine;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.node.NodeAvailability;
import io.msm.node.SessionIdFormat;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sessions that ended, and the deletes of their copies. An id that ended here (invalidated, expired, abandoned at a
 * login, taken over by another Tomcat) is never loaded here again until its copies expired or memcached confirmed
 * their deletion; a delete whose node is unavailable is retried when the node returns. Whether an ended id's keys get
 * tombstones on every node instead of a plain delete (non-sticky, see {@link Tombstones}), and which secondary copies
 * go with them, is the {@link SessionMode}'s.
 */
final class SessionEnds {

    private final EngineBase base;
    private final MsmConfig config;
    private final EngineContext ctx;
    private final MsmStatistics stats;
    private final SessionIdFormat ids;
    private final SessionStore store;
    private final NodeAvailability availability;
    private final StorageKeys keys;
    private final Tombstones tombstones;
    private final LegacyLoads legacy;
    /** What an end leaves: tombstones or plain deletes, and the secondary copies that go with a session. */
    private final SessionMode mode;
    /**
     * Ids of sessions that ended here (invalidated, expired), until memcached confirmed their deletion or their
     * copies expired: never loaded again, even while an asynchronous or failed delete leaves a copy behind.
     */
    private final Map<String, Long> ended = new ConcurrentHashMap<>();
    /**
     * Until when the copies of ended ids live in memcached (clock millis, {@link WaitingDeletes#NEVER}), where that
     * is later than their entry in {@link #ended}: a session that never times out (copies with TTL 0, its entry kept
     * a day), or copies written as memcached-session-manager does (twice the timeout). Forgotten with the entry.
     */
    private final Map<String, Long> copiesEnd = new ConcurrentHashMap<>();
    /**
     * The deletes (non-sticky: tombstones) of primary keys whose node was unavailable or failed, with those of
     * secondary copies: made when the node is available again, kept when it is removed.
     */
    private final WaitingDeletes waiting;

    /** @param waiting the deletes waiting for their node; its primary ones are made by {@link #deletePrimaryNow} */
    SessionEnds(EngineBase base, SessionMode mode, WaitingDeletes waiting) {
        this.base = base;
        this.config = base.config;
        this.ctx = base.ctx;
        this.stats = base.stats;
        this.ids = base.ids;
        this.store = base.store;
        this.availability = base.availability;
        this.keys = base.keys;
        this.tombstones = base.tombstones;
        this.legacy = base.legacy;
        this.mode = mode;
        this.waiting = waiting;
    }

    /** {@code true} if session {@code id} ended here (and its copies may still be in memcached). */
    boolean hasEnded(String id) {
        return ended.containsKey(id);
    }

    /**
     * Session {@code id} ended here, its timeout {@code maxInactiveSeconds}: never loaded again until its copies
     * expired ({@link #keepTombstoneUntil}).
     */
    void end(String id, int maxInactiveSeconds) {
        long now = ctx.clock().getAsLong();
        endAt(id, keepTombstoneUntil(maxInactiveSeconds, now), copiesLiveUntil(maxInactiveSeconds, now));
    }

    private void endAt(String id, long keepUntil, long copiesUntil) {
        ended.put(id, keepUntil);
        if (copiesUntil > keepUntil && !base.sticky) { // (sticky: no secondary copies)
            copiesEnd.put(id, copiesUntil);
        } else {
            copiesEnd.remove(id);
        }
    }

    /** Forgets that {@code id} ended. */
    private void forget(String id) {
        ended.remove(id);
        copiesEnd.remove(id);
    }

    /**
     * The application gave a session a new id (a login's session-fixation protection, {@code changeSessionId()}),
     * or msm moved it from these ids: the ids it had are dead here for good, never loaded again even if a copy is left
     * in memcached (the new id's write deletes the last one; copies under older ids were deleted when the session
     * moved, or are pending).
     */
    void endAll(Collection<String> abandoned, int maxInactiveSeconds) {
        long now = ctx.clock().getAsLong();
        long keepUntil = keepTombstoneUntil(maxInactiveSeconds, now);
        long copiesUntil = copiesLiveUntil(maxInactiveSeconds, now);
        for (String id : abandoned) {
            endAt(id, keepUntil, copiesUntil);
        }
    }

    /**
     * This Tomcat took a session back under {@code id}: it may be loaded and written again (a delete of its key still
     * waiting for the node would drop the new copy). A retry of that delete already being made is not waited for: if
     * its tombstone lands after the session's new write, the session ends (README, "Logouts stay done": not covered).
     */
    void revive(String id) {
        forget(id);
        SessionId p = ids.parse(id);
        if (p != null) {
            waiting.primaryDone(p.nodeId(), id);
        }
    }

    /** How many ended ids are kept in memory. */
    int endedIds() {
        return ended.size();
    }

    /** Primary keys waiting to be deleted until their node is available again. */
    int pendingDeletes() {
        return waiting.primaries();
    }

    /** Node {@code nodeId} is available again: the deletes that waited for it are done now (secondary copies too). */
    void retryDeletes(String nodeId) {
        waiting.retry(nodeId);
    }

    /**
     * Node {@code nodeId} was removed: the deletes waiting for it wait on until the copies would have expired
     * (discovery may add it again under its id, with its data: another Tomcat would load an ended session from it).
     */
    void nodeRemoved(String nodeId) {
        waiting.nodeRemoved(nodeId, ctx.clock().getAsLong());
    }

    /**
     * Forgets ended ids and waiting deletes whose copies have expired in memcached anyway; makes waiting deletes whose
     * node is available (periodically).
     */
    void purge(long now) {
        ended.entrySet().removeIf(e -> {
            boolean expired = e.getValue() < now;
            if (expired) {
                copiesEnd.remove(e.getKey());
            }
            return expired;
        });
        waiting.purge(now);
        waiting.retryInBackground(); // not on this (the scheduled) thread: a slow node would hold the probes
    }

    /** How long a copy of an ended session can live in memcached: its timeout plus slack (a day if none). */
    long keepTombstoneUntil(int maxInactiveSeconds) {
        return keepTombstoneUntil(maxInactiveSeconds, ctx.clock().getAsLong());
    }

    private static long keepTombstoneUntil(int maxInactiveSeconds, long now) {
        long seconds = maxInactiveSeconds > 0
                ? maxInactiveSeconds + Slack.seconds(maxInactiveSeconds) : 24 * 3600;
        return now + seconds * 1000;
    }

    /**
     * Until when a secondary copy of a session with timeout {@code maxInactiveSeconds} can live in memcached (clock
     * millis): its longest TTL from {@code now} ({@link EngineBase#refreshSeconds}: twice the timeout as
     * memcached-session-manager writes it), {@link WaitingDeletes#NEVER} for a session that never times out.
     */
    long copiesLiveUntil(int maxInactiveSeconds, long now) {
        return maxInactiveSeconds > 0 ? now + base.refreshSeconds(maxInactiveSeconds) * 1000 : WaitingDeletes.NEVER;
    }

    /**
     * {@code true} if {@code newId} replaced {@code oldId} for the application (a new random part, e.g. at a login),
     * not because msm moved the session to another node or Tomcat (same random part).
     */
    boolean abandoned(String oldId, String newId) {
        SessionId from = ids.parse(oldId);
        SessionId to = ids.parse(newId);
        return from != null && to != null && !from.random().equals(to.random());
    }

    /** Deletes the keys of former ids of a session, and its copies under former names (it is stored as it is now). */
    void deleteObsolete(SessionState st) {
        if (st.underFormerName) {
            st.underFormerName = false;
            deleteNames(st.storedId, 1);
        }
        LegacyLoads.Leftovers leftovers = st.legacy;
        if (leftovers != null && legacy != null) {
            st.legacy = null;
            legacy.delete(leftovers);
        }
        String current = st.storedId;
        for (String old : st.attempted) {
            if (!old.equals(current)) {
                if (mode.tombstonesEndedIds() && current != null && abandoned(old, current)) {
                    endEverywhere(old);
                } else {
                    deleteKey(old);
                }
            }
            st.attempted.remove(old);
        }
    }

    /** The session of {@code st} ended: its copies are deleted (non-sticky: its ids get tombstones). */
    void deleteStored(SessionState st) {
        st.ended = true; // before the deletes: a secondary copy stored after them is deleted again
        String id = st.storedId;
        st.stored = false;
        st.storedId = null;
        if (id != null) {
            st.attempted.add(id);
        }
        Set<String> randoms = new java.util.HashSet<>();
        for (String old : st.attempted) {
            SessionId p = ids.parse(old);
            if (!mode.tombstonesEndedIds() || p == null) {
                deleteKey(old);
            } else if (randoms.add(p.random())) {
                endEverywhere(old);
            } else {
                // another id of the session (it moved between nodes): its own secondary copies end too
                deleteKey(old);
            }
            st.attempted.remove(old);
        }
    }

    /**
     * With tombstones (non-sticky): the session of {@code id} ended. Its key gets a tombstone, and so does the key its
     * id would have on every other node: a request of it still running on another Tomcat that moves it off a node that
     * died meanwhile then finds a tombstone there too, instead of storing the session anew.
     */
    void endEverywhere(String id) {
        SessionId p = ids.parse(id);
        Long until = ended.get(id);
        Long copies = copiesEnd.get(id);
        deleteKey(id);
        if (p == null) {
            return;
        }
        for (MemcachedNode n : base.nodes.current().nodes()) {
            if (!n.id().equals(p.nodeId())) {
                String variant = ids.format(p.random(), n.id(), p.jvmRoute());
                if (until != null) {
                    ended.put(variant, until);
                }
                if (copies != null) {
                    copiesEnd.put(variant, copies);
                }
                if (!availability.isAvailable(n.id()) || !putTombstone(variant, n.id())) {
                    waiting.waitForPrimary(n.id(), variant, copiesUntil(variant));
                } else {
                    forget(variant); // memcached holds its tombstone: nothing to remember here
                }
            }
        }
    }

    /**
     * Until when a secondary copy of {@code id} can live in memcached (clock millis, {@link WaitingDeletes#NEVER}):
     * as its end said ({@link #copiesEnd}, {@link #ended}), else as long as a copy with the usual timeout (one under a
     * former name of a session that lives on).
     */
    private long copiesUntil(String id) {
        Long copies = copiesEnd.get(id);
        if (copies != null) {
            return copies;
        }
        Long until = ended.get(id);
        return until != null ? until : copiesLiveUntil(base.usualMaxInactive, ctx.clock().getAsLong());
    }

    /** A tombstone lives as long as any copy of its session could: until its id's end in {@link #ended}. */
    private int tombstoneExpiration(String id) {
        long now = ctx.clock().getAsLong();
        Long until = ended.get(id);
        long seconds = until != null ? Math.max(1, (until - now + 999) / 1000)
                : (keepTombstoneUntil(base.usualMaxInactive) - now) / 1000;
        return Expiration.of(seconds, now);
    }

    /** Puts the tombstone of {@code id} on {@code node}; {@code false} if memcached could not be told. */
    private boolean putTombstone(String id, String node) {
        try {
            for (int name = 0; name < keys.names(); name++) { // under every name (see deleteNames)
                tombstones.put(node, keys.primary(id, name), tombstoneExpiration(id), config.operationTimeoutMillis());
            }
            return true;
        } catch (StoreException e) {
            base.storeFailed(e, config.operationTimeoutMillis());
            return false;
        }
    }

    /**
     * Deletes a key; if its node cannot be reached now, the delete is retried when the node returns. With tombstones
     * (non-sticky), the key gets one instead (see {@link Tombstones}), and the secondary copies on the other nodes
     * are deleted at once, even while the primary's node is down: a request for the id would read them then.
     */
    void deleteKey(String id) {
        SessionId p = ids.parse(id);
        if (p == null) {
            return;
        }
        if (!availability.isAvailable(p.nodeId())) {
            // now: a request for the id would read them (deleteNames does it when the node is available)
            mode.endSecondaries(id, p.nodeId(), copiesUntil(id), ctx.clock().getAsLong());
            waiting.waitForPrimary(p.nodeId(), id, copiesUntil(id));
            return;
        }
        if (deletePrimaryNow(id)) {
            waiting.primaryDone(p.nodeId(), id);
        } else {
            waiting.waitForPrimary(p.nodeId(), id, copiesUntil(id));
        }
    }

    /**
     * Deletes the key of {@code id} under every name now (with tombstones: puts them), secondary copies included;
     * {@code true} if memcached answered: the id's end is then memcached's, nothing to remember here.
     */
    boolean deletePrimaryNow(String id) {
        if (deleteNames(id, 0)) {
            forget(id);
            return true;
        }
        return false;
    }

    /**
     * Deletes the copies of session {@code id} under its names from {@code first} on (0: every name; 1: the former
     * ones, after a key rotation), secondary copies included; {@code true} if memcached answered. With tombstones
     * (non-sticky), every name (0) means the id ended: each name gets a tombstone instead.
     */
    boolean deleteNames(String id, int first) {
        SessionId p = ids.parse(id);
        if (p == null) {
            return true;
        }
        long until = copiesUntil(id);
        boolean ended = first == 0 && mode.tombstonesEndedIds();
        if (ended) {
            // first, as the copies' deletes always were (a request elsewhere reads them once the primary's node fails),
            // marked with the time by which the tombstones below are in memcached: a copy from a Tomcat that did not
            // see the end was written before them, so its session was accessed before that time (GoneMarks). Each
            // call waits one operationTimeout at most: per name, a mark and a delete on each other node, a tombstone
            long calls = (long) keys.names() * (1 + 2L * Math.max(0, base.nodes.current().nodes().size() - 1));
            long tombstonesBy = ctx.clock().getAsLong() + calls * config.operationTimeoutMillis();
            mode.endSecondaries(id, p.nodeId(), until, tombstonesBy);
        }
        boolean answered = true;
        for (int name = first; name < keys.names() && answered; name++) {
            if (!ended) {
                mode.deleteSecondaries(id, p.nodeId(), name, until);
            }
            try {
                if (first > 0 || !mode.tombstonesEndedIds()) {
                    store.delete(p.nodeId(), keys.primary(id, name), config.operationTimeoutMillis());
                } else { // ended: under every name, so a Tomcat with another key first cannot write it again
                    tombstones.put(p.nodeId(), keys.primary(id, name), tombstoneExpiration(id),
                            config.operationTimeoutMillis());
                }
                stats.count(Counter.DELETES);
            } catch (StoreException e) {
                base.storeFailed(e, config.operationTimeoutMillis());
                answered = false;
            }
        }
        return answered;
    }
}
