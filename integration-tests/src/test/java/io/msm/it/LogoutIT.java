package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An id the application abandons (the pre-login id that a FORM login replaces, the id of a session it invalidates,
 * and every id msm gave that session before) stays dead on every Tomcat: no request that ends later, no secondary
 * copy, no former id brings its state back.
 */
class LogoutIT extends MsmIT {
    private static final Map<String, String> CREDENTIALS = Map.of("j_username", "alice", "j_password", "secret");

    private EmbeddedTomcat tomcat(String route, boolean sticky) {
        return track(EmbeddedTomcat.on(route).with("memcachedNodes", nodes()).with("sticky", String.valueOf(sticky))
                .formLogin().start());
    }

    /** A FORM login on {@code t}; returns the pre-login id (the logged-in one is then the browser's). */
    private static String logIn(Browser b, EmbeddedTomcat t) {
        assertEquals("LOGIN-PAGE", b.get(t.url("/protected/page?x=1")).body);
        String preLogin = b.sessionId();
        assertNotNull(preLogin);
        Browser.Page login = b.post(t.url("/j_security_check"), CREDENTIALS);
        assertTrue(login.status == 302 || login.status == 303, login.toString());
        assertEquals("user=alice x=1 method=GET", b.get(t.url("/protected/page?x=1")).body);
        assertNotEquals(preLogin, b.sessionId(), "a login changes the session id");
        return preLogin;
    }

    /** Each id, on each Tomcat, in order: no session, and the protected page asks for a login. */
    private static void assertDead(List<String> ids, EmbeddedTomcat... tomcats) {
        for (String id : ids) {
            for (EmbeddedTomcat t : tomcats) {
                Browser other = new Browser();
                other.setCookie("JSESSIONID", id);
                assertEquals("LOGIN-PAGE", other.get(t.url("/protected/page?x=9")).body,
                        "id " + id + " on " + t.route() + " is logged out");
                Browser reader = new Browser();
                reader.setCookie("JSESSIONID", id);
                assertEquals("no-session", reader.get(t.url("/read")).body, "id " + id + " on " + t.route());
            }
        }
    }

    @Test
    void aLogoutStaysEffectiveWhenAnEarlierRequestEndsLaterOnAnotherTomcat() throws Exception {
        EmbeddedTomcat tc1 = tomcat("tc1", false);
        EmbeddedTomcat tc2 = tomcat("tc2", false);
        Browser b = new Browser();
        String preLogin = logIn(b, tc1);
        String loggedIn = b.sessionId();
        TestApp.resetHold();
        Browser tab = new Browser(); // another tab of the same user: a slow request on tc2 started before the logout
        tab.setCookie("JSESSIONID", loggedIn);
        CompletableFuture<Browser.Page> slow = CompletableFuture.supplyAsync(
                () -> tab.get(tc2.url("/hold?name=cart&value=full")));
        assertTrue(TestApp.held.await(10, TimeUnit.SECONDS), "the slow request has the session");
        assertEquals("after=none", b.get(tc1.url("/logout")).body.trim());
        TestApp.release.countDown();
        Browser.Page late = slow.get(20, TimeUnit.SECONDS);
        assertEquals(200, late.status, late.body);
        awaitBackups(tc1);
        awaitBackups(tc2);
        assertDead(List.of(loggedIn, preLogin), tc1, tc2);
    }

    /**
     * The earlier request ends after the logout and after the session's node died: it moves the session to the live
     * node (new id, new cookie for its tab), and finds the session ended there too.
     */
    @Test
    void aLogoutStaysEffectiveWhenAnEarlierRequestMovesTheSessionOffADeadNodeAfterIt() throws Exception {
        EmbeddedTomcat tc1 = tomcat("tc1", false);
        EmbeddedTomcat tc2 = tomcat("tc2", false);
        Browser b = new Browser();
        String preLogin = logIn(b, tc1);
        String loggedIn = b.sessionId();
        TestApp.resetHold();
        Browser tab = new Browser();
        tab.setCookie("JSESSIONID", loggedIn);
        CompletableFuture<Browser.Page> slow = CompletableFuture.supplyAsync(
                () -> tab.get(tc2.url("/hold?name=cart&value=full")));
        assertTrue(TestApp.held.await(10, TimeUnit.SECONDS), "the slow request has the session");
        assertEquals("after=none", b.get(tc1.url("/logout")).body.trim());
        String node = nodeOf(loggedIn);
        server(node).kill();
        await("both Tomcats to notice", 3000, () -> !tc1.manager().getMsmAvailableNodes().contains(node)
                && !tc2.manager().getMsmAvailableNodes().contains(node));
        TestApp.release.countDown();
        Browser.Page late = slow.get(20, TimeUnit.SECONDS);
        assertEquals(200, late.status, late.body);
        String moved = tab.sessionId();
        assertNotEquals(loggedIn, moved, "the slow request moved the session off the dead node");
        awaitBackups(tc1);
        awaitBackups(tc2);
        assertDead(List.of(moved, loggedIn, preLogin), tc1, tc2);
    }

    @Test
    void nonStickyIdsAbandonedAcrossANodeFailoverStayDead() {
        abandonedIdsStayDeadAcrossANodeFailover(false);
    }

    @Test
    void stickyIdsAbandonedAcrossANodeFailoverStayDead() {
        abandonedIdsStayDeadAcrossANodeFailover(true);
    }

    /**
     * Log in (pre-login id P, then L on node X), X is killed and the session moves to L' on the other node, log out
     * with L': P, L and L' are dead on both Tomcats, and still after X restarts (empty) and is back in use.
     */
    private void abandonedIdsStayDeadAcrossANodeFailover(boolean sticky) {
        EmbeddedTomcat tc1 = tomcat("tc1", sticky);
        EmbeddedTomcat tc2 = tomcat("tc2", sticky);
        Browser b = new Browser();
        String preLogin = logIn(b, tc1);
        String loggedIn = b.sessionId();
        awaitBackups(tc1);
        String node = nodeOf(loggedIn);
        server(node).kill();
        await("both Tomcats to notice", 3000, () -> !tc1.manager().getMsmAvailableNodes().contains(node)
                && !tc2.manager().getMsmAvailableNodes().contains(node));
        assertEquals("user=alice x=2 method=GET", b.get(tc1.url("/protected/page?x=2")).body, "still logged in");
        String moved = b.sessionId();
        assertNotEquals(node, nodeOf(moved), "moved off the dead node");
        assertEquals("after=none", b.get(tc1.url("/logout")).body.trim());
        awaitBackups(tc1);
        awaitBackups(tc2);
        List<String> abandoned = new ArrayList<>(List.of(loggedIn, moved, preLogin));
        assertDead(abandoned, tc1, tc2);
        server(node).start();
        await("both Tomcats to see the node back", 5000, () -> tc1.manager().getMsmAvailableNodes().contains(node)
                && tc2.manager().getMsmAvailableNodes().contains(node));
        assertDead(abandoned, tc1, tc2);
    }
}
