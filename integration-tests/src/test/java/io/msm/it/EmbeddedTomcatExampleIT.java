package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.msm.tomcat.MemcachedSessionManager;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Runs the README's embedded-Tomcat example as a user would: two Tomcats configured in code, two memcached nodes, a
 * session created on one Tomcat and then served by the other after the first stops, and again after its memcached
 * node is killed. The suite runs on Tomcat 9.0, 10.1 and 11, so the example is run on each line
 * (ReadmeSnippetsTest keeps the README's text equal to the example's source).
 */
class EmbeddedTomcatExampleIT extends MsmIT {
    private Tomcat first;
    private Tomcat second;

    @Test
    void sessionSurvivesTheStopOfItsTomcatAndTheKillOfItsMemcachedNode() throws Exception {
        first = EmbeddedTomcatExample.start("127.0.0.1", 0, "tc1", nodes());
        second = EmbeddedTomcatExample.start("127.0.0.1", 0, "tc2", nodes());
        Browser browser = new Browser();
        assertEquals(1, browser.get(url(first)).count());
        assertEquals(2, browser.get(url(first)).count());
        String id = browser.sessionId();

        first.stop(); // a Tomcat fails: the balancer sends the user to the other one
        assertEquals(3, browser.get(url(second)).count(), "tc2 serves the session tc1 created");
        assertEquals("tc2", routeOf(browser.sessionId()));

        String node = nodeOf(browser.sessionId());
        server(node).kill(); // and its memcached node dies
        MemcachedSessionManager manager =
                (MemcachedSessionManager) ((Context) second.getHost().findChild("")).getManager();
        // msm's watch connection notices within milliseconds; a request before that is served from memory and the
        // session moves at the next one
        await("tc2 to notice that " + node + " died", 1000, () -> !manager.getMsmAvailableNodes().contains(node));
        assertEquals(4, browser.get(url(second)).count());
        assertNotEquals(node, nodeOf(browser.sessionId()), "moved to the live node");
        assertEquals(randomOf(id), randomOf(browser.sessionId()));
    }

    private static String url(Tomcat tomcat) {
        return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/counter";
    }

    @AfterEach
    void stop() throws LifecycleException {
        for (Tomcat t : new Tomcat[] {first, second}) {
            if (t != null) {
                t.stop();
                t.destroy();
            }
        }
    }
}
