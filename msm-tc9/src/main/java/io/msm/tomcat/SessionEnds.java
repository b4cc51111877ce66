package io.msm.tomcat;

import io.msm.engine.ExpiryWatch;
import io.msm.engine.LoadResult;
import io.msm.engine.SessionEngine;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.catalina.Session;
import org.apache.catalina.session.StandardSession;

/**
 * How sessions end in Tomcat with msm, beyond a request's {@code invalidate()}: timeouts (once in the cluster, with
 * the session's last state, on whichever Tomcat claims it; {@link ExpiryWatch}), and Tomcat's manager webapp, which
 * lists and expires the sessions of {@code findSessions()}: msm adds the sessions this Tomcat watches and does not
 * hold ({@link Listed}), and expires one by loading its last state from memcached.
 */
final class SessionEnds implements ExpiryWatch.Container {

    /** What Tomcat's own timeout check does with a session it holds. */
    enum Decision {
        /** Expire it with its listeners: this Tomcat ends it. */
        FIRE,
        /** Expire it without listeners: it lives on elsewhere (taken over) or another Tomcat ends it. */
        SILENT,
        /** Leave it to the watch (non-sticky: memcached knows whether another Tomcat served it since). */
        KEEP
    }

    private final MemcachedSessionManager manager;
    private final SessionEngine engine;

    SessionEnds(MemcachedSessionManager manager, SessionEngine engine) {
        this.manager = manager;
        this.engine = engine;
    }

    // ====================================================================== timeouts

    /** Tomcat found {@code s} timed out in its memory. */
    Decision timingOut(MemcachedSession s) {
        if (!engine.config().sticky()) {
            if (engine.isUnsaved(s)) {
                // held here only because no node took it (an outage): its latest state is nowhere else, so it ends
                // here, unless another Tomcat claimed the end of an older copy; with every node down (no claim can
                // be asked) the watch could only give it up, without sessionDestroyed
                return engine.expiry().claim(s.getIdInternal(), s.getMaxInactiveInterval()) == ExpiryWatch.Claim.LOST
                        ? Decision.SILENT : Decision.FIRE;
            }
            engine.expiry().checkNow(s);
            if (s.state().requestsInFlight() == 0) {
                manager.remove(s, false); // memory only: memcached holds it
            }
            return Decision.KEEP;
        }
        // sticky: the session lives here unless another Tomcat took it over (it claimed its end)
        return engine.expiry().claimHeld(s) == ExpiryWatch.Claim.LOST ? Decision.SILENT : Decision.FIRE;
    }

    /**
     * Non-sticky: a request found its session timed out in memcached ({@link LoadResult#timedOut()}). As in Tomcat,
     * it is not revived: it ends here if this Tomcat claims it; the request gets a new session either way.
     */
    void timedOutOnLoad(LoadResult loaded) {
        String id = loaded.data().id();
        if (engine.expiry().claim(id, loaded.data().maxInactiveInterval()) == ExpiryWatch.Claim.WON) {
            expire(loaded);
        }
    }

    @Override
    public boolean holds(String id) {
        return manager.resident(id) != null;
    }

    /** Ends the session read in {@code loaded}: its listeners fire here, then msm deletes it. */
    @Override
    public void expire(LoadResult loaded) {
        long lastAccessed = loaded.lastAccessedTime();
        MemcachedSession s;
        if (loaded.reusedSession() instanceof MemcachedSession) { // the object this Tomcat kept (non-sticky)
            s = (MemcachedSession) loaded.reusedSession();
            s.returned(lastAccessed, lastAccessed);
        } else {
            s = manager.emptySession();
            s.restore(loaded.data(), loaded.attributes(), lastAccessed, lastAccessed);
            s.detachedId(loaded.data().id()); // never in the manager's map: a request cannot find it half-ended
        }
        engine.loaded(s, loaded);
        s.expire(true);
    }

    // ====================================================================== the manager webapp

    /**
     * Expires session {@code id} as the manager webapp (or JMX) asks: the one held here, or its last state loaded
     * from memcached; its listeners fire here.
     *
     * @return {@code true} if a session was expired
     */
    boolean expireById(String id) {
        Session resident = manager.resident(id);
        if (resident != null) {
            boolean valid = resident.isValid();
            resident.expire();
            return valid;
        }
        if (!engine.isValidId(id)) {
            return false;
        }
        LoadResult r = engine.load(id);
        if (!r.isFound()) {
            return false;
        }
        expire(r);
        return true;
    }

    /** {@code residents} plus the sessions watched here that this Tomcat does not hold. */
    Session[] withWatched(Session[] residents) {
        List<Session> all = new ArrayList<>(List.of(residents));
        Set<String> held = new HashSet<>();
        for (Session s : residents) {
            held.add(s.getIdInternal());
        }
        for (ExpiryWatch.Watched w : engine.expiry().watched()) {
            if (!held.contains(w.id)) {
                all.add(new Listed(manager, w));
            }
        }
        return all.toArray(new Session[0]);
    }

    /**
     * A session as the manager webapp sees it when this Tomcat does not hold it: its id, timeout, and when it was
     * last accessed as seen here; no attributes. Expiring or invalidating it expires the session itself.
     */
    static final class Listed extends StandardSession {
        private static final long serialVersionUID = 1L;

        Listed(MemcachedSessionManager manager, ExpiryWatch.Watched w) {
            super(manager);
            this.id = w.id;
            this.creationTime = w.created > 0 ? w.created : w.lastAccessed;
            this.lastAccessedTime = w.lastAccessed;
            this.thisAccessedTime = w.lastAccessed;
            this.maxInactiveInterval = w.maxInactive;
            this.isNew = false;
            this.isValid = true;
        }

        @Override
        public boolean isValid() {
            return isValid;
        }

        @Override
        public void expire(boolean notify) {
            if (!isValid) {
                return;
            }
            isValid = false;
            ((MemcachedSessionManager) manager).expireListed(id);
        }

        @Override
        public void access() {
        }

        @Override
        public void endAccess() {
        }
    }
}
