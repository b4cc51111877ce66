package io.msm.engine;

import io.msm.internal.LogIds;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.store.Expiration;
import io.msm.store.StoreException;
import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Deletes that wait for their node: of the primary key of a session that ended (under every name; non-sticky, its
 * tombstones), and of one secondary copy (non-sticky). A copy left behind is its session as it was before it ended
 * (before a logout, say): another Tomcat that never saw the end loads the primary copy when its node answers again,
 * and any Tomcat reads a secondary copy when the primary's node fails later; the ended session would be back, for as
 * long as the copy's TTL. So a delete whose node is unavailable, or that failed, waits here: it is made when the node
 * is available again ({@link #retry}), or by the periodic housekeeping while it is ({@link #retryInBackground}: a
 * delete that failed without a timeout leaves its node available, so no recovery comes), forgotten when the copy has
 * expired anyway ({@link #purge}); meanwhile this Tomcat does not serve the copy ({@link #isPending}; an ended id is
 * never loaded here, see {@link SessionEnds}). A removed node keeps its deletes: discovery may add it again under its
 * id with its data (a pod that failed its readiness for a while), and a node added again is not reported as
 * recovered: the housekeeping makes them. The primary deletes are made by {@link SessionEnds} ({@link Primaries}):
 * what an end leaves there is the mode's.
 *
 * <p>At most {@link #MAX_PRIMARY} primary and {@link #MAX_SECONDARY} secondary deletes wait (a client ending sessions
 * during an outage cannot fill the heap); past that, a copy is left to expire by its TTL, as before there was this
 * class: counted ({@link Counter#PRIMARY_DELETES_NOT_KEPT}, {@link Counter#SECONDARY_DELETES_NOT_KEPT}), and said at
 * WARNING, once until the deletes of that kind waiting drained to half its bound. Two bounds: a client ending many
 * sessions while one node is away fills the secondary one (two deletes per session), and must not make a real user's
 * logout, waiting for its primary key's node, be dropped (undone when that node answers again).
 */
final class WaitingDeletes {
    /** At most this many deletes of primary keys wait for their node. */
    static final int MAX_PRIMARY = 100_000;
    /** At most this many deletes of secondary copies wait for their node. */
    static final int MAX_SECONDARY = 10_000;
    /** At most this many deletes are tried per housekeeping ({@link #retryWhereAvailable}, every 500 ms). */
    static final int RETRIES_PER_HOUSEKEEPING = 100;
    /**
     * How long the deletes of a removed node wait for it to be added again at most: a copy that expires earlier is
     * forgotten at its expiry; one that never expires is taken to be gone with its node after this.
     */
    static final long REMOVED_NODE_KEPT_MILLIS = 24L * 3600 * 1000;
    /** The {@code until} of a copy that never expires (its session's timeout is 0 or less: TTL 0). */
    static final long NEVER = Long.MAX_VALUE;
    /** The key name of a primary delete: every name of the id's primary key, made by {@link Primaries}. */
    static final int PRIMARY = -1;
    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    /** Makes the delete of an ended session's primary key. */
    interface Primaries {
        /** Deletes the primary key of {@code id} under every name; {@code false} if memcached did not answer. */
        boolean delete(String id);
    }

    private final EngineBase base;
    private final Primaries primaries;
    /** The deletes of primary keys waiting, by node, name and id. */
    private final Kind primary;
    /** The deletes of secondary copies waiting, by node, name and id. */
    private final Kind secondary;
    /**
     * The retries being made now, by key: one at a time per delete (a node's recovery and a housekeeping run may
     * overlap: else made, and counted, twice).
     */
    private final Map<String, Object> making = new ConcurrentHashMap<>();
    /** Whether a housekeeping's retries run on a backup thread ({@link #retryInBackground}): one run at a time. */
    private final AtomicBoolean retrying = new AtomicBoolean();

    /** The deletes of one kind waiting, their bound, and whether it was said. */
    private static final class Kind {
        final Map<String, WaitingDelete> waiting = new ConcurrentHashMap<>();
        final int max;
        final Counter notKept;
        final String name;
        /** Whether the WARNING about the bound was said (said again once the deletes waiting drained to half of it). */
        final AtomicBoolean warned = new AtomicBoolean();

        Kind(int max, Counter notKept, String name) {
            this.max = max;
            this.notKept = notKept;
            this.name = name;
        }
    }

    WaitingDeletes(EngineBase base, Primaries primaries) {
        this(base, MAX_PRIMARY, MAX_SECONDARY, primaries);
    }

    /** Tests of secondary copies: no primary delete waits. */
    WaitingDeletes(EngineBase base) {
        this(base, MAX_PRIMARY, MAX_SECONDARY, id -> false);
    }

    /** Tests: {@code max} deletes of each kind wait at most. */
    WaitingDeletes(EngineBase base, int max, Primaries primaries) {
        this(base, max, max, primaries);
    }

    /**
     * @param maxPrimary how many deletes of primary keys wait at most (tests: a smaller bound)
     * @param maxSecondary how many deletes of secondary copies wait at most
     * @param primaries makes the primary deletes
     */
    WaitingDeletes(EngineBase base, int maxPrimary, int maxSecondary, Primaries primaries) {
        this.base = base;
        this.primary = new Kind(maxPrimary, Counter.PRIMARY_DELETES_NOT_KEPT, "primary");
        this.secondary = new Kind(maxSecondary, Counter.SECONDARY_DELETES_NOT_KEPT, "secondary");
        this.primaries = primaries;
    }

    private Kind kind(WaitingDelete w) {
        return w.name == PRIMARY ? primary : secondary;
    }

    private static String key(String node, String id, int name) {
        return node + ' ' + name + ' ' + id;
    }

    /**
     * Deletes the secondary copy of session {@code id} under name {@code name} on {@code node}, a copy of a session
     * that lives on under another name (a key rotation); if the node is unavailable or the delete fails, it waits for
     * the node (until {@code until}, when the copy has expired anyway).
     */
    void delete(String node, String id, int name, long until) {
        delete(new WaitingDelete(node, id, name, until, base.ctx.clock().getAsLong(), WaitingDelete.NO_MARK));
    }

    /**
     * As {@link #delete(String, String, int, long)}, for the copy of a session that ended at {@code endedAt} (clock
     * millis; or left the id): its {@link GoneMarks mark} goes beside it, so that a copy landing after the delete is
     * not read either.
     */
    void end(String node, String id, int name, long until, long endedAt) {
        delete(new WaitingDelete(node, id, name, until, base.ctx.clock().getAsLong(), endedAt));
    }

    private void delete(WaitingDelete asked) {
        WaitingDelete w = asked;
        if (!w.marks()) { // an end's delete waiting there goes with its mark (this one would drop it)
            WaitingDelete pending = secondary.waiting.get(key(w.node, w.id, w.name));
            w = pending != null && pending.marks() ? pending : w;
        }
        boolean available = base.availability.isAvailable(w.node);
        if (available && make(w)) {
            secondary.waiting.remove(key(w.node, w.id, w.name));
            return;
        }
        // the node may have come back between the look and the put, its recovery's retry run before: look again
        if (keep(w) && !available && make(w)) {
            secondary.waiting.remove(key(w.node, w.id, w.name), w);
        }
    }

    /**
     * The delete of the primary key of {@code id} (on its node {@code node}, under every name) could not be made: it
     * waits for the node, until {@code until} (when the copy has expired anyway). A node back between the caller's look
     * and this wait (its recovery's retry run before) gets it from the next housekeeping.
     */
    void waitForPrimary(String node, String id, long until) {
        keep(new WaitingDelete(node, id, PRIMARY, until, base.ctx.clock().getAsLong(), WaitingDelete.NO_MARK));
    }

    /**
     * The primary key of {@code id} on {@code node} need not be deleted any more: memcached confirmed its delete, or
     * the id was taken back here.
     */
    void primaryDone(String node, String id) {
        if (!primary.waiting.isEmpty()) {
            primary.waiting.remove(key(node, id, PRIMARY));
        }
    }

    /**
     * Retries the waiting delete {@code w} (under {@code key} in {@code k}); {@code false} if its node is unavailable
     * or did not answer, or another retry is making it. It is claimed first: made only if still waiting (a primary
     * one's id not taken back before the look).
     */
    private boolean retry(Kind k, String key, WaitingDelete w) {
        Object f = new Object(); // this retry's claim
        if (making.putIfAbsent(key, f) != null) {
            return false; // the other retry removes it
        }
        try {
            if (k.waiting.get(key) != w) {
                return true; // taken back (or made) meanwhile: nothing to do
            }
            return make(w);
        } finally {
            making.remove(key, f);
        }
    }

    /** Makes the waiting delete {@code w} now; {@code false} if its node is unavailable or did not answer. */
    private boolean make(WaitingDelete w) {
        if (w.name != PRIMARY) {
            return w.marks() ? endNow(w) : deleteNow(w.node, w.id, w.name);
        }
        return base.availability.isAvailable(w.node) && primaries.delete(w.id);
    }

    /**
     * Deletes the copy now; {@code false} if its node is unavailable or memcached did not answer. Without waiting for
     * the node on failure: a copy of a session that lives on (a former secondary node's), which its next write or its
     * end deletes anyway.
     */
    boolean deleteNow(String node, String id, int name) {
        if (!base.availability.isAvailable(node)) {
            return false;
        }
        try {
            base.store.delete(node, base.keys.secondary(id, name), base.config.operationTimeoutMillis());
            base.stats.count(Counter.DELETES);
            return true;
        } catch (StoreException e) {
            base.storeFailed(e, base.config.operationTimeoutMillis());
            return false;
        }
    }

    /**
     * Marks the copy of {@code w} ended ({@link GoneMarks}), for as long as a copy could live, and deletes it;
     * {@code false} if its node is unavailable or either failed (then it waits, the mark included). After a mark that
     * timed out the delete is not tried (one timeout at most); after one the node refused, it is.
     */
    private boolean endNow(WaitingDelete w) {
        if (!base.availability.isAvailable(w.node)) {
            return false;
        }
        long timeout = base.config.operationTimeoutMillis();
        long now = base.ctx.clock().getAsLong();
        int exp = w.until == NEVER ? 0
                : Expiration.of(Math.max(1, (w.until - now + 999) / 1000) + GoneMarks.EXTRA_SECONDS, now);
        try {
            base.store.set(w.node, base.keys.gone(w.id, w.name), exp, GoneMarks.of(w.endedAt), timeout);
        } catch (StoreException e) {
            base.storeFailed(e, timeout);
            if (!e.isTimeout()) {
                deleteNow(w.node, w.id, w.name); // the node answers (out of memory, say): the copy goes at least
            }
            return false;
        }
        return deleteNow(w.node, w.id, w.name);
    }

    /** Keeps {@code w} waiting; {@code false} past the bound of its kind (the copy is left to its TTL). */
    private boolean keep(WaitingDelete asked) {
        WaitingDelete w = capIfRemoved(asked);
        Kind k = kind(w);
        String key = key(w.node, w.id, w.name);
        if (k.waiting.size() >= k.max && !k.waiting.containsKey(key)) {
            base.stats.count(k.notKept);
            if (k.warned.compareAndSet(false, true)) {
                LOG.log(Level.WARNING, () -> base.logPrefix + k.max + " deletes of " + k.name + " copies already wait"
                        + " for their memcached node: the " + k.name + " copy of session " + LogIds.of(w.id)
                        + " on memcached node " + w.node + " is left to expire by its TTL, as are the next ones past"
                        + " this bound (counted in msm" + (k == primary ? "Primary" : "Secondary") + "DeletesNotKept;"
                        + " said again once half of them are done)");
            }
            return false;
        }
        k.waiting.put(key, w); // concurrent keeps may pass the bound by a few
        return true;
    }

    /**
     * {@code w}, or, if its node is not in the node list (removed by discovery before the delete was asked: a
     * tombstone for the id's form on every node, say), {@code w} waiting at most {@link #REMOVED_NODE_KEPT_MILLIS},
     * as the deletes waiting at the node's removal ({@link #nodeRemoved}): else one whose copy never expires waits
     * forever.
     */
    private WaitingDelete capIfRemoved(WaitingDelete w) {
        long cap = w.since + REMOVED_NODE_KEPT_MILLIS;
        if (w.until <= cap || base.nodes.current().contains(w.node)) {
            return w;
        }
        return w.until(cap);
    }

    /**
     * Whether the copy of {@code id} under name {@code name} on {@code node} is one this Tomcat could not delete yet:
     * not to be served.
     */
    boolean isPending(String node, String id, int name) {
        return !secondary.waiting.isEmpty() && secondary.waiting.containsKey(key(node, id, name));
    }

    /**
     * This Tomcat stored a secondary copy of {@code id} on {@code node} under the first name, sent at {@code sentAt}
     * (clock millis): one sent after the delete was asked (the id taken back, a session moved back to a node) is not
     * to be deleted; one sent before and answered late, after the session ended, still is.
     */
    void written(String node, String id, long sentAt) {
        if (!secondary.waiting.isEmpty()) {
            secondary.waiting.computeIfPresent(key(node, id, 0), (k, w) -> w.since < sentAt ? null : w);
        }
    }

    /** Node {@code nodeId} is available again: the deletes that waited for it are made now (those failing wait on). */
    void retry(String nodeId) {
        for (Kind k : List.of(primary, secondary)) {
            k.waiting.forEach((key, w) -> {
                if (w.node.equals(nodeId) && retry(k, key, w)) {
                    k.waiting.remove(key, w);
                }
            });
        }
    }

    /**
     * Housekeeping (on the scheduled thread, whose tasks must be short: it probes the suspect nodes): hands
     * {@link #retryWhereAvailable} to a backup thread, where a node slow to answer holds nothing but that run; none
     * while the last one still runs. {@code false} if none was started.
     */
    boolean retryInBackground() {
        if (size() == 0 || base.threads.stopping() || !retrying.compareAndSet(false, true)) {
            return false;
        }
        try {
            base.threads.execute(() -> {
                try {
                    retryWhereAvailable();
                } finally {
                    retrying.set(false);
                }
            });
            return true;
        } catch (RejectedExecutionException stopping) {
            retrying.set(false);
            return false;
        }
    }

    /**
     * Makes the waiting deletes whose node is available, at most {@link #RETRIES_PER_HOUSEKEEPING},
     * none more on a node once one failed there. A delete that failed without a timeout (a connection reset) leaves
     * its node available: no recovery comes to {@link #retry} it.
     */
    void retryWhereAvailable() {
        int tries = 0;
        Map<String, Boolean> usable = new HashMap<>(); // by node, looked at once: false after a failure
        for (Kind k : List.of(primary, secondary)) {
            for (Map.Entry<String, WaitingDelete> e : k.waiting.entrySet()) {
                WaitingDelete w = e.getValue();
                if (tries >= RETRIES_PER_HOUSEKEEPING) {
                    return;
                }
                if (making.containsKey(e.getKey()) || !usable.computeIfAbsent(w.node, base.availability::isAvailable)) {
                    continue; // (being made by a node's recovery)
                }
                tries++;
                if (retry(k, e.getKey(), w)) {
                    k.waiting.remove(e.getKey(), w);
                } else {
                    usable.put(w.node, false);
                }
            }
        }
    }

    /**
     * Node {@code nodeId} was removed (at {@code now}, clock millis): its deletes wait on, as discovery may add it
     * again under its id with its data; a copy that would outlive {@link #REMOVED_NODE_KEPT_MILLIS} (one that never
     * expires) is taken to be gone with the node after that.
     */
    void nodeRemoved(String nodeId, long now) {
        long cap = now + REMOVED_NODE_KEPT_MILLIS;
        for (Kind k : List.of(primary, secondary)) {
            k.waiting.replaceAll((key, w) -> w.node.equals(nodeId) && w.until > cap
                    ? w.until(cap) : w);
        }
    }

    /**
     * Forgets the deletes whose copies have expired in memcached anyway (at {@code now}, clock millis). The WARNING
     * about a kind's bound is said again once its deletes waiting drained to half of it (not at each one below it: a
     * map at the bound would say it every housekeeping).
     */
    void purge(long now) {
        for (Kind k : List.of(primary, secondary)) {
            // a node not in the list: a day at most, also for a delete kept while discovery was removing its node
            k.waiting.values().removeIf(w -> w.until < now
                    || w.since + REMOVED_NODE_KEPT_MILLIS < now && !base.nodes.current().contains(w.node));
            if (k.warned.get() && k.waiting.size() <= k.max / 2) {
                k.warned.set(false);
            }
        }
    }

    /** How many deletes wait for their node. */
    int size() {
        return primary.waiting.size() + secondary.waiting.size();
    }

    /** How many deletes of primary keys wait for their node. */
    int primaries() {
        return primary.waiting.size();
    }
}
