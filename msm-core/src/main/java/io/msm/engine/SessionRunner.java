package io.msm.engine;

import io.msm.internal.LogIds;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics.Counter;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The per-session runner: all memcached work of one session runs through one runner at a time, in order. Work asked
 * while a runner runs is coalesced into its next round, so the final state is always written, never skipped. A
 * request's thread does only the write it waits for; the rest goes to a backup thread. Sticky asynchronous backups
 * wait for {@code minBackupInterval} between writes.
 */
final class SessionRunner {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    private final EngineBase base;
    private final SessionEnds ends;
    private final SessionWriter writer;
    private final SessionMode mode;
    /** minBackupInterval in ns, 0 when it does not apply (non-sticky, synchronous backups, or not set). */
    private final long minBackupIntervalNanos;
    /** Sessions whose next backup waits for minBackupInterval; their runner stays "running" meanwhile. */
    private final Map<SessionState, Runnable> delayed = new ConcurrentHashMap<>();
    /**
     * Nodes whose pass ({@link #storeAgainOn}) is queued and has not started: it reads what to store when it starts,
     * so it covers every return until then, and a node that comes and goes while the backup threads are busy queues
     * one pass, not one per return.
     */
    private final Set<String> passQueued = ConcurrentHashMap.newKeySet();

    SessionRunner(EngineBase base, SessionMode mode, SessionEnds ends, SessionWriter writer) {
        this.base = base;
        this.ends = ends;
        this.writer = writer;
        this.mode = mode;
        // only where no request waits for its write (sticky asynchronous backups)
        this.minBackupIntervalNanos = !mode.requestWaitsForWrite()
                ? TimeUnit.MILLISECONDS.toNanos(base.config.minBackupIntervalMillis()) : 0;
    }

    /** What a session's runner is asked to do. */
    enum Work {
        /** Store the session if its stored form changed (then refresh the expiry if needed). */
        WRITE,
        /** Refresh the stored copy's expiry if it would expire before the session. */
        TOUCH,
        /** Check that memcached still holds the copy (a node returned, maybe restarted empty); store it if not. */
        VERIFY,
        /**
         * The session ended: delete its copies (tombstones, non-sticky). Whatever work a runner finds, it deletes the
         * copies of a session no longer active; a session still active when the runner gets to it is touched, as a
         * TOUCH would.
         */
        DELETE
    }

    /**
     * Asks the session's runner for some work. Starts the runner if none runs; otherwise the running one picks the
     * request up (coalescing).
     *
     * @param wait run on this thread / wait until done, bounded by {@code sessionBackupTimeout}
     */
    void run(ManagedSession s, Work work, boolean wait) {
        SessionState st = s.state();
        long seq;
        boolean start;
        synchronized (st) {
            switch (work) {
                case WRITE: st.writeWanted = true; break;
                case TOUCH: st.touchWanted = true; break;
                case DELETE: st.deleteWanted = true; break;
                default: st.verifyWanted = true;
            }
            seq = ++st.requested;
            start = !st.running;
            if (start) {
                st.running = true;
            } else {
                st.coalesced++; // counted into the statistics by the runner: no shared counter on this path
            }
        }
        if (start && wait) {
            drain(s, st, seq, writer.onRequest);
        } else if (start) {
            submitDrain(s, st);
        } else {
            if (wait) {
                awaitCompleted(s, st, seq, mode.coalescedWaitMillis());
            }
        }
    }

    private void submitDrain(ManagedSession s, SessionState st) {
        try {
            base.threads.execute(() -> drain(s, st, Long.MAX_VALUE, writer.background));
        } catch (RejectedExecutionException | Error e) {
            // stopping, or no thread could be started: give up this round; the next request starts a runner again
            synchronized (st) {
                st.running = false;
                st.completed = st.requested;
                st.notifyAll();
            }
            if (e instanceof Error) {
                LOG.log(Level.WARNING, base.logPrefix + "cannot start a backup of session " + LogIds.of(s.id()), e);
            }
        }
    }

    /**
     * Runs the session's pending work until every request up to {@code untilSeq} is done, then either stops (nothing
     * more requested) or hands the rest to a backup thread (a request thread never works for later requests).
     *
     * @param wc where it runs: on a request thread only the write itself is done; touches and deletes are deferred
     */
    private void drain(ManagedSession s, SessionState st, long untilSeq, WriteContext wc) {
        while (true) {
            long seq;
            synchronized (st) {
                if (st.coalesced > 0) {
                    base.stats.add(Counter.BACKUPS_COALESCED, st.coalesced);
                    st.coalesced = 0;
                }
                if (st.completed >= st.requested) {
                    st.running = false;
                    st.notifyAll();
                    return;
                }
                if (st.completed >= untilSeq) {
                    break;
                }
                seq = st.requested;
            }
            if (!wc.onRequestThread && minBackupIntervalNanos > 0 && !base.threads.stopping() && s.isActive()) {
                long wait = st.lastWriteNanos + minBackupIntervalNanos - System.nanoTime();
                if (st.lastWriteNanos != 0 && wait > 0) {
                    if (delay(s, st, wait)) {
                        return; // the runner stays running: what requests ask meanwhile goes into the delayed run
                    }
                    // stopping meanwhile: written now, on this thread
                }
            }
            try {
                runOnce(s, st, wc);
            } catch (RuntimeException | Error e) {
                base.stats.count(Counter.BACKUP_FAILURES);
                LOG.log(Level.WARNING, base.logPrefix + "backup of session " + LogIds.of(s.id()) + " failed", e);
            }
            synchronized (st) {
                st.completed = seq;
                st.notifyAll();
            }
        }
        submitDrain(s, st);
    }

    /**
     * Continues the session's runner after {@code nanos} (minBackupInterval). Counted for
     * {@link EngineThreads#awaitIdle(long)}; {@link SessionEngine#stop} runs every delayed backup at once.
     *
     * @return {@code false} if the engine is stopping and the caller must write now instead
     */
    private boolean delay(ManagedSession s, SessionState st, long nanos) {
        base.threads.started();
        // run early (at stop, or when the session is retired): handed to a backup thread
        Runnable resume = new Runnable() {
            @Override
            public void run() {
                if (delayed.remove(st, this)) {
                    try {
                        submitDrain(s, st);
                    } finally {
                        base.threads.done();
                    }
                }
            }
        };
        delayed.put(st, resume);
        boolean scheduled;
        try {
            // run when due: on the backup thread that waited, no hand-off
            base.threads.schedule(() -> {
                if (delayed.remove(st, resume)) {
                    try {
                        drain(s, st, Long.MAX_VALUE, writer.background);
                    } finally {
                        base.threads.done();
                    }
                }
            }, nanos);
            scheduled = true;
        } catch (RejectedExecutionException stoppingNow) {
            scheduled = false;
        }
        // stop() may have flushed the delayed runs before this one was registered, and shut the backup threads down:
        // a run handed to them now would be refused and the session's last change lost
        if ((base.threads.stopping() || !scheduled) && delayed.remove(st, resume)) {
            base.threads.done();
            return false;
        }
        return true;
    }

    /** Runs every backup waiting for minBackupInterval now (at stop). */
    void flushDelayed() {
        for (Map.Entry<SessionState, Runnable> e : delayed.entrySet()) {
            e.getValue().run();
        }
    }

    private void awaitCompleted(ManagedSession s, SessionState st, long seq, long maxMillis) {
        if (!awaitOn(st, () -> st.completed >= seq, maxMillis)) {
            base.stats.count(Counter.BACKUP_TIMEOUTS);
            LOG.log(Level.DEBUG, () -> base.logPrefix + "stopped waiting for the backup of session " + LogIds.of(s.id())
                    + " after " + maxMillis + " ms; it continues in the background");
        }
    }

    private void runOnce(ManagedSession s, SessionState st, WriteContext wc) {
        boolean write;
        boolean touch;
        boolean verify;
        synchronized (st) {
            write = st.writeWanted;
            touch = st.touchWanted || st.deleteWanted; // DELETE: see Work
            verify = st.verifyWanted;
            st.writeWanted = false;
            st.touchWanted = false;
            st.deleteWanted = false;
            st.verifyWanted = false;
        }
        if (st.retired) {
            return; // another Tomcat took it over: its copy is the session now
        }
        if (!s.isActive()) {
            base.unsaved.remove(s);
            ends.deleteStored(st); // a synchronous logout deletes before its response
            return;
        }
        if (write && writer.writeIfChanged(s, st, wc)) {
            return;
        }
        if (!(write || touch || verify)) {
            return;
        }
        if (wc.onRequestThread) {
            defer(st, verify ? Work.VERIFY : Work.TOUCH); // memcached calls beyond the write go to a backup thread
        } else {
            writer.touchIfNeeded(s, st, verify);
        }
    }

    /** Asks the running runner for more work, from inside it (it hands the work to a backup thread). */
    static void defer(SessionState st, Work work) {
        synchronized (st) {
            if (work == Work.VERIFY) {
                st.verifyWanted = true;
            } else {
                st.touchWanted = true;
            }
            st.requested++;
        }
    }

    /**
     * Another Tomcat serves {@code s} now (sticky): it is never written, touched or deleted from here again, its id is
     * not loaded here again, and the container forgets it; a write already on its way is not waited for.
     */
    void retire(ManagedSession s) {
        SessionState st = s.state();
        st.retired = true;
        base.unsaved.remove(s);
        Runnable waiting = delayed.get(st);
        if (waiting != null) {
            waiting.run(); // a backup waiting for minBackupInterval ends now (it does nothing for a retired session)
        }
        ends.end(s.id(), s.maxInactiveInterval());
        LOG.log(Level.DEBUG, () -> base.logPrefix + "another Tomcat took over session " + LogIds.of(s.id())
                + "; its copy here is dropped");
        base.ctx.lost(s);
    }

    /**
     * Node {@code nodeId} is available again: the sessions that could not be stored are stored, the deletes that
     * waited go, and the sessions stored there are checked (it may have restarted empty), on a backup thread.
     */
    void nodeRecovered(String nodeId) {
        LOG.log(Level.WARNING, () -> base.logPrefix + "memcached node " + nodeId + " is available again; storing "
                + base.unsaved.size() + " session(s) changed meanwhile");
        storeAgainOn(nodeId);
    }

    /**
     * Node {@code nodeId} was added while running and connected at once, so no return is reported: if it was added
     * again (discovery lost it for a while), what could not be stored meanwhile is stored now, and what this Tomcat
     * holds under its id is checked there (it may have restarted empty), as after any return. A node added for the
     * first time holds nothing of this Tomcat's: nothing is asked of it.
     */
    void nodeAdded(String nodeId) {
        LOG.log(Level.DEBUG, () -> base.logPrefix + "memcached node " + nodeId + " added and connected");
        storeAgainOn(nodeId);
    }

    /** What could not be stored while node {@code nodeId} was away, and what it should hold, stored (in the background). */
    private void storeAgainOn(String nodeId) {
        writer.nodeRecovered();
        if (!passQueued.add(nodeId)) {
            return; // the pass queued for it has not started: it covers this return too
        }
        try {
            base.threads.execute(() -> {
                passQueued.remove(nodeId); // a return from now on may find the node empty again: another pass
                Set<ManagedSession> writing = base.unsaved.snapshot();
                for (ManagedSession s : writing) {
                    SessionId p = base.ids.parse(s.id());
                    if (p != null && base.availability.isAvailable(p.nodeId())) {
                        run(s, Work.WRITE, false);
                    }
                }
                ends.retryDeletes(nodeId);
                verifyHeldOn(nodeId, writing); // the node may have restarted empty
            });
        } catch (RejectedExecutionException | Error e) {
            passQueued.remove(nodeId); // stopping, or no thread could be started: the node's next return tries again
            if (e instanceof Error) {
                LOG.log(Level.WARNING, base.logPrefix + "cannot store again what memcached node " + nodeId
                        + " should hold", e);
            }
        }
    }

    /** Makes sure node {@code nodeId} still holds what this Tomcat stored there (but {@code writing}'s). */
    private void verifyHeldOn(String nodeId, Set<ManagedSession> writing) {
        for (ManagedSession s : base.ctx.residents()) {
            String storedId = s.state().storedId;
            SessionId p = storedId == null ? null : base.ids.parse(storedId);
            if (p != null && p.nodeId().equals(nodeId) && s.isActive() && !writing.contains(s)) {
                run(s, Work.VERIFY, false);
            }
        }
    }

    /** Waits until no runner runs for {@code st}, at most {@code maxMillis}. */
    static void awaitRunnerIdle(SessionState st, long maxMillis) {
        awaitOn(st, () -> !st.running, maxMillis);
    }

    /**
     * Waits on {@code st}'s monitor (its runner notifies it) until {@code done}, read under the monitor, is true, at
     * most {@code maxMillis}.
     *
     * @return {@code false} if {@code maxMillis} passed first; {@code true} if done, or if the thread was interrupted
     *     (its interrupt status kept)
     */
    private static boolean awaitOn(SessionState st, BooleanSupplier done, long maxMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        synchronized (st) {
            while (!done.getAsBoolean()) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                try {
                    st.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return true;
                }
            }
        }
        return true;
    }
}
