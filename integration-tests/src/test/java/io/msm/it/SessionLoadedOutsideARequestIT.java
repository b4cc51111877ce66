package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Non-sticky: a Tomcat that looked a session up outside a request never expires it from the time of that look-up while
 * the user goes on with it on another Tomcat: no delete from memcached, no sessionDestroyed. Tomcat itself checks the
 * first of several session cookies before the request reaches msm (a request that then uses the session loads it
 * again; one ignored by requestUriIgnorePattern does not); an application thread may ask the manager.
 */
class SessionLoadedOutsideARequestIT extends MsmIT {

    @ParameterizedTest(name = "looked up by {0}")
    @ValueSource(strings = {"Tomcat checking two session cookies of an ignored request",
        "a thread outside any request"})
    void isNeverExpiredByThatTomcatWhileAnotherServesIt(String how) throws Exception {
        // a 2 s timeout, not 1 s: memcached's clock counts whole seconds and, on a busy machine, now and then moves
        // two at once, so a copy refreshed 300 ms ago can show 2 s less TTL; with 1 s, tc2 took that for a timeout
        EmbeddedTomcat tc1 = tomcat("tc1", "sticky", "false", "maxInactiveInterval", "2",
                "requestUriIgnorePattern", ".*\\.css$");
        EmbeddedTomcat tc2 = tomcat("tc2", "sticky", "false", "maxInactiveInterval", "2");
        Browser user = new Browser();
        int count = user.get(tc2.url("/counter")).count();
        String id = user.sessionId();
        if (how.startsWith("Tomcat")) {
            // with a second (unknown) session cookie; no servlet serves it (404)
            String unknown = "0123456789ABCDEF0123456789ABCDEF-" + nodeOf(id);
            Browser.Page p = new Browser().get(tc1.url("/style.css"), "Cookie",
                    "JSESSIONID=" + id + "; JSESSIONID=" + unknown);
            assertEquals(404, p.status, p.body);
        } else {
            assertNotNull(tc1.manager().findSession(id));
        }
        // the user goes on on tc2 until tc1's look-up is older than the session's 2 s timeout
        long until = System.nanoTime() + 2_500_000_000L;
        while (System.nanoTime() < until) {
            Thread.sleep(300); // the user's pace (the session's timeout is what is measured), not an ordering
            assertEquals(++count, user.get(tc2.url("/counter")).count(), "on tc2");
        }
        tc1.manager().processExpires(); // what Tomcat's background thread does
        awaitBackups(tc1);
        assertNotNull(server(nodeOf(id)).get(id), "memcached still holds the session");
        assertFalse(TestApp.EVENTS.contains("destroyed tc1 " + id), "tc1 fired sessionDestroyed");
        assertEquals(++count, user.get(tc2.url("/counter")).count(), "and the user still has it");
        assertEquals(0, tc1.manager().getActiveSessions(), "tc1 holds nothing of it");
    }
}
