package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Expiry with Tomcat's stock background processing (issue item 4): a session only read keeps its memcached copy
 * alive past the copy's original TTL; an idle one is gone from Tomcat and memcached.
 */
class ExpiryIT extends MsmIT {

    @Test
    void onlyReadSessionOutlivesItsFirstTtlAndIdleSessionExpiresEverywhere() throws Exception {
        // maxInactiveInterval 3 s: msm stores the copy for 3 s + 3 s slack
        EmbeddedTomcat tc1 = tomcat("tc1", "maxInactiveInterval", "3");
        EmbeddedTomcat tc2 = tomcat("tc2", "maxInactiveInterval", "3");
        assertEquals(10, tc1.context().getParent().getParent().getBackgroundProcessorDelay(),
                "Tomcat's stock background processor delay");
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        awaitBackups(tc1);
        long written = System.nanoTime();
        while (System.nanoTime() - written < 11_000_000_000L) { // more than twice the first TTL
            Thread.sleep(1500); // the user's pace in real time: the copy's TTL is what is measured
            assertNotNull(server(nodeOf(id)).get(id), "memcached lost a session that is read every 1.5 s");
            assertEquals("1", b.get(tc1.url("/read")).field("count"));
        }
        awaitBackups(tc1);
        assertTrue(tc1.manager().getMsmTouches() >= 3, "kept alive by touches: " + tc1.manager().getMsmTouches());
        assertEquals(1, tc1.manager().getMsmBackups(), "never rewritten");

        tc1.stop(); // the copy is what tc2 finds
        assertEquals("1", b.get(tc2.url("/read")).field("count"));
        String taken = b.sessionId();
        awaitBackups(tc2);
        assertNotNull(server(nodeOf(taken)).get(taken));

        // idle: memcached drops it at its TTL (3 s timeout + 3 s slack, on memcached's 1 s clock), at most 7.5 s
        // after the last request; waited for, not slept through
        long idleSince = System.nanoTime();
        await("memcached to drop the idle session", 7500, () -> server(nodeOf(taken)).get(taken) == null);
        long idleMillis = (System.nanoTime() - idleSince) / 1_000_000;
        System.out.println("ExpiryIT: memcached dropped the idle session after about " + idleMillis + " ms idle");
        assertTrue(idleMillis >= 3500, "dropped before its TTL: " + idleMillis + " ms after its last request");
        assertNull(server(nodeOf(taken)).get(taken), "memcached dropped the idle session");
        assertEquals("no-session", b.get(tc2.url("/read")).body, "Tomcat expired it too");
        assertTrue(TestApp.EVENTS.contains("destroyed tc2 " + taken), "sessionDestroyed fired where it lived");
    }
}
