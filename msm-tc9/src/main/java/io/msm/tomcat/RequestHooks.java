package io.msm.tomcat;

import io.msm.engine.SessionEngine;
import org.apache.catalina.Session;

/**
 * What msm does at the steps of a request ({@link SessionTrackingValve}, {@link ResponseGuard}): chooses among
 * several session cookies, takes and releases the session's lock (non-sticky locking), moves a session off an
 * unavailable node before the webapp runs, stores the request's sessions before the response leaves, and ends them
 * at the request's end.
 */
final class RequestHooks {
    private final MemcachedSessionManager manager;

    RequestHooks(MemcachedSessionManager manager) {
        this.manager = manager;
    }

    /**
     * Start of a (not ignored) request in non-sticky mode with locking: takes the lock of the requested session.
     *
     * @return {@code false} if the lock could not be taken and {@code lockFailure="fail"} (answer 503)
     */
    boolean lockIfNeeded(RequestContext rc) {
        SessionEngine e = manager.engine();
        String requested = rc.request.getRequestedSessionId();
        if (e == null || requested == null || !e.locks() || !e.isValidId(requested) || rc.isMissing(requested)
                || !e.needsLock(path(rc))) {
            return true;
        }
        rc.lock = e.lock(requested);
        return rc.lock != null || e.config().lockFailure() == io.msm.config.LockFailure.PROCEED;
    }

    /** Releases the request's session lock, if it holds one. */
    void unlock(RequestContext rc) {
        SessionEngine e = manager.engine();
        io.msm.engine.SessionLock lock = rc.lock;
        rc.lock = null;
        if (e != null && lock != null) {
            e.unlock(lock);
        }
    }

    /** The path lockingMode decides on: the decoded request path (no path parameters, no query). */
    private static String path(RequestContext rc) {
        String decoded = rc.request.getDecodedRequestURI();
        return decoded != null ? decoded : rc.request.getRequestURI();
    }

    /** Start of a (not ignored) request: of several session cookies, takes the one the request means. */
    void chooseRequestedSession(RequestContext rc) {
        SessionEngine e = manager.engine();
        if (e != null) {
            SessionCookieChoice.choose(rc, manager.getContext(), e::isValidId, id -> holdsValid(e, id), e::mayExist);
        }
    }

    /** Whether this Tomcat holds a valid, current session {@code id} (or one moved from it) in memory. */
    private boolean holdsValid(SessionEngine e, String id) {
        Session s = manager.resident(id);
        if (s == null) {
            s = SessionLookup.movedResident(manager, id);
        }
        return s != null && SessionLookup.isCurrent(e, s) && s.isValid();
    }

    /** Start of a (not ignored) request: a session held here whose node is down moves to a live node now. */
    void requestStarting(RequestContext rc) {
        SessionEngine e = manager.engine();
        String requested = rc.request.getRequestedSessionId();
        if (e == null || requested == null) {
            return;
        }
        Session s = manager.resident(requested);
        if (s instanceof MemcachedSession && ((MemcachedSession) s).isActive()) {
            MemcachedSession ms = (MemcachedSession) s;
            if (manager.moves.relocate(e, ms, rc)) {
                e.store(ms);
            }
        }
    }

    /** {@code true} if the webapp hands the response to msm's {@link ResponseGuard}: writes that must precede it. */
    boolean guardsResponse() {
        SessionEngine e = manager.engine();
        return e != null && !(e.config().sticky() && e.config().sessionBackupAsync());
    }

    /**
     * The response may reach the client while the request still runs ({@link ResponseGuard}): each session the
     * request used is stored now if it may have changed since the last time; its end stores later changes.
     */
    void responseLeaving(RequestContext rc) {
        SessionEngine e = manager.engine();
        if (e == null || rc.ignored || rc.ended || rc.sessionCount() == 0) {
            return;
        }
        for (int i = 0, n = rc.sessionCount(); i < n; i++) {
            MemcachedSession s = rc.session(i);
            // non-sticky: a write that failed (its node died) moves the session to a live node if the cookie can
            // still change, as at the request's end
            if (s.isActive() && e.responseLeaving(s)) {
                rc.changedEarly = true; // lockingMode="auto": the request changed the session
                if (!e.config().sticky() && e.isUnsaved(s) && idsOnlyInCookies(rc) && manager.moves.relocate(e, s, rc)) {
                    e.storeNow(s);
                }
            }
        }
    }

    private boolean idsOnlyInCookies(RequestContext rc) {
        return rc.request.isRequestedSessionIdFromCookie()
                || !manager.getContext().getServletContext().getEffectiveSessionTrackingModes()
                        .contains(javax.servlet.SessionTrackingMode.URL);
    }

    /**
     * End of a request that did not go asynchronous, before the response is sent: each session it used is ended
     * here, so a synchronous backup completes before the client sees the response.
     */
    void requestFinished(RequestContext rc) {
        rc.ended = true;
        SessionEngine e = manager.engine();
        if (e == null || rc.ignored) {
            return;
        }
        boolean idsOnlyInCookies = idsOnlyInCookies(rc);
        boolean changed = rc.changedEarly;
        for (int i = 0, n = rc.sessionCount(); i < n; i++) {
            MemcachedSession s = rc.session(i);
            if (s.isActive()) {
                if (idsOnlyInCookies) {
                    // its node may have died while the request ran: store it on a live one right away
                    manager.moves.relocate(e, s, rc);
                }
                s.skipNextEndAccess();
                changed |= e.requestEnded(s);
                if (!e.config().sticky() && e.isUnsaved(s) && idsOnlyInCookies && manager.moves.relocate(e, s, rc)) {
                    // non-sticky: the write failed (its node died meanwhile); the next request may reach any
                    // Tomcat, so store the session on a live node before answering, under its new id
                    changed |= e.storeNow(s);
                }
                manager.dropIfIdle(e, s);
            } else {
                changed = true; // invalidated
            }
        }
        if (rc.sessionCount() > 0 && e.learnsPaths()) {
            e.learn(path(rc), changed);
        }
    }
}
