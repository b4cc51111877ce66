package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.msm.test.memcached.MemcachedServer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Sticky sessions survive the stop of a Tomcat and the kill -9 of a memcached node (issue items 1 and 2). */
class StickyFailoverIT extends MsmIT {

    @ParameterizedTest(name = "memcachedProtocol={0}")
    @ValueSource(strings = {"text", "binary"})
    void counterContinuesOnTheOtherTomcatWhenItsTomcatStops(String protocol) {
        EmbeddedTomcat tc1 = tomcat("tc1", "memcachedProtocol", protocol);
        EmbeddedTomcat tc2 = tomcat("tc2", "memcachedProtocol", protocol);
        Browser browser = new Browser();
        for (int i = 1; i <= 3; i++) {
            assertEquals(i, browser.get(tc1.url("/counter")).count());
        }
        String id = browser.sessionId();
        assertEquals("tc1", routeOf(id));
        awaitBackups(tc1);
        tc1.stop();

        Browser.Page page = browser.get(tc2.url("/counter"));
        assertEquals(200, page.status);
        assertEquals(4, page.count(), "the counter continues on tc2");
        String taken = browser.sessionId();
        assertNotNull(page.setCookie("JSESSIONID"), "tc2 sends the new cookie");
        assertEquals(randomOf(id), randomOf(taken));
        assertEquals(nodeOf(id), nodeOf(taken), "the session keeps its memcached node");
        assertEquals("tc2", routeOf(taken), "and gets tc2's jvmRoute");
        assertEquals(5, browser.get(tc2.url("/counter")).count());
        assertNull(browser.get(tc2.url("/counter")).setCookie("JSESSIONID"), "no new cookie once taken over");
        assertEquals(1, tc2.manager().getMsmTomcatFailovers());
        awaitBackups(tc2);
        assertNull(server(nodeOf(id)).get(id), "the old key is deleted after the new one is stored");
        assertNotNull(server(nodeOf(taken)).get(taken));
    }

    /**
     * A large session is stored in chunks, the bytes of a large attribute reused while no request touches it: the
     * other Tomcat still gets every attribute as the last request left it, a large list changed in place included.
     */
    @org.junit.jupiter.api.Test
    void aLargeSessionStoredInChunksContinuesWholeOnTheOtherTomcat() {
        EmbeddedTomcat tc1 = tomcat("tc1");
        EmbeddedTomcat tc2 = tomcat("tc2");
        Browser browser = new Browser();
        startLargeSession(browser, tc1, tc1);
        for (int i = 1; i <= 3; i++) {
            assertEquals(i, browser.get(tc1.url("/counter")).count());
        }
        browser.get(tc1.url("/cart?add=last")); // the list, read from the session, changed in place
        assertEquals(4, browser.get(tc1.url("/counter")).count());
        awaitBackups(tc1);
        tc1.stop();
        assertLargeSession(browser, tc2, LARGE_ITEM + ", last", 4);
    }

    @ParameterizedTest(name = "sessionBackupAsync={0}")
    @ValueSource(strings = {"true", "false"})
    void killedMemcachedNodeMovesTheSessionToTheLiveNode(String async) {
        EmbeddedTomcat tc1 = tomcat("tc1", "sessionBackupAsync", async);
        EmbeddedTomcat tc2 = tomcat("tc2", "sessionBackupAsync", async);
        Browser browser = new Browser();
        assertEquals(1, browser.get(tc1.url("/counter")).count());
        assertEquals(2, browser.get(tc1.url("/counter")).count());
        String id = browser.sessionId();
        String node = nodeOf(id);
        String other = node.equals("n1") ? "n2" : "n1";
        awaitBackups(tc1);
        MemcachedServer dead = server(node);
        dead.kill();
        // msm's connection watch sees the dead process without sending it anything
        await("tc1 to notice that " + node + " died", 1000,
                () -> !tc1.manager().getMsmAvailableNodes().contains(node));

        Browser.Page page = browser.get(tc1.url("/counter"));
        assertEquals(3, page.count(), "the counter continues");
        String moved = page.setCookie("JSESSIONID");
        assertNotNull(moved, "the response sets the new cookie");
        assertEquals(other, nodeOf(moved), "the session moved to the live node");
        assertEquals(randomOf(id), randomOf(moved));
        assertEquals("tc1", routeOf(moved));
        assertEquals(4, browser.get(tc1.url("/counter")).count());
        awaitBackups(tc1);
        assertNotNull(server(other).get(moved), "stored on the live node");
        assertEquals(1, tc1.manager().getMsmNodeFailovers(), "one move to the live node");

        tc1.stop(); // and now a Tomcat failover
        Browser.Page onTc2 = browser.get(tc2.url("/counter"));
        assertEquals(5, onTc2.count(), "tc2 finds the session on the live node");
        assertEquals(other, nodeOf(browser.sessionId()));
        assertEquals("tc2", routeOf(browser.sessionId()));
        assertEquals(1, tc2.manager().getMsmTomcatFailovers(), "one takeover");
    }

    /**
     * A context path beyond ASCII ({@code /café}) in the {@code storageKeyPrefix}: the key tc1's backup wrote is the
     * key tc2 reads (the two client paths used to encode it differently).
     */
    @org.junit.jupiter.api.Test
    void aSessionOfAContextPathBeyondAsciiContinuesOnTheOtherTomcat() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").contextPath("/caf\u00e9").with("memcachedNodes", nodes())
                .with("storageKeyPrefix", "context").start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").contextPath("/caf\u00e9").with("memcachedNodes", nodes())
                .with("storageKeyPrefix", "context").start());
        Browser browser = new Browser();
        assertEquals(1, browser.get(tc1.url("/counter")).count());
        assertEquals(2, browser.get(tc1.url("/counter")).count());
        String id = browser.sessionId();
        awaitBackups(tc1);
        tc1.stop();

        assertEquals(3, browser.get(tc2.url("/counter")).count(), "the counter continues on tc2");
        awaitBackups(tc2);
        assertNotNull(server(nodeOf(id)).get("/caf\u00e9_" + browser.sessionId()),
                "stored as /caf\u00e9_<id> in UTF-8");
        assertNull(server(nodeOf(id)).get("/caf\u00e9_" + id), "the key of tc1's id is deleted");
    }
}
