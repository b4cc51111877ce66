package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sessions taken over while both Tomcats stay up, as a balancer that retries on the other Tomcat when one is slow
 * for a moment makes them: every request sees the previous one's write, whichever Tomcat serves it; a Tomcat that
 * lost a session to the other drops its copy; ids the session or the application left behind stay dead.
 */
class TakeoverIT extends MsmIT {
    private static final Map<String, String> CREDENTIALS = Map.of("j_username", "alice", "j_password", "secret");
    private static final int REQUESTS = 6;

    /**
     * Every order of six requests of one session over two Tomcats (64 sessions), no Tomcat stopped: each request
     * finds the counter the previous one stored, wherever it ran. The balancer sends a request to the other Tomcat
     * only after its own was slow for a while, so the test lets the previous request's backup finish first.
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"true", "false"})
    void everyOrderOfRequestsAcrossTwoLiveTomcatsSeesThePreviousWrite(String sticky) {
        EmbeddedTomcat[] tomcats = {tomcat("tc1", "sticky", sticky), tomcat("tc2", "sticky", sticky)};
        List<String> failures = new ArrayList<>();
        for (int order = 0; order < 1 << REQUESTS; order++) {
            Browser b = new Browser();
            StringBuilder path = new StringBuilder();
            for (int i = 0; i < REQUESTS; i++) {
                EmbeddedTomcat t = tomcats[(order >> i) & 1];
                path.append(t.route()).append(' ');
                Browser.Page page = b.get(t.url("/counter"));
                if (page.status != 200 || page.count() != i + 1) {
                    failures.add(path + "-> " + page.body);
                    break;
                }
                awaitBackups(tomcats[0]);
                awaitBackups(tomcats[1]);
            }
        }
        assertEquals(0, failures.size(), failures.size() + " of 64 orders lost a write, e.g. "
                + failures.subList(0, Math.min(3, failures.size())));
    }

    /**
     * A user logged in on tc1 reaches tc2 once (tc2 takes the session over), then logs out there: neither the
     * cookie from before the takeover nor the one after is logged in on either Tomcat afterwards.
     */
    @Test
    void aLogoutAfterATakeoverEndsTheSessionOnBothTomcats() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).formLogin().start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).formLogin().start());
        Browser b = new Browser();
        logIn(b, tc1);
        String before = b.sessionId();
        awaitBackups(tc1);
        assertEquals("user=alice x=2 method=GET", b.get(tc2.url("/protected/page?x=2")).body, "taken over by tc2");
        String after = b.sessionId();
        assertEquals("tc2", routeOf(after));
        await("tc1 to drop the copy tc2 took over", 2000, () -> tc1.manager().getActiveSessions() == 0);
        assertEquals("after=none", b.get(tc2.url("/logout")).body);
        awaitBackups(tc2);

        for (String id : List.of(before, after)) {
            for (EmbeddedTomcat t : List.of(tc1, tc2)) {
                Browser other = new Browser();
                other.setCookie("JSESSIONID", id);
                assertEquals("LOGIN-PAGE", other.get(t.url("/protected/page?x=3")).body,
                        id + " on " + t.route() + " after the logout");
            }
        }
    }

    /**
     * Session fixation across moves: a session created before the login (X) is taken over by tc2, the user logs in
     * there (the application gives the session a new id, Y), then Y's memcached node dies and the session moves to
     * the other node. Every id the session had before the login gets no session, anywhere; the logged-in one works.
     */
    @Test
    void idsFromBeforeALoginNeverReachTheLoggedInSession() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).formLogin().start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).formLogin().start());
        Browser b = new Browser();
        assertEquals("LOGIN-PAGE", b.get(tc1.url("/protected/page?x=1")).body);
        String preLogin = b.sessionId();
        awaitBackups(tc1);
        tc1.stop();
        Browser.Page login = b.post(tc2.url("/j_security_check"), CREDENTIALS);
        assertTrue(login.status == 302 || login.status == 303, login.toString());
        assertEquals("user=alice x=1 method=GET", b.get(absolute(tc2, login.location())).body);
        String loggedIn = b.sessionId();
        assertNotEquals(randomOf(preLogin), randomOf(loggedIn), "the login changed the id");
        awaitBackups(tc2);
        String node = nodeOf(loggedIn);
        server(node).kill();
        await("tc2 to notice that " + node + " died", 2000,
                () -> !tc2.manager().getMsmAvailableNodes().contains(node));
        assertEquals("user=alice x=4 method=GET", b.get(tc2.url("/protected/page?x=4")).body);
        String moved = b.sessionId();
        assertNotEquals(node, nodeOf(moved), "the logged-in session moved to the live node");
        awaitBackups(tc2);

        String preLoginTaken = randomOf(preLogin) + "-" + nodeOf(preLogin) + ".tc2";
        for (String id : List.of(preLogin, preLoginTaken)) {
            Browser attacker = new Browser();
            attacker.setCookie("JSESSIONID", id);
            Browser.Page page = attacker.get(tc2.url("/protected/page?x=5"));
            assertEquals("LOGIN-PAGE", page.body, id + " reached the logged-in session");
        }
        assertEquals("user=alice x=6 method=GET", b.get(tc2.url("/protected/page?x=6")).body);
    }

    /**
     * What takeover notices cost while nothing happens: a sticky Tomcat reads its list on each node at most four times
     * a second (the count memcached itself keeps for keys {@code msm:...}), and no request pays for it.
     */
    @Test
    void anIdleTomcatReadsItsNoticesAtMostFourTimesASecondPerNode() throws Exception {
        EmbeddedTomcat tc1 = tomcat("tc1");
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        long[] before = {server("n1").prefixGets("msm"), server("n2").prefixGets("msm")};
        long start = System.nanoTime();
        Thread.sleep(2000); // a measuring window in real time (reads per second are measured), not an ordering
        long[] after = {server("n1").prefixGets("msm"), server("n2").prefixGets("msm")};
        double seconds = (System.nanoTime() - start) / 1e9;
        for (int i = 0; i < 2; i++) {
            long reads = after[i] - before[i];
            assertTrue(reads >= 1 && reads <= Math.ceil(seconds * 4) + 1, "n" + (i + 1) + ": " + reads + " reads in "
                    + seconds + " s");
        }
    }

    /**
     * A sticky Tomcat holding no session (a webapp nobody uses) reads its notices every 2.5 s, not four times a second:
     * they name sessions to drop or end, and it holds none (the Tomcat tells msm so without listing its sessions).
     */
    @Test
    void aTomcatHoldingNoSessionReadsItsNoticesSeldom() throws Exception {
        tomcat("tc1");
        long[] before = {server("n1").prefixGets("msm"), server("n2").prefixGets("msm")};
        Thread.sleep(2000); // a measuring window in real time (reads per second are measured), not an ordering
        long[] after = {server("n1").prefixGets("msm"), server("n2").prefixGets("msm")};
        for (int i = 0; i < 2; i++) {
            long reads = after[i] - before[i];
            assertTrue(reads <= 1, "n" + (i + 1) + ": " + reads + " reads in 2 s while no session is held");
        }
    }

    /**
     * A takeover that fails after the session was read (here a container listener of the webapp throws on the id
     * change) gives the request a new session and keeps no half-taken-over copy in memory: the session stays tc1's,
     * and the same cookie on tc2 later takes it over properly.
     */
    @Test
    void aTakeoverThatFailsHalfwayKeepsNoCopyOfTheSession() {
        EmbeddedTomcat tc1 = tomcat("tc1");
        EmbeddedTomcat tc2 = tomcat("tc2");
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        awaitBackups(tc1);
        java.util.concurrent.atomic.AtomicBoolean failing = new java.util.concurrent.atomic.AtomicBoolean(true);
        tc2.context().addContainerListener(event -> {
            if (failing.get() && org.apache.catalina.Context.CHANGE_SESSION_ID_EVENT.equals(event.getType())) {
                throw new IllegalStateException("a container listener that fails");
            }
        });
        assertEquals(1, b.get(tc2.url("/counter")).count(), "not taken over: a new session");
        String fresh = b.sessionId();
        List<String> held = new ArrayList<>();
        for (org.apache.catalina.Session s : tc2.manager().findSessions()) {
            held.add(s.getIdInternal());
        }
        assertEquals(List.of(fresh), held, "tc2 holds the request's new session only, no copy of " + id);
        failing.set(false);
        awaitBackups(tc2);
        Browser same = new Browser();
        same.setCookie("JSESSIONID", id);
        assertEquals(2, same.get(tc2.url("/counter")).count(), "taken over now");
        awaitBackups(tc2);
        assertEquals(3, same.get(tc2.url("/counter")).count());
        awaitBackups(tc2);
        assertEquals(4, same.get(tc1.url("/counter")).count(), "and back to tc1");
    }

    private static void logIn(Browser b, EmbeddedTomcat t) {
        assertEquals("LOGIN-PAGE", b.get(t.url("/protected/page?x=1")).body);
        Browser.Page login = b.post(t.url("/j_security_check"), CREDENTIALS);
        assertTrue(login.status == 302 || login.status == 303, login.toString());
        assertEquals("user=alice x=1 method=GET", b.get(absolute(t, login.location())).body);
    }

    private static String absolute(EmbeddedTomcat t, String location) {
        return location.startsWith("http") ? location.replaceFirst("http://[^/]+", "http://127.0.0.1:" + t.port())
                : t.url(location);
    }
}
