package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Logins survive a Tomcat failover (issue item 8): FORM, a FORM login interrupted by the failover, and BASIC. */
class AuthenticationIT extends MsmIT {
    private static final Map<String, String> CREDENTIALS = Map.of("j_username", "alice", "j_password", "secret");

    private static String absolute(EmbeddedTomcat t, String location) {
        assertNotNull(location, "a redirect");
        return location.startsWith("http") ? location.replaceFirst("http://[^/]+", "http://127.0.0.1:" + t.port())
                : t.url(location);
    }

    @Test
    void formLoginOnTc1IsStillValidOnTc2() {
        EmbeddedTomcat tc1 = EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).formLogin().start();
        track(tc1);
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).formLogin().start());
        Browser b = new Browser();
        assertEquals("LOGIN-PAGE", b.get(tc1.url("/protected/page?x=1")).body);
        Browser.Page login = b.post(tc1.url("/j_security_check"), CREDENTIALS);
        assertTrue(login.status == 302 || login.status == 303, login.toString());
        assertEquals("user=alice x=1 method=GET", b.get(absolute(tc1, login.location())).body);
        String loggedIn = b.sessionId();
        awaitBackups(tc1);
        tc1.stop();

        assertEquals("user=alice x=2 method=GET", b.get(tc2.url("/protected/page?x=2")).body,
                "still logged in on tc2");
        assertEquals("tc2", routeOf(b.sessionId()));
        assertEquals(randomOf(loggedIn), randomOf(b.sessionId()));
    }

    /**
     * Non-sticky: a realm's own user object (JAAS, custom realms), changed in place through
     * {@code getUserPrincipal()}, reaches the other Tomcat. No attribute is touched after the first request: only the
     * authenticator's read of the session's principal makes the request's end store the change.
     */
    @Test
    void aRealmsUserObjectChangedInPlaceIsSeenOnTheOtherTomcatNonSticky() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).with("sticky", "false")
                .badgeLogin().start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).with("sticky", "false")
                .badgeLogin().start());
        Browser b = new Browser();
        assertEquals("LOGIN-PAGE", b.get(tc1.url("/protected/badge?init=1")).body);
        Browser.Page login = b.post(tc1.url("/j_security_check"), CREDENTIALS);
        assertEquals("badge=alice visits=1", b.get(absolute(tc1, login.location())).body);
        assertEquals("badge=alice visits=2", b.get(tc1.url("/protected/badge")).body);
        assertEquals("badge=alice visits=3", b.get(tc2.url("/protected/badge")).body, "tc1's last change, on tc2");
        assertEquals("badge=alice visits=4", b.get(tc1.url("/protected/badge")).body, "tc2's change, on tc1");
        assertEquals("badge=alice visits=5", b.get(tc1.url("/protected/badge")).body);
        assertEquals("badge=alice visits=6", b.get(tc2.url("/protected/badge")).body);
    }

    /** Sticky: the same user object, changed in place by requests that touch no attribute, survives a failover. */
    @Test
    void aRealmsUserObjectChangedInPlaceSurvivesAFailoverSticky() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).badgeLogin().start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).badgeLogin().start());
        Browser b = new Browser();
        assertEquals("LOGIN-PAGE", b.get(tc1.url("/protected/badge?init=1")).body);
        Browser.Page login = b.post(tc1.url("/j_security_check"), CREDENTIALS);
        assertEquals("badge=alice visits=1", b.get(absolute(tc1, login.location())).body);
        awaitBackups(tc1);
        assertEquals("badge=alice visits=2", b.get(tc1.url("/protected/badge")).body);
        awaitBackups(tc1);
        tc1.stop();
        assertEquals("badge=alice visits=3", b.get(tc2.url("/protected/badge")).body, "tc1's last change, on tc2");
    }

    @Test
    void formLoginInterruptedByAFailoverCompletesOnTheOtherTomcat() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).formLogin().start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).formLogin().start());
        Browser b = new Browser();
        assertEquals("LOGIN-PAGE", b.get(tc1.url("/protected/page?x=7")).body);
        awaitBackups(tc1);
        tc1.stop(); // the user is looking at the login form

        Browser.Page login = b.post(tc2.url("/j_security_check"), CREDENTIALS);
        assertTrue(login.status == 302 || login.status == 303, login.toString());
        assertTrue(login.location().endsWith("/protected/page?x=7"), "the saved request: " + login.location());
        assertEquals("user=alice x=7 method=GET", b.get(absolute(tc2, login.location())).body);
    }

    @Test
    void basicLoginCachedInTheSessionIsCarriedToTc2() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).basicLogin().start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).basicLogin().start());
        Browser b = new Browser();
        b.get(tc1.url("/counter")); // a session for the authenticator to cache the principal in
        String basic = "Basic " + Base64.getEncoder().encodeToString("alice:secret".getBytes(StandardCharsets.UTF_8));
        assertEquals("user=alice x=null method=GET", b.get(tc1.url("/protected/p"), "Authorization", basic).body);
        assertEquals(401, new Browser().get(tc2.url("/protected/p")).status, "no session, no access");
        awaitBackups(tc1);
        tc1.stop();

        Browser.Page p = b.get(tc2.url("/protected/p")); // no Authorization header: the session's principal
        assertEquals(200, p.status, p.body);
        assertEquals("user=alice x=null method=GET", p.body);
    }

    /**
     * Non-sticky, BASIC: the realm's user object, changed in place, reaches the other Tomcat. The browser sends its
     * credentials with every request, as browsers do; the authenticator still takes the principal it cached in the
     * session, so the change is the session's to store.
     */
    @Test
    void aRealmsUserObjectChangedInPlaceUnderBasicIsSeenOnTheOtherTomcatNonSticky() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).with("sticky", "false")
                .badgeBasicLogin().start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).with("sticky", "false")
                .badgeBasicLogin().start());
        Browser b = new Browser();
        b.get(tc1.url("/counter")); // a session for the authenticator to cache the principal in
        String basic = "Basic " + Base64.getEncoder().encodeToString("alice:secret".getBytes(StandardCharsets.UTF_8));
        assertEquals("badge=alice visits=1", b.get(tc1.url("/protected/badge?init=1"), "Authorization", basic).body);
        assertEquals("badge=alice visits=2", b.get(tc1.url("/protected/badge"), "Authorization", basic).body);
        assertEquals("badge=alice visits=3", b.get(tc2.url("/protected/badge"), "Authorization", basic).body,
                "tc1's last change, on tc2");
        assertEquals("badge=alice visits=4", b.get(tc1.url("/protected/badge"), "Authorization", basic).body,
                "tc2's change, on tc1");
        assertEquals("badge=alice visits=5", b.get(tc2.url("/protected/badge")).body, "without the header too");
    }

    /**
     * Non-sticky: Tomcat's FORM authenticator completes the login page's response inside itself, before msm's valve
     * sees the request end; credentials sent at once to another Tomcat must still find the login in progress. The
     * request is held after its response (a request listener, which Tomcat calls after the login page's forward)
     * until the client has checked memcached.
     */
    @Test
    void theLoginPageLeavesOnlyOnceMemcachedHoldsTheLoginInProgress() throws Exception {
        loginPageLeavesOnlyOnceMemcachedHoldsTheLoginInProgress(true);
    }

    /** As above with the authenticator's changeSessionIdOnAuthentication off: Tomcat notes no session id then. */
    @Test
    void theLoginPageLeavesOnlyOnceMemcachedHoldsTheLoginInProgressWithoutAnIdChange() throws Exception {
        loginPageLeavesOnlyOnceMemcachedHoldsTheLoginInProgress(false);
    }

    private void loginPageLeavesOnlyOnceMemcachedHoldsTheLoginInProgress(boolean changeSessionId) throws Exception {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).with("sticky", "false")
                .formLogin().start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).with("sticky", "false")
                .formLogin().start());
        for (EmbeddedTomcat t : new EmbeddedTomcat[] {tc1, tc2}) {
            for (org.apache.catalina.Valve v : t.context().getPipeline().getValves()) {
                if (v instanceof org.apache.catalina.authenticator.AuthenticatorBase) {
                    ((org.apache.catalina.authenticator.AuthenticatorBase) v)
                            .setChangeSessionIdOnAuthentication(changeSessionId);
                }
            }
        }
        java.util.concurrent.CountDownLatch checked = new java.util.concurrent.CountDownLatch(1);
        tc1.context().setApplicationEventListeners(new Object[] {new javax.servlet.ServletRequestListener() {
            @Override
            public void requestDestroyed(javax.servlet.ServletRequestEvent e) {
                if ("/login.html".equals(((javax.servlet.http.HttpServletRequest) e.getServletRequest())
                        .getServletPath())) {
                    try {
                        checked.await(5, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }});
        Browser b = new Browser();
        try {
            assertEquals("LOGIN-PAGE", b.get(tc1.url("/protected/page?x=3")).body);
            assertNotNull(server(nodeOf(b.sessionId())).get(b.sessionId()),
                    "memcached holds the session when the login page arrives");
        } finally {
            checked.countDown();
        }
        Browser.Page login = b.post(tc2.url("/j_security_check"), CREDENTIALS);
        assertTrue(String.valueOf(login.location()).endsWith("/protected/page?x=3"), "the saved request: " + login);
        assertEquals("user=alice x=3 method=GET", b.get(absolute(tc2, login.location())).body);
    }
}
