package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every memcached node down (issue item 5): requests are served from memory, none waits past operationTimeout;
 * when the nodes return, what changed meanwhile is stored, and sessions memcached lost are stored again.
 */
class MemcachedOutageIT extends MsmIT {
    private static final int OPERATION_TIMEOUT = 1000;
    private static final int MARGIN = 300;

    @ParameterizedTest(name = "sessionBackupAsync={0}")
    @ValueSource(strings = {"true", "false"})
    void requestsSucceedFromMemoryAndChangesAreStoredWhenNodesReturn(String async) {
        EmbeddedTomcat tc1 = tomcat("tc1", "sessionBackupAsync", async,
                "operationTimeout", String.valueOf(OPERATION_TIMEOUT));
        EmbeddedTomcat tc2 = tomcat("tc2");
        List<Browser> users = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Browser b = new Browser();
            b.get(tc1.url("/counter"));
            users.add(b);
        }
        Browser untouched = users.remove(3); // makes no request during the outage
        awaitBackups(tc1);

        for (MemcachedServer s : MEMCACHED.servers()) {
            s.kill();
        }
        await("both nodes unavailable", 1000, () -> tc1.manager().getMsmAvailableNodes().isEmpty());
        long slowest = 0;
        for (int round = 2; round <= 6; round++) {
            for (Browser b : users) {
                Browser.Page p = b.get(tc1.url("/counter"));
                assertEquals(200, p.status, p.body);
                assertEquals(round, p.count(), "served from memory");
                slowest = Math.max(slowest, p.millis);
            }
        }
        Browser newcomer = new Browser();
        Browser.Page created = newcomer.get(tc1.url("/counter"));
        assertEquals(1, created.count(), "even new sessions work");
        slowest = Math.max(slowest, created.millis);
        System.out.printf("MemcachedOutageIT sessionBackupAsync=%s: slowest of 16 requests with every node down: %d ms"
                + "%n", async, slowest);
        assertTrue(slowest < OPERATION_TIMEOUT + MARGIN, "slowest request took " + slowest + " ms");
        awaitBackups(tc1);
        assertEquals(4, tc1.manager().getMsmUnsavedSessions(), "changed meanwhile, not stored yet");

        for (MemcachedServer s : MEMCACHED.servers()) {
            s.start(); // empty, same port
        }
        await("changed sessions stored", 10_000, () -> tc1.manager().getMsmUnsavedSessions() == 0);
        await("sessions memcached lost stored again", 10_000,
                () -> server(nodeOf(untouched.sessionId())).get(untouched.sessionId()) != null);
        awaitBackups(tc1);
        // tc2's own clients reconnect too (spymemcached retries at most every 2 s)
        await("tc2 to see both nodes", 5000, () -> tc2.manager().getMsmAvailableNodes().equals("n1,n2"));
        for (Browser b : users) {
            assertNotNull(server(nodeOf(b.sessionId())).get(b.sessionId()), "stored after the outage");
            assertEquals("6", b.get(tc2.url("/read")).field("count"), "another Tomcat sees the latest state");
        }
        assertEquals("1", untouched.get(tc2.url("/read")).field("count"));
        assertEquals("1", newcomer.get(tc2.url("/read")).field("count"));
    }
}
