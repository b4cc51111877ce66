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
}
