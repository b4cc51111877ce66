package io.msm.tomcat;

import io.msm.engine.LoadResult;
import io.msm.engine.SessionEngine;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.catalina.Context;
import org.apache.catalina.Session;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * How {@link MemcachedSessionManager#findSession} finds a session: in memory if it is current there, under the id
 * it moved to, or loaded from memcached - once, however many requests ask at the same time - and taken over.
 */
final class SessionLookup {
    private static final Log log = LogFactory.getLog(MemcachedSessionManager.class);

    private final MemcachedSessionManager manager;
    private final ConcurrentHashMap<String, CompletableFuture<MemcachedSession>> loading = new ConcurrentHashMap<>();

    SessionLookup(MemcachedSessionManager manager) {
        this.manager = manager;
    }

    /**
     * Finds a session in memory or, if this Tomcat does not hold it, in memcached. A session found in memcached is
     * taken over: it gets this Tomcat's jvmRoute (and a live node) in its id, and the response a new cookie.
     * Never throws for a memcached failure: the session is then just not found.
     */
    Session find(String id) {
        Session s = manager.resident(id == null ? "" : id);
        SessionEngine e = manager.engine();
        if (id == null || s != null && (e == null || isCurrent(e, s))) {
            return s;
        }
        if (e == null) {
            return null;
        }
        RequestContext rc = RequestContext.current();
        if (rc != null && rc.manager == manager && !rc.ignored && !rc.ended && !rc.takeoversChecked
                && e.isOtherTomcats(id)) {
            // the balancer sent another Tomcat's session here: first drop what other Tomcats took from this one since,
            // so neither an alias nor a copy in memory serves an older state than memcached holds
            rc.takeoversChecked = true;
            e.checkTakeovers();
        }
        Session moved = movedResident(manager, id);
        if (moved != null) {
            tellClient(rc, id, moved.getIdInternal());
            return moved;
        }
        if (rc != null && (rc.manager != manager || rc.ignored || rc.ended || rc.isMissing(id))) {
            // another webapp's request (Tomcat probing all contexts), an ignored or finished request, or known missing
            return null;
        }
        if (rc == null && SessionCookieChoice.duringCookieParsing()) {
            return null; // Tomcat trying each session cookie: msm's valve chooses among them (SessionCookieChoice)
        }
        if (!e.isValidId(id)) {
            return null;
        }
        if (rc == null && heldByAnotherVersion(id)) {
            return null; // parallel deployment: Tomcat asks each version, newest first, and maps to the one holding it
        }
        MemcachedSession loaded = load(e, id, rc);
        if (loaded == null) {
            if (rc != null) {
                rc.missing(id);
            }
            return null;
        }
        tellClient(rc, id, loaded.getIdInternal());
        return loaded;
    }

    /**
     * Whether another version of this webapp (Tomcat's parallel deployment: {@code /app##1} beside {@code /app##2})
     * holds session {@code id} in memory, with msm too: then it is that version's, and this one does not look in
     * memcached for it (its keys are apart anyway with the default {@code storageKeyPrefix}). Only outside a request of
     * this webapp, where Tomcat picks the version before any valve runs.
     */
    private boolean heldByAnotherVersion(String id) {
        Context context = manager.getContext();
        if (context == null || context.getParent() == null) {
            return false;
        }
        for (org.apache.catalina.Container c : context.getParent().findChildren()) {
            if (c == context || !(c instanceof Context)
                    || !java.util.Objects.equals(((Context) c).getPath(), context.getPath())) {
                continue;
            }
            org.apache.catalina.Manager other = ((Context) c).getManager();
            // msm's managers only: another manager's findSession may do I/O (PersistentManager's store)
            if (other instanceof MemcachedSessionManager && holds((MemcachedSessionManager) other, id)) {
                return true;
            }
        }
        return false;
    }

    /** {@code m} holds session {@code id} in memory, under that id or the one it moved to (a takeover, a node move). */
    private static boolean holds(MemcachedSessionManager m, String id) {
        return m.resident(id) != null || movedResident(m, id) != null;
    }

    /** The session {@code id} moved to (a takeover, a node move) if {@code m} holds it in memory; else null. */
    static Session movedResident(MemcachedSessionManager m, String id) {
        String current = m.movedIds.get(id);
        return current == null ? null : m.resident(current);
    }

    /**
     * Whether a session in memory is the current one. Sticky: always (it lives here). Non-sticky: only while a request
     * on this Tomcat uses it (parallel requests share it), or while memcached lacks its latest state (no node could
     * take it: it is held here until one can); otherwise another Tomcat may have changed it since.
     */
    static boolean isCurrent(SessionEngine e, Session s) {
        return e.config().sticky() || s instanceof MemcachedSession
                && (((MemcachedSession) s).state().requestsInFlight() > 0 || e.isUnsaved((MemcachedSession) s));
    }

    /** If this request asked for {@code askedId} and the session now has {@code actualId}, send the new cookie. */
    static void tellClient(RequestContext rc, String askedId, String actualId) {
        if (rc != null && !askedId.equals(actualId) && rc.isOwn(askedId) && rc.request.getResponse() != null
                && !rc.request.getResponse().isCommitted()) {
            rc.request.changeSessionId(actualId);
        }
    }

    /**
     * Loads {@code id} once, however many requests ask at the same time; the session is taken over (moved to this
     * Tomcat's id) before the others get it, so they all share one object.
     */
    private MemcachedSession load(SessionEngine e, String id, RequestContext rc) {
        CompletableFuture<MemcachedSession> mine = new CompletableFuture<>();
        CompletableFuture<MemcachedSession> other = loading.putIfAbsent(id, mine);
        if (other != null) {
            try {
                return other.get(2L * e.config().operationTimeoutMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (Exception ex) {
                if (ex instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                return null;
            }
        }
        MemcachedSession result = null;
        try {
            Session resident = manager.resident(id);
            if (resident instanceof MemcachedSession && isCurrent(e, resident)) {
                result = (MemcachedSession) resident;
                return result;
            }
            LoadResult r = e.load(id);
            SessionEnds ends = manager.ends;
            if (r.isFound() && r.timedOut() && ends != null) {
                ends.timedOutOnLoad(r); // not revived, as in Tomcat: it ends (here if this Tomcat claims it)
            } else if (r.isFound()) {
                result = restore(e, r);
                String newId = e.relocate(id);
                if (newId != null && rc != null && rc.isOwn(id)) {
                    Session stale = manager.resident(newId);
                    if (stale instanceof MemcachedSession && e.isOtherTomcats(id)) {
                        // this Tomcat's own copy is older: the user was served elsewhere since (a takeover notice
                        // that did not arrive)
                        e.retire((MemcachedSession) stale);
                    }
                    if (manager.resident(newId) == null) {
                        manager.moves.move(e, result, newId);
                        e.tookOver(id, r.copyHash());
                    }
                }
            }
            return result;
        } catch (RuntimeException | LinkageError ex) {
            if (result != null) {
                // restored but not (fully) taken over: the copy leaves memory, under whichever id it has by now
                manager.removeResident(result.getIdInternal(), result);
                manager.removeResident(id, result);
                result = null; // the requests waiting for this load get nothing either
            }
            log.warn(manager.logPrefix() + "session " + io.msm.internal.LogIds.of(id) + " could not be restored from memcached; the request gets a new "
                    + "session", ex);
            return null;
        } finally {
            mine.complete(result);
            loading.remove(id, mine);
        }
    }

    private MemcachedSession restore(SessionEngine e, LoadResult r) {
        long now = System.currentTimeMillis();
        // sticky: memcached holding the session means it is alive, so it counts as accessed now;
        // non-sticky: when any Tomcat last accessed it, dated by memcached (see SessionEngine.lastAccessed)
        long lastAccessed = e.config().sticky() ? now : r.lastAccessedTime();
        if (r.reusedSession() instanceof MemcachedSession && ((MemcachedSession) r.reusedSession()).getManager() == manager) {
            // non-sticky: memcached holds the very bytes this object left memory with; it returns as it left (it held
            // no activation listener, so none is told either time)
            MemcachedSession s = (MemcachedSession) r.reusedSession();
            s.returned(now, lastAccessed);
            manager.add(s);
            try {
                e.loaded(s, r);
            } catch (RuntimeException | LinkageError ex) {
                manager.removeResident(s.getIdInternal(), s);
                throw ex;
            }
            return s;
        }
        MemcachedSession s = manager.emptySession();
        s.restore(r.data(), r.attributes(), now, lastAccessed);
        s.setId(r.data().id(), false);
        try {
            e.loaded(s, r);
            Context context = manager.getContext();
            ClassLoader old = context.bind(false, null);
            try {
                s.activate();
            } finally {
                context.unbind(false, old);
            }
        } catch (RuntimeException | LinkageError ex) {
            manager.removeResident(s.getIdInternal(), s); // not restored: out of memory again
            throw ex;
        }
        return s;
    }
}
