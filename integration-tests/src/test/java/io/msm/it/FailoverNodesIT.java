package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code failoverNodes} are used only while every primary node is down (issue item 3). */
class FailoverNodesIT extends MsmIT {

    @Test
    void failoverNodeIsUsedOnlyWhileEveryPrimaryNodeIsDown() {
        EmbeddedTomcat tc1 = tomcat("tc1", "failoverNodes", "n2");
        List<Browser> users = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Browser b = new Browser();
            assertEquals(1, b.get(tc1.url("/counter")).count());
            assertEquals("n1", nodeOf(b.sessionId()), "new sessions go to the primary node");
            users.add(b);
        }
        awaitBackups(tc1);
        assertEquals(10, server("n1").stat("curr_items"));
        // (but for msm's reads of its takeover notices, on every node: see MemcachedCalls)
        assertEquals(0, server("n2").stat("cmd_set") + server("n2").stat("cmd_get") - server("n2").prefixGets("msm"),
                "the failover node is not used while the primary is up");

        server("n1").kill();
        await("n1 unavailable", 1000, () -> !tc1.manager().getMsmAvailableNodes().contains("n1"));
        Browser existing = users.get(0);
        Browser.Page moved = existing.get(tc1.url("/counter"));
        assertEquals(2, moved.count());
        assertEquals("n2", nodeOf(moved.setCookie("JSESSIONID")), "moved to the failover node");
        Browser newcomer = new Browser();
        newcomer.get(tc1.url("/counter"));
        assertEquals("n2", nodeOf(newcomer.sessionId()), "new sessions use the failover node now");
        awaitBackups(tc1);
        assertNotNull(server("n2").get(existing.sessionId()));

        server("n1").start();
        await("n1 available again", 5000, () -> tc1.manager().getMsmAvailableNodes().contains("n1"));
        Browser later = new Browser();
        later.get(tc1.url("/counter"));
        assertEquals("n1", nodeOf(later.sessionId()), "back to the primary once it returns");
        Browser.Page back = existing.get(tc1.url("/counter"));
        assertEquals(3, back.count());
        assertEquals("n1", nodeOf(existing.sessionId()), "sessions leave the failover node too");
        awaitBackups(tc1);
        assertNotNull(server("n1").get(existing.sessionId()));
    }
}
