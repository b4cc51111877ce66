package io.msm.tomcat;

import io.msm.engine.SessionEngine;
import java.util.ArrayList;
import java.util.List;
import org.apache.catalina.authenticator.Constants;

/**
 * A session's id changes: msm moves it (to this Tomcat's jvmRoute, to a live node), its former ids staying aliases
 * of the new one; the application changes it (login, {@code changeSessionId()}), and no former id leads to it any more.
 */
final class SessionMoves {
    private final MemcachedSessionManager manager;

    SessionMoves(MemcachedSessionManager manager) {
        this.manager = manager;
    }

    /**
     * Gives the request's own session the id it should have here (this jvmRoute, an available node) and the client
     * the matching cookie. Skipped if the response is already committed (the client could not learn the new id) or
     * the session is not this request's (a thread may touch another request's session).
     *
     * @return {@code true} if the id changed
     */
    boolean relocate(SessionEngine e, MemcachedSession s, RequestContext rc) {
        String oldId = s.getIdInternal();
        String newId = e.relocate(s, oldId);
        if (newId == null || !rc.isOwn(oldId) || rc.request.getResponse() == null
                || rc.request.getResponse().isCommitted() || manager.resident(newId) != null) {
            return false;
        }
        move(e, s, newId);
        SessionLookup.tellClient(rc, oldId, newId);
        return true;
    }

    /** Moves a session to {@code newId}, keeping its former ids as aliases. */
    void move(SessionEngine e, MemcachedSession s, String newId) {
        String oldId = s.getIdInternal();
        s.movingTo = newId;
        try {
            manager.changeSessionId(s, newId, true, true);
        } finally {
            s.movingTo = null;
        }
        e.relocated(oldId, newId);
        s.state().movedHere(e.now());
        e.expiry().moved(oldId, newId, s.getMaxInactiveInterval());
        s.formerIds.add(oldId);
        for (String former : s.formerIds) {
            manager.movedIds.put(former, newId);
        }
    }

    /** {@code ms} has {@code newId} now (in Tomcat's map), by a move of msm's or the application's change. */
    void idChanged(MemcachedSession ms, String oldId, String newId) {
        // FORM login checks this note against the requested id; it tracks the session's current id.
        if (oldId != null && oldId.equals(ms.getNote(Constants.SESSION_ID_NOTE))) {
            ms.noteIdChange(newId);
        }
        ms.state().metadataChanged();
        SessionEngine e = manager.engine();
        if (e != null && oldId != null) {
            e.expiry().idChanged(oldId); // no longer listed or watched under its former id
        }
        if (oldId != null && !newId.equals(ms.movingTo)) {
            applicationChangedId(ms, oldId);
        }
    }

    /**
     * The application gave the session a new id (login, {@code changeSessionId()}): no id it had before leads to it
     * any more, here or through a copy left in memcached, so a pre-login id never reaches the logged-in session.
     */
    private void applicationChangedId(MemcachedSession s, String oldId) {
        List<String> abandoned = new ArrayList<>(s.formerIds);
        abandoned.add(oldId);
        for (String former : s.formerIds) {
            manager.movedIds.remove(former);
        }
        s.formerIds.clear();
        SessionEngine e = manager.engine();
        if (e != null) {
            e.idsAbandoned(abandoned, s.getMaxInactiveInterval());
        }
    }
}
