package io.msm.tomcat;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Request;
import org.apache.catalina.util.SessionConfig;
import org.apache.tomcat.util.http.ServerCookie;
import org.apache.tomcat.util.http.ServerCookies;

/**
 * Which of several session cookies a request means. Tomcat's connector looks up the session of each one before the
 * request reaches the context, keeping the first that is valid; a client may send up to {@code maxCookieCount} (200)
 * of them, and each look-up of a session this Tomcat does not hold would be a memcached call. So msm answers those
 * early look-ups from memory only, and chooses when the request reaches its valve, by Tomcat's rule but bounded: the
 * first id whose session this Tomcat holds, else the first of at most {@link #MAX_LOOKUPS} ids memcached is asked
 * about whose session exists. The ids not chosen count as missing for the request: nothing asks memcached about them
 * again, or takes their lock.
 */
final class SessionCookieChoice {
    /** Ids of one request memcached is asked about at most. */
    static final int MAX_LOOKUPS = 2;

    private static final String COYOTE_ADAPTER = "org.apache.catalina.connector.CoyoteAdapter";
    private static final String PARSE_SESSION_COOKIES = "parseSessionCookiesId";
    private static final StackWalker STACK = StackWalker.getInstance();

    private SessionCookieChoice() {
    }

    /**
     * {@code true} if this thread is in Tomcat's connector, looking up each session cookie of a request that has not
     * reached any context yet (a few frames up: the manager's findSession, Request.isRequestedSessionIdValid).
     */
    static boolean duringCookieParsing() {
        return STACK.walk(frames -> frames.limit(12).anyMatch(
                f -> PARSE_SESSION_COOKIES.equals(f.getMethodName()) && COYOTE_ADAPTER.equals(f.getClassName())));
    }

    /**
     * Sets the request's session id to the one it means, if it carries several session cookies.
     *
     * @param valid whether an id is one of this configuration's (the others are never looked up, by anyone)
     * @param held whether this Tomcat holds a valid session of that id in memory (no memcached call)
     * @param exists whether memcached has a session of that id (a call)
     */
    static void choose(RequestContext rc, Context context, Predicate<String> valid, Predicate<String> held,
            Predicate<String> exists) {
        Request request = rc.request;
        if (!request.isRequestedSessionIdFromCookie()) {
            return;
        }
        Set<String> ids = sessionCookieIds(request, SessionConfig.getSessionCookieName(context));
        if (ids == null) {
            return; // one session cookie: Tomcat took it
        }
        String chosen = null;
        int lookups = 0;
        for (String id : ids) {
            if (!valid.test(id)) {
                continue;
            }
            if (held.test(id)) {
                chosen = id;
                break;
            }
            if (lookups < MAX_LOOKUPS) {
                lookups++;
                if (exists.test(id)) {
                    chosen = id;
                    break;
                }
            }
            rc.missing(id);
        }
        if (chosen != null && !chosen.equals(request.getRequestedSessionId())) {
            request.setRequestedSessionId(chosen);
        }
    }

    /** The distinct values of the request's session cookies in order; {@code null} if there are fewer than two. */
    private static Set<String> sessionCookieIds(Request request, String name) {
        ServerCookies cookies = request.getServerCookies();
        int count = cookies.getCookieCount();
        int sessionCookies = 0;
        for (int i = 0; i < count && sessionCookies < 2; i++) {
            if (cookies.getCookie(i).getName().equals(name)) {
                sessionCookies++;
            }
        }
        if (sessionCookies < 2) {
            return null;
        }
        Set<String> ids = new LinkedHashSet<>();
        for (int i = 0; i < count; i++) {
            ServerCookie c = cookies.getCookie(i);
            if (c.getName().equals(name)) {
                ids.add(c.getValue().toString());
            }
        }
        return ids.size() < 2 ? null : ids;
    }
}
