package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedServer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A paused memcached (SIGSTOP: connections stay open, nothing answers). No request waits longer than the configured
 * timeouts; after the first timeout the node is skipped without waiting, sessions move to the live node, and a
 * background probe brings the node back once it answers.
 */
class PausedNodeIT extends MsmIT {
    private static final int OPERATION_TIMEOUT = 500;
    private static final int MARGIN = 300;

    @ParameterizedTest(name = "sessionBackupAsync={0}")
    @ValueSource(strings = {"true", "false"})
    void pausedNodeNeverStallsRequestsPastTheTimeouts(String async) {
        String[] config = {"sessionBackupAsync", async, "operationTimeout", String.valueOf(OPERATION_TIMEOUT)};
        EmbeddedTomcat tc1 = tomcat("tc1", config);
        EmbeddedTomcat tc2 = tomcat("tc2", config);
        Browser user = new Browser();
        user.get(tc1.url("/counter"));
        String node = nodeOf(user.sessionId());
        String other = node.equals("n1") ? "n2" : "n1";
        Browser visitor = new Browser(); // a session on the same node, held by tc1
        do {
            visitor = new Browser();
            visitor.get(tc1.url("/counter"));
        } while (!nodeOf(visitor.sessionId()).equals(node));
        awaitBackups(tc1);
        MemcachedServer paused = server(node);
        paused.pause();

        long slowest = 0;
        Browser.Page p = user.get(tc1.url("/counter")); // its backup times out
        slowest = Math.max(slowest, p.millis);
        assertEquals(2, p.count());
        await("tc1 to give up on " + node, 3 * OPERATION_TIMEOUT,
                () -> !tc1.manager().getMsmAvailableNodes().contains(node));
        for (int i = 3; i <= 6; i++) {
            p = user.get(tc1.url("/counter"));
            slowest = Math.max(slowest, p.millis);
            assertEquals(i, p.count());
        }
        assertEquals(other, nodeOf(user.sessionId()), "moved to the live node");
        awaitBackups(tc1);
        assertNotNull(server(other).get(user.sessionId()));

        // a Tomcat failover to a session on the paused node waits at most operationTimeout, once
        tc1.stop();
        p = visitor.get(tc2.url("/counter"));
        slowest = Math.max(slowest, p.millis);
        assertEquals(200, p.status);
        Browser.Page again = new Browser().get(tc2.url("/counter"));
        slowest = Math.max(slowest, again.millis);
        System.out.printf("PausedNodeIT sessionBackupAsync=%s: slowest request with a paused node: %d ms "
                + "(operationTimeout %d ms)%n", async, slowest, OPERATION_TIMEOUT);
        assertTrue(slowest < OPERATION_TIMEOUT + MARGIN, "slowest request took " + slowest + " ms");
        assertEquals(7, user.get(tc2.url("/counter")).count(), "the moved session is found by tc2");

        paused.resume();
        await("the probe to bring " + node + " back", 5000,
                () -> tc2.manager().getMsmAvailableNodes().contains(node));
        Browser later = new Browser();
        for (int i = 0; i < 4; i++) {
            later = new Browser();
            later.get(tc2.url("/counter"));
            if (nodeOf(later.sessionId()).equals(node)) {
                break;
            }
        }
        assertEquals(node, nodeOf(later.sessionId()), "new sessions use the resumed node again");
        assertEquals(1, tc2.manager().getMsmLoadFailures(), "the load from the paused node timed out, once");
        assertEquals(1, tc2.manager().getMsmSessionsLoaded(), "the moved session was loaded from the live node");
    }
}
