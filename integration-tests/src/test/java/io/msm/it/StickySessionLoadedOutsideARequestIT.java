package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import org.junit.jupiter.api.Test;

/**
 * Sticky: a Tomcat that looked up another Tomcat's session outside a request (an application thread, a JMX operation
 * on the Manager) holds a copy of it under the other Tomcat's id. It must not expire that copy from the time of the
 * look-up while the user goes on with the session on its own Tomcat: no delete from memcached, no sessionDestroyed.
 */
class StickySessionLoadedOutsideARequestIT extends MsmIT {

    @Test
    void isNeverExpiredByThatTomcatWhileItsOwnTomcatServesIt() throws Exception {
        EmbeddedTomcat tc1 = tomcat("tc1", "maxInactiveInterval", "3");
        EmbeddedTomcat tc2 = tomcat("tc2", "maxInactiveInterval", "3");
        Browser user = new Browser();
        int count = user.get(tc2.url("/counter")).count();
        String id = user.sessionId();
        awaitBackups(tc2);
        assertNotNull(tc1.manager().findSession(id), "(tc1 finds tc2's session in memcached)");
        // the user goes on on tc2 until tc1's look-up is older than the session's 3 s timeout (not 1 s: a loaded
        // machine's stall between two of the user's requests would time the session out on tc2 itself)
        long until = System.nanoTime() + 4_000_000_000L;
        while (System.nanoTime() < until) {
            Thread.sleep(300); // the user's pace (the session's timeout is what is measured), not an ordering
            assertEquals(++count, user.get(tc2.url("/counter")).count(), "on tc2");
        }
        awaitBackups(tc2);
        tc1.manager().processExpires(); // what Tomcat's background thread does
        awaitBackups(tc1);
        assertFalse(TestApp.EVENTS.contains("destroyed tc1 " + id), "tc1 fired sessionDestroyed for tc2's session");
        assertNotNull(server(nodeOf(id)).get(id), "memcached no longer holds the session tc2 serves");
    }
}
