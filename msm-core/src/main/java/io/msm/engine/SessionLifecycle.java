package io.msm.engine;

import io.msm.stats.MsmStatistics.Counter;
import java.util.Collection;

/**
 * What the engine does at each step of a session's life in this Tomcat: created, a request's end (write or touch),
 * a response leaving early, an explicit store, released from memory, ended. Each step asks the session's runner for
 * its work; the {@link SessionMode} says whether the request waits for it.
 */
final class SessionLifecycle {

    private final EngineBase base;
    private final SessionMode mode;
    private final SessionRunner runner;
    private final SessionEnds ends;
    private final ExpiryWatch expiry;

    SessionLifecycle(EngineBase base, SessionMode mode, SessionRunner runner, SessionEnds ends, ExpiryWatch expiry) {
        this.base = base;
        this.mode = mode;
        this.runner = runner;
        this.ends = ends;
        this.expiry = expiry;
    }

    /** A new session was created in this Tomcat; it is stored at the end of the request. */
    void created(ManagedSession session) {
        base.stats.count(Counter.SESSIONS_CREATED);
        base.usualMaxInactive = session.maxInactiveInterval();
        session.state().metadataChanged();
    }

    /**
     * Non-sticky: {@code session} left this Tomcat's memory (no request uses it). With {@code idleSessionCache}, its
     * attribute objects are kept for its next load here, if memcached holds exactly what they were written from or
     * read into and nothing is pending.
     */
    void released(ManagedSession session) {
        if (base.idle == null) {
            return;
        }
        SessionState st = session.state();
        IdleSessionCache.Version v = st.version;
        st.version = null;
        String id = session.id();
        if (v != null && session.isActive() && st.isStoredAs(id) && !base.unsaved.contains(session) && st.isSettled()) {
            // the whole object only for a session loaded here before: it has shown it comes back to this Tomcat
            base.idle.keep(id, v, session, st.loadedHere ? st.lastBlob : null, base.ctx.clock().getAsLong(),
                    session.maxInactiveInterval());
        }
    }

    /**
     * A request that used {@code session} ended: store the session if it may have changed (and its stored form
     * differs), or refresh the stored copy's expiry if only read. In synchronous and non-sticky mode a needed write
     * happens before this method returns (bounded by {@code sessionBackupTimeout} or {@code operationTimeout});
     * otherwise it is queued on the backup threads.
     *
     * @return {@code true} if a change was stored before returning (synchronous and non-sticky mode)
     */
    boolean requestEnded(ManagedSession session) {
        long now = base.ctx.clock().getAsLong();
        SessionState st = session.state();
        mode.requestEnding(session, now);
        if (st.requestEnded(now)) {
            // non-sticky: the user's next request may reach another Tomcat, so the write completes first
            long hashBefore = st.storedHash;
            boolean storedBefore = st.stored;
            String idBefore = st.storedId;
            boolean wait = mode.requestWaitsForWrite();
            runner.run(session, SessionRunner.Work.WRITE, wait);
            return wait && (st.storedHash != hashBefore || st.stored != storedBefore
                    || !java.util.Objects.equals(st.storedId, idBefore));
        } else if (mode.wantsTouch(session, st, now)) {
            runner.run(session, SessionRunner.Work.TOUCH, false);
        }
        return false;
    }

    /**
     * The response of a request that uses {@code session} may reach the client while the request still runs (the
     * application flushes or closes it, or writes the last byte of its declared length). In non-sticky and
     * synchronous mode the session is stored now if it may have changed, as it would be at the request's end, so
     * the client cannot send its next request, maybe to another Tomcat, before memcached holds the change. A later
     * call stores it again only if a request accessed it since; the request's end stores what changed after the
     * last call (it serializes the session again and skips the write if nothing did). Sticky asynchronous mode does
     * nothing here.
     *
     * @return {@code true} if the session's stored form changed now, or could not be stored
     */
    boolean responseLeaving(ManagedSession session) {
        SessionState st = session.state();
        if (!mode.requestWaitsForWrite() || !st.changedSinceResponseLeft()) {
            return false;
        }
        long hashBefore = st.storedHash;
        boolean storedBefore = st.stored;
        String idBefore = st.storedId;
        runner.run(session, SessionRunner.Work.WRITE, true);
        return st.storedHash != hashBefore || st.stored != storedBefore
                || !java.util.Objects.equals(st.storedId, idBefore) || base.unsaved.contains(session);
    }

    /** Stores the session on this thread (waiting at most {@code operationTimeout}); {@code true} if stored. */
    boolean storeNow(ManagedSession session) {
        runner.run(session, SessionRunner.Work.WRITE, true);
        return session.state().isStoredAs(session.id()) && !base.unsaved.contains(session);
    }

    /** Stores the session now, on a backup thread (e.g. after it moved to another node outside a request end). */
    void store(ManagedSession session) {
        session.state().metadataChanged();
        runner.run(session, SessionRunner.Work.WRITE, false);
    }

    /**
     * The session was invalidated or expired in this Tomcat: delete it from memcached. Synchronous mode deletes
     * before returning (so a logout is effective on every Tomcat at once); asynchronous mode queues it.
     */
    void expired(ManagedSession session) {
        if (session.state().retired) {
            return; // a copy another Tomcat took over: the session lives on there
        }
        expiry.forget(session.id());
        base.unsaved.remove(session);
        SessionState st = session.state();
        st.version = null;
        if (base.idle != null) {
            base.idle.forget(session.id());
        }
        int mi = session.maxInactiveInterval();
        ends.end(session.id(), mi);
        String stored = st.storedId;
        if (stored != null) {
            ends.end(stored, mi);
        }
        for (String attempted : st.attempted) {
            ends.end(attempted, mi);
        }
        // Always through the runner: a write still running for this session finishes first, then is deleted.
        runner.run(session, SessionRunner.Work.DELETE, mode.requestWaitsForWrite());
    }

    /**
     * {@link #expired(ManagedSession)} for a session msm moved from other ids (failovers): copies under those are
     * deleted too (a Tomcat that still served a late request under one may have written it again), and never loaded
     * here again.
     */
    void expired(ManagedSession session, Collection<String> formerIds) {
        if (session.state().retired) {
            return; // ids of a copy another Tomcat took over: they are that Tomcat's to end
        }
        session.state().attempted.addAll(formerIds);
        ends.endAll(formerIds, session.maxInactiveInterval());
        expired(session);
    }
}
