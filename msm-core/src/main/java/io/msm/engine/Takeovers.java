package io.msm.engine;

import io.msm.config.MemcachedNode;
import io.msm.internal.LogIds;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.store.StoreException;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Sticky mode with a jvmRoute: sessions that move between Tomcats. A Tomcat that takes a session over leaves a notice
 * for the Tomcat it came from ({@link TakeoverNotices}); that Tomcat reads its notices a few times a second (while
 * it holds sessions) and before a request naming another Tomcat's route, and drops its copy (deleting a late write of
 * it); an end on either side is told to the other. Non-sticky mode, and sticky mode without a jvmRoute, have none of this.
 */
final class Takeovers {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    private final EngineBase base;
    private final ExpiryWatch expiry;
    /** Drops a session another Tomcat took (without waiting for its write on its way). */
    private final Consumer<ManagedSession> retire;
    /** Notices of sessions other Tomcats took over from this one. */
    private final TakeoverNotices notices;
    private final FreshRun takeoverReads = new FreshRun(this::readTakeovers);
    /** While no session is held, the background reads every this many polls. */
    static final int IDLE_POLLS = 10;
    /** Polls skipped since the last background read (the scheduled thread's alone). */
    private int idlePolls;
    /** Ids whose dropped copy's delete waits on the background thread for its late write (deleteRewritten). */
    private final Map<String, java.util.concurrent.CountDownLatch> deferredDeletes = new ConcurrentHashMap<>();

    Takeovers(EngineBase base, ExpiryWatch expiry, Consumer<ManagedSession> retire) {
        this.base = base;
        this.expiry = expiry;
        this.retire = retire;
        this.notices = new TakeoverNotices(base.store, base.ctx.keyPrefix(), base.ctx.owner(), base.ctx.jvmRoute(),
                base.ctx.clock());
        base.threads.prober().scheduleWithFixedDelay(this::poll, TakeoverNotices.POLL_MILLIS,
                TakeoverNotices.POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * The background read of the notices, every {@link TakeoverNotices#POLL_MILLIS}. A notice names a session this
     * Tomcat holds (to drop or end it): while it holds none, there is nothing to act on, and the lists are read only
     * every {@link #IDLE_POLLS}th time, so that they do not fill up meanwhile (a webapp nobody uses, such as Tomcat's
     * docs under a global context.xml, then asks memcached once every few seconds, not four times a second).
     */
    private void poll() {
        if (!holdsAnySession() && ++idlePolls < IDLE_POLLS) {
            return;
        }
        idlePolls = 0;
        checkTakeovers();
    }

    /** The container's answer; {@code true} if it fails (a scheduled task that throws is never run again). */
    private boolean holdsAnySession() {
        try {
            return base.ctx.holdsAnySession();
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, base.logPrefix + "asking whether any session is held failed", e);
            return true;
        }
    }

    /**
     * A session is taken back under {@code id}: the delete of its dropped copy's late write, if one waits, lands
     * first (bounded).
     */
    void awaitDeferredDelete(String id) {
        java.util.concurrent.CountDownLatch deleting = deferredDeletes.get(id);
        if (deleting != null) {
            // the dropped copy's late write, and the delete after it, land before the copy taken back is written
            try {
                deleting.await(2L * base.config.operationTimeoutMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * {@code true} if {@code id} names another Tomcat's jvmRoute (sticky mode with a jvmRoute): the balancer sent the
     * request here, and the session may have moved between Tomcats since this one last served it.
     */
    boolean isOtherTomcats(String id) {
        SessionId p = base.ids.parse(id);
        return p != null && p.jvmRoute() != null && !p.jvmRoute().equals(base.ctx.jvmRoute());
    }

    /**
     * This Tomcat took over the session stored as {@code formerId} in the copy {@code copyHash} names (it loaded
     * it and gave it its own jvmRoute): leaves a notice for the Tomcat of the former id's route, which may still hold
     * a copy, before the response (the user's next request may go there). Never throws.
     */
    void tookOver(String formerId, long copyHash) {
        SessionId p = base.ids.parse(formerId);
        if (!isOtherTomcats(formerId) || p == null) {
            return;
        }
        String node = base.availability.isAvailable(p.nodeId()) ? p.nodeId() : base.selector.forNewSession();
        try {
            notices.announce(p.jvmRoute(), formerId, copyHash, node, base.config.operationTimeoutMillis());
        } catch (StoreException e) {
            base.storeFailed(e, base.config.operationTimeoutMillis());
            LOG.log(Level.DEBUG, () -> base.logPrefix + "no takeover notice for the Tomcat of jvmRoute " + p.jvmRoute()
                    + ": " + e.getMessage());
        }
    }

    /**
     * Reads this Tomcat's takeover notices on every available node and drops the sessions other Tomcats took over
     * (a few times a second, and before a request that names another Tomcat's route looks its session up). Never
     * throws.
     */
    void checkTakeovers() {
        if (!base.threads.stopping()) {
            // a read that started after this call (notices left before this request was sent), shared by the
            // requests that arrive meanwhile; one read at a time, so one read by the background task is applied
            // before a request that may take a session back goes on
            takeoverReads.await(base.config.operationTimeoutMillis());
        }
    }

    /** Reads the notices on every available node, all within {@code deadlineNanos} (the rest are read next time). */
    private void readTakeovers(long deadlineNanos) {
        Map<String, List<TakeoverNotices.Notice>> taken = new java.util.HashMap<>();
        Set<String> endedTokens = new java.util.HashSet<>();
        for (MemcachedNode n : base.nodes.current().nodes()) {
            // rounded up: asked first, a node had the whole operationTimeout, so a timeout makes it suspect at once
            long left = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime() + 999_999);
            if (left <= 1) {
                break;
            }
            if (!base.availability.isAvailable(n.id())) {
                continue;
            }
            try {
                for (TakeoverNotices.Notice notice : notices.collect(base.ctx.jvmRoute(), n.id(), deadlineNanos)) {
                    if (notice.end) {
                        endedTokens.add(notice.token);
                    } else {
                        taken.computeIfAbsent(notice.token, t -> new java.util.ArrayList<>()).add(notice);
                    }
                }
            } catch (StoreException e) {
                base.storeFailed(e, left);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, base.logPrefix + "reading takeover notices failed", e);
            }
        }
        if (!endedTokens.isEmpty()) {
            endTakenSessions(endedTokens);
        }
        if (taken.isEmpty()) {
            return;
        }
        Map<ManagedSession, Long> dropped = new java.util.LinkedHashMap<>();
        for (ManagedSession s : base.ctx.residents()) {
            List<TakeoverNotices.Notice> named = taken.get(notices.token(s.id()));
            if (named == null) {
                continue;
            }
            // only the copy that was taken, or one this session object wrote after it: a session taken back
            // since is another object, which never had that content
            for (TakeoverNotices.Notice notice : named) {
                if (s.state().hadContentLately(notice.hash)) {
                    s.state().takenBy = notice.route;
                    retire.accept(s); // all first: none starts another write while the others' are awaited
                    dropped.put(s, notice.hash);
                    break;
                }
            }
        }
        // writes already on their way end in parallel: one wait for all of them, within the read's deadline (a
        // request's operationTimeout, however many sessions the notices name)
        long waitUntil = Math.max(deadlineNanos, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(
                Math.min(base.config.operationTimeoutMillis(), 50)));
        for (Map.Entry<ManagedSession, Long> d : dropped.entrySet()) {
            SessionRunner.awaitRunnerIdle(d.getKey().state(),
                    TimeUnit.NANOSECONDS.toMillis(waitUntil - System.nanoTime()));
        }
        for (Map.Entry<ManagedSession, Long> d : dropped.entrySet()) {
            deleteRewritten(d.getKey(), d.getValue(), waitUntil, true);
        }
    }

    /**
     * Sessions this Tomcat took over whose former copy a request on the Tomcat they were taken from ended meanwhile (a
     * logout the balancer gave up waiting for): they end here, where they live, with their listeners.
     */
    private void endTakenSessions(Set<String> endedTokens) {
        for (ManagedSession s : base.ctx.residents()) {
            if (s.state().retired || !s.isActive()) {
                continue;
            }
            for (String former : s.formerIds()) {
                if (endedTokens.contains(notices.token(former))) {
                    LOG.log(Level.DEBUG, () -> base.logPrefix + "session " + LogIds.of(s.id())
                            + " ended on the Tomcat it was taken over from: ended here");
                    expiry.endLater(() -> {
                        try {
                            base.ctx.endedElsewhere(s);
                        } catch (RuntimeException | LinkageError e) {
                            LOG.log(Level.WARNING, base.logPrefix
                                    + "ending a session ended on another Tomcat failed", e);
                        }
                    });
                    break;
                }
            }
        }
    }

    /**
     * Sticky: a request still running here ended {@code s}, a copy another Tomcat took over meanwhile (the balancer
     * gave up on this Tomcat and sent the user on): the Tomcat that took it is told to end it, so a logout anywhere
     * ends the session everywhere. One append, on the request's thread, bounded by {@code operationTimeout}.
     */
    void endedAfterTakeover(ManagedSession s) {
        SessionState st = s.state();
        String takenBy = st.takenBy;
        SessionId p = base.ids.parse(s.id());
        if (takenBy == null || p == null) {
            return;
        }
        String node = base.availability.isAvailable(p.nodeId()) ? p.nodeId() : base.selector.forNewSession();
        try {
            notices.announceEnd(takenBy, s.id(), node, base.config.operationTimeoutMillis());
        } catch (StoreException e) {
            base.storeFailed(e, base.config.operationTimeoutMillis());
            LOG.log(Level.WARNING, () -> base.logPrefix + "session " + LogIds.of(s.id())
                    + " ended here after the Tomcat of jvmRoute " + takenBy
                    + " took it over, which could not be told: it lives on there (" + e.getMessage() + ")");
        }
    }

    /**
     * For a session retired by a notice: if this Tomcat wrote it again after the copy the other Tomcat took (a
     * request it still served late), that write recreated the key the other deleted: deleted here, after the
     * session's runner finished, before this Tomcat may take the session back under the same id.
     */
    private void deleteRewritten(ManagedSession s, long takenHash, long deadlineNanos, boolean mayDefer) {
        SessionState st = s.state();
        boolean running;
        synchronized (st) {
            running = st.running;
        }
        if (running && mayDefer) {
            // its write outlasted the wait: the background thread waits for it (bounded) and deletes after it, so
            // the request goes on; a take-back of this very session here waits for that delete (relocated)
            String id = s.id();
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            deferredDeletes.put(id, done);
            try {
                base.threads.prober().execute(() -> {
                    try {
                        SessionRunner.awaitRunnerIdle(st, base.config.operationTimeoutMillis());
                        deleteRewritten(s, takenHash, System.nanoTime()
                                + TimeUnit.MILLISECONDS.toNanos(base.config.operationTimeoutMillis()), false);
                    } finally {
                        deferredDeletes.remove(id, done);
                        done.countDown();
                    }
                });
            } catch (RejectedExecutionException stopping) {
                // stopping: nothing is taken back any more
                deferredDeletes.remove(id, done);
                done.countDown();
            }
            return;
        }
        String id = s.id();
        SessionId p = base.ids.parse(id);
        if (st.stored && st.lastCopyHash() != takenHash && id.equals(st.storedId) && p != null
                && base.availability.isAvailable(p.nodeId())) {
            // a little time even past the read's deadline: a stale key left here would be taken over again later
            long millis = Math.max(TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()),
                    Math.min(base.config.operationTimeoutMillis(), 50));
            try {
                base.store.delete(p.nodeId(), base.key(id), millis);
                base.stats.count(Counter.DELETES);
            } catch (StoreException e) {
                base.storeFailed(e, millis);
            }
        }
    }
}
