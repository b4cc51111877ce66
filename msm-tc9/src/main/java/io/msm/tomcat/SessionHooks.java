package io.msm.tomcat;

import io.msm.engine.ManagedSession;
import io.msm.engine.SessionEngine;
import java.util.ArrayList;
import org.apache.catalina.Session;

/**
 * What msm does at the steps of a session's life ({@link MemcachedSession} and the engine call it): a request obtains
 * it or lets it go, the application ends it, another Tomcat takes it over or ends it.
 */
final class SessionHooks {
    private final MemcachedSessionManager manager;

    SessionHooks(MemcachedSessionManager manager) {
        this.manager = manager;
    }

    /** A request obtained {@code s} ({@code Session.access()}). */
    void accessed(MemcachedSession s) {
        SessionEngine e = manager.engine();
        RequestContext rc = RequestContext.current();
        if (rc != null && rc.manager == manager) {
            if (rc.ignored) {
                s.skipNextEndAccess();
                return;
            }
            rc.track(s);
        }
        if (e != null) {
            e.requestStarted(s);
        }
    }

    /** A request that obtained {@code s} was recycled ({@code Session.endAccess()}) without the valve ending it. */
    void accessEnded(MemcachedSession s) {
        SessionEngine e = manager.engine();
        if (e != null && s.isActive()) {
            e.requestEnded(s);
            manager.dropIfIdle(e, s);
        }
    }

    /** The session was invalidated or expired here: remove it from memcached. */
    void sessionEnded(MemcachedSession s) {
        for (String former : s.formerIds) {
            manager.movedIds.remove(former);
        }
        SessionEngine e = manager.engine();
        if (e != null) {
            e.expired(s, new ArrayList<>(s.formerIds));
        }
    }

    /**
     * Sticky: another Tomcat took {@code session} over (see {@link SessionEngine#checkTakeovers()}). Its copy leaves
     * this Tomcat's memory without ending (the session lives on there), and its former ids stop leading to it.
     */
    void lost(ManagedSession session) {
        if (!(session instanceof MemcachedSession)) {
            return;
        }
        MemcachedSession s = (MemcachedSession) session;
        String id = s.getIdInternal();
        manager.removeResident(id, s);
        for (String former : s.formerIds) {
            manager.movedIds.remove(former, id);
        }
    }

    /** A session taken over from another Tomcat was ended there (a logout still running there): it ends here. */
    void endedElsewhere(ManagedSession session) {
        if (session instanceof MemcachedSession && session.isActive()) {
            ((MemcachedSession) session).expire(true);
        }
    }

    /**
     * {@code s}, a copy another Tomcat took over, was ended here by a request: the Tomcat holding it is told, and the
     * session is ended here too if this Tomcat took it back since (it then holds it under the same id).
     */
    void endedAfterTakeover(MemcachedSession s) {
        SessionEngine e = manager.engine();
        if (e != null) {
            e.endedAfterTakeover(s);
        }
        Session back = manager.resident(s.getIdInternal());
        if (back instanceof MemcachedSession && back != s && ((MemcachedSession) back).isActive()) {
            ((MemcachedSession) back).expire(true);
        }
    }

    /**
     * Sticky: the application ends {@code s}, which this Tomcat holds: takeover notices are read first (bounded by
     * {@code operationTimeout}, shared with other requests), so a copy another Tomcat took a moment ago is known as
     * such. One read per node, only for sessions that end.
     */
    void beforeEnd(MemcachedSession s) {
        SessionEngine e = manager.engine();
        if (e != null && e.config().sticky() && manager.resident(s.getIdInternal()) == s) {
            e.checkTakeovers();
        }
    }
}
