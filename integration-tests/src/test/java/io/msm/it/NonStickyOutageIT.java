package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedServer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Non-sticky mode while every memcached node is down: a user who stays on one Tomcat keeps the session that Tomcat
 * holds in memory meanwhile, it is stored when a node returns, and sessions held only in memory expire at their
 * timeout.
 */
class NonStickyOutageIT extends MsmIT {

    private EmbeddedTomcat nonSticky(String route, String... more) {
        String[] attributes = new String[more.length + 2];
        attributes[0] = "sticky";
        attributes[1] = "false";
        System.arraycopy(more, 0, attributes, 2, more.length);
        return tomcat(route, attributes);
    }

    private static void killEveryNode(EmbeddedTomcat... tomcats) {
        for (MemcachedServer s : MEMCACHED.servers()) {
            s.kill();
        }
        for (EmbeddedTomcat t : tomcats) {
            await("every node unavailable on " + t.route(), 2000, () -> t.manager().getMsmAvailableNodes().isEmpty());
        }
    }

    @Test
    void aUserOnOneTomcatKeepsTheSessionWhileEveryNodeIsDownAndAnyTomcatHasItWhenTheyReturn() {
        EmbeddedTomcat tc1 = nonSticky("tc1");
        EmbeddedTomcat tc2 = nonSticky("tc2");
        Browser earlier = new Browser(); // a session memcached held when it went down
        assertEquals(1, earlier.get(tc2.url("/counter")).count());
        String lost = earlier.sessionId();
        awaitBackups(tc2);
        killEveryNode(tc1, tc2);

        Browser user = new Browser();
        for (int i = 1; i <= 6; i++) {
            Browser.Page p = user.get(tc1.url("/counter"));
            assertEquals(200, p.status, p.body);
            assertEquals(i, p.count(), "request " + i + " on tc1 with every node down: " + p.body);
        }
        String kept = user.sessionId();
        Browser.Page first = earlier.get(tc1.url("/counter"));
        assertEquals(1, first.count(), "memcached held it: a new session");
        assertNotEquals(lost, earlier.sessionId());
        assertEquals(2, earlier.get(tc1.url("/counter")).count(), "which this Tomcat keeps from then on");
        assertEquals(2, tc1.manager().getMsmUnsavedSessions());
        assertEquals(2, tc1.manager().getActiveSessions(), "held in memory until a node takes them");

        for (MemcachedServer s : MEMCACHED.servers()) {
            s.start(); // empty, same port
        }
        await("sessions stored", 10_000, () -> tc1.manager().getMsmUnsavedSessions() == 0);
        assertNotNull(server(nodeOf(kept)).get(kept), "stored when its node returned");
        await("tc2 to see both nodes", 5000, () -> tc2.manager().getMsmAvailableNodes().equals("n1,n2"));
        assertEquals("6", user.get(tc2.url("/read")).field("count"), "another Tomcat sees it");
        assertEquals(7, user.get(tc1.url("/counter")).count());
        assertEquals("2", earlier.get(tc2.url("/read")).field("count"));
        tc1.manager().backgroundProcess(); // Tomcat's periodic check: stored sessions leave memory
        assertEquals(0, tc1.manager().getActiveSessions(), "memcached holds them again");
    }

    /**
     * A session this Tomcat holds only because no node could take it has its latest state nowhere else: it ends here
     * at its timeout, with one sessionDestroyed, although no memcached node can be asked for a claim of its end.
     */
    @Test
    void sessionsHeldInMemoryDuringAnOutageExpireAtTheirTimeout() throws Exception {
        EmbeddedTomcat tc1 = nonSticky("tc1", "maxInactiveInterval", "1");
        killEveryNode(tc1);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Browser b = new Browser();
            assertEquals(1, b.get(tc1.url("/counter")).count());
            ids.add(b.sessionId());
        }
        assertEquals(3, tc1.manager().getMsmUnsavedSessions());
        Thread.sleep(1100); // real time: their 1 s timeout passes (what Tomcat's processExpires compares with)
        tc1.manager().processExpires(); // what Tomcat's background thread does
        assertEquals(0, tc1.manager().getActiveSessions());
        assertEquals(0, tc1.manager().getMsmUnsavedSessions(), "expired sessions are not kept for a returning node");
        for (String id : ids) {
            assertEquals(List.of("destroyed tc1 " + id), destroyed(id), "ended once, here");
            assertFalse(tc1.manager().engine().expiry().watches(id), "not left to the timeout watch");
        }

        for (MemcachedServer s : MEMCACHED.servers()) {
            s.start(); // empty, same port
        }
        await("the nodes back", 5000, () -> tc1.manager().getMsmAvailableNodes().equals("n1,n2"));
        awaitBackups(tc1);
        for (String id : ids) {
            byte[] left = server(nodeOf(id)).get(id);
            // non-sticky, an ended id keeps a tombstone (MSMX) where its session was (written when the node returned)
            assertTrue(left == null || "MSMX".equals(new String(left, StandardCharsets.ISO_8859_1)),
                    "not stored when its node returned: " + (left == null ? null : new String(left,
                    StandardCharsets.ISO_8859_1)));
        }
        assertEquals(List.of("destroyed tc1 " + ids.get(0)), destroyed(ids.get(0)), "still once");
    }

    private static List<String> destroyed(String id) {
        return TestApp.EVENTS.stream().filter(e -> e.startsWith("destroyed ") && e.endsWith(" " + id))
                .collect(Collectors.toList());
    }
}
