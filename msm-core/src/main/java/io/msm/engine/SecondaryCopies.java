package io.msm.engine;

import io.msm.config.MemcachedNode;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Non-sticky mode's secondary copies ({@code bak:} keys on the next available node): sent alongside each write,
 * refreshed at most every half slack by read-only requests, read when a session's node failed, and deleted with the
 * session. Sticky mode has none: this part exists only in non-sticky mode.
 */
final class SecondaryCopies {
    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    /** How long a read of a secondary copy waits for a copy still in flight (non-sticky, after a node failed). */
    static final long SECONDARY_GRACE_MILLIS = 25;
    /** How long a secondary copy's refresh time is remembered: the longest half slack, with margin. */
    private static final long SECONDARY_REFRESH_KEPT_MILLIS = 60_000;

    private final EngineBase base;
    /** {@link #SECONDARY_REFRESH_KEPT_MILLIS}; shorter only where a test waits for the purge ({@link #keepRefreshTimes}). */
    private volatile long refreshKeptMillis = SECONDARY_REFRESH_KEPT_MILLIS;
    /**
     * When this Tomcat last refreshed each session's secondary copy (id to clock millis). A read-only request
     * refreshes it at most every half slack, so it outlives the session's timeout from any access.
     */
    private final Map<String, Long> secondaryRefreshed = new ConcurrentHashMap<>();
    /** The deletes of copies of ended sessions, those waiting for their node included (with the primary ones). */
    private final WaitingDeletes deletes;

    /** Tests: deletes of its own. */
    SecondaryCopies(EngineBase base) {
        this(base, new WaitingDeletes(base));
    }

    SecondaryCopies(EngineBase base, WaitingDeletes deletes) {
        this.base = base;
        this.deletes = deletes;
    }

    /**
     * Forgets refresh times older than any half slack (periodically; the waiting deletes are purged with the ended
     * ids, see {@link SessionEnds#purge}).
     */
    void purge(long now) {
        long kept = refreshKeptMillis;
        secondaryRefreshed.values().removeIf(at -> now - at > kept);
    }

    /**
     * Tests only: refresh times are forgotten after {@code millis} instead of {@link #SECONDARY_REFRESH_KEPT_MILLIS}
     * (a copy is then refreshed more often), so a test that waits until they are gone waits less.
     */
    void keepRefreshTimes(long millis) {
        this.refreshKeptMillis = millis;
    }

    /**
     * The secondary copy of {@code id}, looked for on every available node but its primary (the node it is found on
     * goes to {@code foundOn[0]}); {@code null} if none.
     * A request waits for its secondary copy at most {@code sessionBackupTimeout}, so the copy of the very last change
     * may still be on its way from another Tomcat: this rare path (once per session, when its node failed) first
     * waits {@link #SECONDARY_GRACE_MILLIS} for it to land; not when no other node is available (nothing can land).
     *
     * <p>Every available node is read, and of several copies the one of the latest access is taken: Tomcats that see
     * the nodes differently for a while (a node joining is taken by each a join delay after it saw it; a Tomcat started
     * meanwhile takes it at once) put a user's copies on different nodes, and the first one found in this Tomcat's
     * ring order may be its own older one. The times are the writing Tomcats' clocks (a skew larger than the time
     * between a user's requests could pick an older copy: a version counter in the blob would not depend on them). A
     * copy whose times cannot be read (memcached-session-manager's, or not
     * readable with this configuration) counts only when it is found first: it is taken as before.
     */
    byte[] loadSecondary(String id, String primaryNode, String[] foundOn) {
        // the ring from the primary on, where the copy was put while the node list was the same; a node still
        // joining last (it may hold an older copy from before it left)
        List<MemcachedNode> others = new java.util.ArrayList<>();
        List<MemcachedNode> joining = new java.util.ArrayList<>();
        for (MemcachedNode n : base.nodes.current().successors(primaryNode)) {
            if (base.availability.isAvailable(n.id())) {
                (base.nodes.takesSessions(n.id()) ? others : joining).add(n);
            }
        }
        others.addAll(joining);
        if (others.isEmpty()) {
            return null;
        }
        if (base.nodes.current().contains(primaryNode)) { // (a node removed or unknown here sent nothing lately)
            try {
                Thread.sleep(SECONDARY_GRACE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        byte[] newest = null;
        long newestAccess = 0;
        for (MemcachedNode n : others) {
            byte[] blob = base.availability.isAvailable(n.id()) ? readSecondaryOn(n.id(), id) : null;
            if (blob == null) {
                continue;
            }
            long access = lastAccessOf(id, blob);
            if (newest == null && access == UNKNOWN_ACCESS) {
                foundOn[0] = n.id();
                return blob;
            }
            if (newest == null || access > newestAccess) {
                newest = blob;
                newestAccess = access;
                foundOn[0] = n.id();
            }
        }
        return newest;
    }

    /** A copy whose times cannot be read. */
    private static final long UNKNOWN_ACCESS = Long.MIN_VALUE;

    /**
     * When the copy's session was last accessed, also in the old manager's format (it may be this Tomcat's own, with
     * {@code legacySessions="readWrite"}); {@code null} if that cannot be read.
     */
    private Long accessed(String id, byte[] blob) {
        long at = lastAccessOf(id, blob);
        if (at != UNKNOWN_ACCESS) {
            return at;
        }
        try {
            io.msm.anchor.AnchorBlob old = io.msm.anchor.AnchorBlob.looksLikeOne(blob)
                    ? io.msm.anchor.AnchorBlob.parse(blob) : null;
            return old != null && id.equals(old.id()) ? Math.max(old.lastAccessedTime(), old.thisAccessedTime()) : null;
        } catch (RuntimeException e) { // not of that format either
            return null;
        }
    }

    /**
     * The session's copy on {@code node} under the first name that has one; {@code null} if none or it failed. A copy
     * of the session before its end is not read: one this Tomcat could not delete yet, and one its end's
     * {@link GoneMarks mark} hides (one more call, only where a copy is found: after its primary's node failed).
     */
    private byte[] readSecondaryOn(String node, String id) {
        long timeout = base.config.operationTimeoutMillis();
        try {
            for (int name = 0; name < base.keys.names(); name++) {
                if (deletes.isPending(node, id, name)) {
                    continue;
                }
                byte[] blob = base.store.get(node, base.keys.secondary(id, name), timeout);
                if (blob != null) {
                    byte[] mark = base.store.get(node, base.keys.gone(id, name), timeout);
                    if (mark == null || !GoneMarks.hides(mark, accessed(id, blob))) {
                        return blob;
                    }
                    LOG.log(System.Logger.Level.DEBUG, () -> base.logPrefix + "the secondary copy of session "
                            + io.msm.internal.LogIds.of(id) + " on memcached node " + node + " is of before its end"
                            + " (the end's mark is beside it): not read");
                }
            }
        } catch (StoreException e) {
            base.storeFailed(e, base.config.operationTimeoutMillis());
        }
        return null;
    }

    /**
     * When the copy's session was last accessed, by the clock of the Tomcat that wrote it (its header: the attributes
     * are not read), or {@link #UNKNOWN_ACCESS}.
     */
    private long lastAccessOf(String id, byte[] blob) {
        try {
            io.msm.codec.SessionData data = io.msm.codec.BlobCodec.decode(base.sealer.open(blob));
            return data.id().equals(id) ? Math.max(data.lastAccessedTime(), data.thisAccessedTime()) : UNKNOWN_ACCESS;
        } catch (RuntimeException e) { // memcached-session-manager's format, a tombstone, untrusted, unreadable
            return UNKNOWN_ACCESS;
        }
    }

    /**
     * The node for the secondary copy of a session on {@code primaryNode}: the next available one in ring order
     * ({@link io.msm.node.NodeSet#successors}), so it stays the same when nodes elsewhere in the ring join or leave.
     */
    String secondaryNode(String primaryNode) {
        String joining = null;
        for (MemcachedNode n : base.nodes.current().successors(primaryNode)) {
            if (base.availability.isAvailable(n.id())) {
                if (base.nodes.takesSessions(n.id())) {
                    return n.id();
                }
                // a node still joining: other Tomcats may not know it yet, and would not look for the copy there
                joining = joining == null ? n.id() : joining;
            }
        }
        return joining;
    }

    /**
     * Non-sticky: the secondary copy was not refreshed by this Tomcat for half the slack. Refreshed then, it outlives
     * the session from any access (its TTL is the timeout plus the slack), at one call per half slack instead of one
     * per request.
     */
    boolean secondaryDue(ManagedSession s, long now) {
        int mi = s.maxInactiveInterval();
        if (mi <= 0 || !s.state().stored) {
            return false;
        }
        Long at = secondaryRefreshed.get(s.id());
        return at == null || now - at >= Slack.seconds(mi) * 500L;
    }

    /**
     * Sends the secondary copy of the session's last stored blob to the next available node (non-sticky). With
     * {@code await}, waits for memcached's answer at most {@code sessionBackupTimeout}: requests of one user come one
     * after the other, possibly on different Tomcats, each over its own connection, so a copy only sent (not
     * answered) before the response could land after the next request's newer copy and replace it. A secondary node
     * too slow to answer in time is probed and, if it does not answer, taken out like a timed-out primary.
     */
    void writeSecondary(ManagedSession s, SessionState st, boolean await) {
        String id = st.storedId;
        if (st.lastBlob != null && id != null && id.equals(s.id())) {
            SecondaryWrite w = sendSecondary(s, st, id, st.lastBlob);
            if (await && w != null) {
                w.await();
            }
        }
    }

    /** A secondary copy on its way: {@link #await()} waits for memcached's answer. */
    final class SecondaryWrite {
        final String node;
        final String key;
        final CountDownLatch answered = new CountDownLatch(1);

        SecondaryWrite(String node, String key) {
            this.node = node;
            this.key = key;
        }

        /** Waits at most {@code sessionBackupTimeout}, not at all for a node already being probed. */
        void await() {
            if (base.health.isProbing(node)) {
                // a node already being probed after such a wait timed out: the next requests do not wait for it too
                return;
            }
            long timeout = base.config.sessionBackupTimeoutMillis();
            try {
                if (!answered.await(timeout, TimeUnit.MILLISECONDS)) {
                    base.storeFailed(StoreException.timeout("set", key, node, timeout, "secondary copy"), timeout);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * memcached answered the secondary copy of session {@code id} sent to {@code node} at {@code now}, with a TTL of
     * {@code ttlSeconds}. A copy stored after its session ended was sent before the end (written asynchronously, a
     * write queued behind a slow one): memcached may have applied the end's delete first, so it is deleted again, off
     * this thread (the node's writer, or a request's). Left, it would be the session before its end, read by any
     * Tomcat when the primary's node fails.
     */
    void secondaryAnswered(SessionState st, String id, String node, boolean stored, long now, long ttlSeconds) {
        if (!stored) {
            base.stats.count(Counter.BACKUP_FAILURES);
            return;
        }
        base.stats.count(Counter.SECONDARY_WRITES);
        if (st.ended) {
            long until = ttlSeconds <= 0 ? WaitingDeletes.NEVER : now + ttlSeconds * 1000L;
            try {
                // the end marked the node ({@link GoneMarks}); a mark again would replace it, maybe shorter-lived
                base.threads.execute(() -> deletes.delete(node, id, 0, until));
            } catch (RejectedExecutionException stopping) {
                // stopping: it expires by its TTL
            }
            return;
        }
        secondaryRefreshed.put(id, now);
        deletes.written(node, id, now);
        String previous = st.bakNode;
        st.bakNode = node;
        if (previous != null && !previous.equals(node)) {
            try {
                base.threads.execute(() -> deletes.deleteNow(previous, id, 0));
            } catch (RejectedExecutionException stopping) {
                // it expires by its TTL
            }
        }
    }

    /** Sends {@code blob} as the secondary copy of session {@code id}; {@code null} if there is no node for it. */
    SecondaryWrite sendSecondary(ManagedSession s, SessionState st, String id, byte[] blob) {
        SessionId p = base.ids.parse(id);
        String node = p == null ? null : secondaryNode(p.nodeId());
        if (node == null) {
            return null; // no second node available: the primary is the only copy for now
        }
        long now = base.ctx.clock().getAsLong();
        SecondaryWrite w = new SecondaryWrite(node, base.keys.secondary(id, 0));
        base.threads.started(); // counted until memcached answers, for awaitIdle
        long ttl = base.ttlSeconds(s, st, now);
        base.store.setAsync(node, w.key, Expiration.of(ttl, now), blob, ok -> {
            try {
                secondaryAnswered(st, id, node, ok, now, ttl);
            } finally {
                base.threads.done();
                w.answered.countDown();
            }
        });
        return w;
    }

    void touchSecondary(ManagedSession s, SessionState st, String primaryNode, int exp) {
        String node = st.bakNode != null && base.availability.isAvailable(st.bakNode) ? st.bakNode
                : secondaryNode(primaryNode);
        if (node == null) {
            return;
        }
        try {
            long now = base.ctx.clock().getAsLong();
            if (base.store.touch(node, base.keys.secondary(s.id(), 0), exp, base.config.operationTimeoutMillis())) {
                st.bakNode = node;
                secondaryRefreshed.put(s.id(), now);
                base.stats.count(Counter.TOUCHES);
            } else if (primaryIsStill(st, primaryNode, s.id())) {
                writeSecondary(s, st, false); // missing there: write it from the blob this Tomcat holds
            }
        } catch (StoreException e) {
            base.storeFailed(e, base.config.operationTimeoutMillis());
        }
    }

    /**
     * Whether memcached's primary copy is still the blob this Tomcat holds (not a tombstone, not another Tomcat's
     * version): only then is a missing secondary copy written again from it.
     */
    private boolean primaryIsStill(SessionState st, String primaryNode, String id) {
        byte[] mine = st.lastBlob;
        return mine != null && java.util.Arrays.equals(mine,
                base.store.gets(primaryNode, base.key(id), base.config.operationTimeoutMillis()).value());
    }

    /**
     * The session of {@code id} ended: its secondary copies, under every name, on every node but its primary one, are
     * deleted, each with its {@link GoneMarks mark} holding {@code endedAt}; on a node that is unavailable (or fails)
     * when the copy lives until {@code until}, when the node is available again.
     */
    void endSecondaries(String id, String primaryNode, long until, long endedAt) {
        for (int name = 0; name < base.keys.names(); name++) {
            for (MemcachedNode n : base.nodes.current().nodes()) {
                if (!n.id().equals(primaryNode)) {
                    deletes.end(n.id(), id, name, until, endedAt);
                }
            }
        }
    }

    /**
     * Deletes the secondary copies of {@code id} under name {@code name}, of a session that lives on under another
     * name: it may sit on any node but the primary (see {@link #endSecondaries}).
     */
    void deleteSecondaries(String id, String primaryNode, int name, long until) {
        for (MemcachedNode n : base.nodes.current().nodes()) {
            if (!n.id().equals(primaryNode)) {
                deletes.delete(n.id(), id, name, until);
            }
        }
    }

    /** How many deletes of secondary copies wait for their node. */
    int pendingDeletes() {
        return deletes.size() - deletes.primaries();
    }

    /**
     * Waits (briefly) for the answer to the secondary copy a write {@code sent}, also on a backup thread writing for a
     * waiting request: the user's next request, maybe on another Tomcat, must not find its newer secondary copy
     * overwritten by this one arriving late over this Tomcat's connection.
     */
    void landed(SessionState st, String id, SessionWriter.Sent sent) {
        if (sent.secondary != null) {
            sent.secondary.await();
        }
        if (sent.pairedOutcome != null) {
            secondaryAnswered(st, id, sent.paired, sent.pairedOutcome == SessionStore.Secondary.STORED, sent.now,
                    sent.ttl);
            if (sent.pairedOutcome == SessionStore.Secondary.TIMED_OUT) {
                long waited = base.config.sessionBackupTimeoutMillis();
                base.health.storeFailed(StoreException.timeout("set", base.keys.secondary(id, 0), sent.paired,
                        waited, "secondary copy"), waited);
            }
        }
    }
}
