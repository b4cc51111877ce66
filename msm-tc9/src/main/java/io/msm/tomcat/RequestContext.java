package io.msm.tomcat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.catalina.connector.Request;

/**
 * What msm knows about the request a thread is serving: which manager's webapp it belongs to, whether it is
 * ignored, which sessions it used, and which ids it already failed to find or chose not to look up (so Tomcat's
 * repeated look-ups of one unknown id cost one memcached call, and one log line; see {@link SessionCookieChoice}).
 */
final class RequestContext {
    private static final ThreadLocal<RequestContext> CURRENT = new ThreadLocal<>();

    final MemcachedSessionManager manager;
    final Request request;
    final boolean ignored;
    /**
     * The first session the request used, and any others after it ({@code null} until a second): nearly every request
     * uses one session at most, and a list for it was most of what msm allocated per sticky request (issue 26).
     */
    private MemcachedSession first;
    private List<MemcachedSession> more;
    /** Ids of sessions this request created, {@code null} while none. */
    private Set<String> created;
    private Set<String> missing;
    /** Set once the request is over: look-ups then only see sessions in memory. */
    boolean ended;
    /** Set once the request read this Tomcat's takeover notices (sticky): done at most once per request. */
    boolean takeoversChecked;
    /** A session this request used was stored changed before its end (its response left early). */
    boolean changedEarly;
    /** The session lock this request holds (non-sticky locking), or {@code null}. */
    io.msm.engine.SessionLock lock;

    private RequestContext(MemcachedSessionManager manager, Request request, boolean ignored) {
        this.manager = manager;
        this.request = request;
        this.ignored = ignored;
    }

    static RequestContext enter(MemcachedSessionManager manager, Request request, boolean ignored) {
        RequestContext rc = new RequestContext(manager, request, ignored);
        CURRENT.set(rc);
        return rc;
    }

    /** Re-installs an outer request's context after a nested (cross-context) dispatch. */
    static void restore(RequestContext outer) {
        CURRENT.set(outer);
    }

    static void leave() {
        // set, not removed: the thread's next request then finds its entry instead of inserting one (twice: current()
        // on a missing entry inserts a null one, enter() sets it). A null value holds nothing of the webapp.
        CURRENT.set(null);
    }

    /** The current thread's request context, or {@code null} on a non-request thread. */
    static RequestContext current() {
        return CURRENT.get();
    }

    /** Records that the request uses {@code s}; {@code true} the first time. */
    boolean track(MemcachedSession s) {
        if (first == null) {
            first = s;
            return true;
        }
        if (first == s) {
            return false;
        }
        if (more == null) {
            more = new ArrayList<>(2);
        }
        for (MemcachedSession known : more) {
            if (known == s) {
                return false;
            }
        }
        more.add(s);
        return true;
    }

    /** How many sessions the request used ({@link #track}). */
    int sessionCount() {
        return first == null ? 0 : more == null ? 1 : 1 + more.size();
    }

    /** The {@code i}-th session the request used, in the order it first used them. */
    MemcachedSession session(int i) {
        return i == 0 ? first : more.get(i - 1);
    }

    /** {@code true} if {@code id} is this request's own session: the one it asked for or one it created. */
    boolean isOwn(String id) {
        return id.equals(request.getRequestedSessionId()) || created != null && created.contains(id);
    }

    void created(String id) {
        if (created == null) {
            created = new HashSet<>(2);
        }
        created.add(id);
    }

    void missing(String id) {
        if (missing == null) {
            missing = new HashSet<>(2);
        }
        missing.add(id);
    }

    boolean isMissing(String id) {
        return missing != null && missing.contains(id);
    }
}
