package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.test.log.LogLines;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.testing.TestTranscoderFactory;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node list changed while running ({@link SessionEngine#changeNodes}), on real memcached: a node added is connected
 * to and takes new sessions; a node removed is closed (no connection, no thread left) and its sessions move at their
 * next load, non-sticky from their secondary copy; the secondary copies of the other nodes stay where they are.
 */
class NodeChangeIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(3);
    private static final AtomicInteger IDS = new AtomicInteger();

    private static MsmConfig config(String nodes) {
        return MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, nodes)
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .set(MsmConfig.STICKY, "false").build(NodeChangeIT.class.getClassLoader());
    }

    private static SessionEngine start(MsmConfig config, String name) {
        return SessionEngine.start(config, new EngineContext(name, NodeChangeIT.class.getClassLoader(), null, "p_",
                System::currentTimeMillis));
    }

    /** A session on {@code node} with {@code count}, stored (and its secondary copy). */
    private static String stored(SessionEngine e, String node, int count) {
        String id = String.format("%032X", IDS.incrementAndGet()) + "-" + node;
        TestSession s = new TestSession(id, System.currentTimeMillis());
        e.created(s);
        e.requestStarted(s);
        s.set("count", count);
        e.requestEnded(s);
        assertTrue(e.awaitIdle(5000));
        return id;
    }

    private static Set<String> nodesOfNewSessions(SessionEngine e, int count) {
        Set<String> chosen = new HashSet<>();
        for (int i = 0; i < count; i++) {
            String id = e.newSessionId(String.format("%032X", i));
            chosen.add(id.substring(id.lastIndexOf('-') + 1));
        }
        return chosen;
    }

    private static boolean threadAlive(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }

    @Test
    void anAddedNodeTakesNewSessionsAndARemovedOnesSessionsAreLoadedFromTheirSecondaryCopyAndMoved()
            throws Exception {
        List<MemcachedNode> three = config(MEMCACHED.nodesAttribute("n1", "n2", "n3")).nodes();
        try (SessionEngine e = start(config(MEMCACHED.nodesAttribute("n1", "n2")), "/change")) {
            assertEquals(Set.of("n1", "n2"), nodesOfNewSessions(e, 10));
            String onN1 = stored(e, "n1", 1);
            String onN2 = stored(e, "n2", 2);
            assertTrue(MEMCACHED.server(1).keys().stream().anyMatch(k -> k.contains("bak") && k.contains(onN1)),
                    "n1's secondary copy is on n2, the next in the ring: " + MEMCACHED.server(1).keys());

            e.changeNodes(three, 0);
            await("n3 takes new sessions", () -> nodesOfNewSessions(e, 9).contains("n3"));
            assertEquals(Set.of("n1", "n2", "n3"), nodesOfNewSessions(e, 9));
            String onN3 = stored(e, "n3", 3);
            assertTrue(MEMCACHED.server(2).keys().stream().anyMatch(k -> !k.contains("bak") && k.contains(onN3)),
                    "stored on the added node: " + MEMCACHED.server(2).keys());

            e.changeNodes(List.of(three.get(1), three.get(2)), 0); // n1 removed (its memcached still runs)
            assertEquals(Set.of("n2", "n3"), nodesOfNewSessions(e, 10));
            assertTrue(e.isValidId(onN1), "a removed node's session id is still one of this configuration");
            LoadResult r = e.load(onN1);
            assertTrue(r.isFound(), r.status() + " " + r.reason());
            assertEquals(1, r.attributes().get("count"), "from its secondary copy on n2");
            String moved = e.relocate(onN1);
            assertNotNull(moved, "moved off the removed node");
            assertFalse(moved.endsWith("-n1"), moved);
            LoadResult r2 = e.load(onN2);
            assertEquals(2, r2.attributes().get("count"), "n2's sessions are untouched");
            assertNull(e.relocate(onN2));

            await("n1's watch thread ends", () -> !threadAlive("msm-watch-/change-n1"));
            MEMCACHED.server(0).stat("curr_connections"); // (its own connection)
            await("no connection to n1 left", () -> MEMCACHED.server(0).stat("curr_connections") <= 1);
            assertTrue(threadAlive("msm-watch-/change-n2"));
        }
    }

    @Test
    void aJoiningNodeTakesNoSessionBeforeItsDelayUnlessNoOtherIsThere() throws Exception {
        List<MemcachedNode> three = config(MEMCACHED.nodesAttribute("n1", "n2", "n3")).nodes();
        try (SessionEngine e = start(config(MEMCACHED.nodesAttribute("n1", "n2")), "/join")) {
            e.changeNodes(three, 60_000);
            await("n3 connected", () -> e.nodes().size() == 3 && threadAlive("msm-watch-/join-n3"));
            assertEquals(Set.of("n1", "n2"), nodesOfNewSessions(e, 30),
                    "the other Tomcats may not know n3 yet: no session id names it");
            String id = stored(e, "n1", 7);
            assertNull(e.relocate(id));
            assertNotEquals(List.of(), e.nodes());
        }
    }

    @Test
    void aNodeThatOnlyBecomesAFailoverNodeKeepsItsConnections() throws Exception {
        try (SessionEngine e = start(config(MEMCACHED.nodesAttribute("n1", "n2")), "/failover")) {
            stored(e, "n2", 1);
            long connections = MEMCACHED.server(1).stat("total_connections");
            List<MemcachedNode> n2Failover = MsmConfig.builder()
                    .set(MsmConfig.MEMCACHED_NODES, MEMCACHED.nodesAttribute("n1", "n2"))
                    .set(MsmConfig.FAILOVER_NODES, "n2")
                    .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                    .build(getClass().getClassLoader()).nodes();
            e.changeNodes(n2Failover, 0);
            assertEquals(Set.of("n1"), nodesOfNewSessions(e, 10), "n2 only while n1 is down");
            String onN2 = stored(e, "n2", 2);
            assertEquals("n1", e.relocate(onN2).substring(e.relocate(onN2).lastIndexOf('-') + 1));
            // (each stat() opens a connection of its own)
            assertEquals(connections + 1, MEMCACHED.server(1).stat("total_connections"), "no reconnect to n2");
        }
    }

    /** Review H2: a Tomcat started after a node was removed still finds that node's sessions (and moves them). */
    @Test
    void aTomcatStartedAfterANodeWasRemovedFindsItsSessionsFromTheirSecondaryCopy() throws Exception {
        try (io.msm.test.memcached.ConfigEndpointServer endpoint = io.msm.test.memcached.ConfigEndpointServer.start()) {
            endpoint.nodesAt(MEMCACHED.server(0).port(), MEMCACHED.server(1).port(), MEMCACHED.server(2).port());
            MsmConfig discovering = MsmConfig.builder()
                    .set(MsmConfig.MEMCACHED_NODES, "discover:127.0.0.1:" + endpoint.port())
                    .set(MsmConfig.DISCOVERY_INTERVAL, "1")
                    .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                    .set(MsmConfig.STICKY, "false").build(getClass().getClassLoader());
            try (SessionEngine e1 = start(discovering, "/before")) {
                String removed = e1.nodes().stream().filter(n -> n.port() == MEMCACHED.server(0).port())
                        .findFirst().orElseThrow().id();
                String id = stored(e1, removed, 5);
                endpoint.nodesAt(MEMCACHED.server(1).port(), MEMCACHED.server(2).port());
                try (SessionEngine e2 = start(discovering, "/after")) {
                    assertEquals(2, e2.nodes().size());
                    assertTrue(e2.isValidId(id), "an id of a discovered node this Tomcat never knew");
                    LoadResult r = e2.load(id);
                    assertTrue(r.isFound(), r.status() + " " + r.reason());
                    assertEquals(5, r.attributes().get("count"));
                    assertFalse(e2.relocate(id).contains(removed), "moved");
                    assertFalse(e2.isValidId("0123456789ABCDEF0123456789ABCDEF-n1"), "not a discovered id's shape");
                }
            }
        }
    }

    /** Review M1: a node given another address under its id is a new, empty node: what this Tomcat holds goes there. */
    @Test
    void aNodeMovedToAnotherAddressGetsTheSessionsHeldHereStoredAgain() throws Exception {
        List<TestSession> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        String both = MEMCACHED.nodesAttribute("n1", "n2");
        try (SessionEngine e = SessionEngine.start(sticky(both, String.valueOf(MsmConfig.DEFAULT_OPERATION_TIMEOUT_MILLIS)), heldBy("/moved", held))) {
            String id = heldOnN1(e, held).id();
            // n1 now at server 2's address (as a node replaced behind a new address)
            String moved = "n1:127.0.0.1:" + MEMCACHED.server(2).port() + "," + both.split(",")[1];
            e.changeNodes(config(moved).nodes(), 0);
            await("the session stored again on n1's new address", () -> MEMCACHED.server(2).keys().stream()
                    .anyMatch(k -> k.contains(id)));
        }
    }

    /**
     * A node removed and added again under its id (discovery lost it for a while) that restarted empty meanwhile:
     * its watch connects before the node's start has waited for it, so no return is reported; what this Tomcat holds
     * under its id is checked there and stored again all the same.
     */
    @Test
    void aNodeAddedAgainAfterItRestartedEmptyGetsTheSessionsHeldHereStoredAgain() throws Exception {
        List<TestSession> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        String both = MEMCACHED.nodesAttribute("n1", "n2");
        try (SessionEngine e = SessionEngine.start(sticky(both, String.valueOf(MsmConfig.DEFAULT_OPERATION_TIMEOUT_MILLIS)), heldBy("/readded", held))) {
            String id = heldOnN1(e, held).id();
            e.changeNodes(config(both.split(",")[1]).nodes(), 0); // n1 gone
            MEMCACHED.server(0).flushAll(); // restarted empty meanwhile
            e.changeNodes(config(both).nodes(), 0); // n1 back, at the same address
            await("the session stored again on n1", () -> MEMCACHED.server(0).keys().stream()
                    .anyMatch(k -> k.contains(id)));
        }
    }

    /**
     * The same for a change that could not be stored while the node did not answer: a node added again that kept its
     * data (it only stopped answering for a while) gets the session's latest state, not a touch of the state before.
     */
    @Test
    void aNodeAddedAgainGetsTheChangesThatCouldNotBeStoredMeanwhile() throws Exception {
        List<TestSession> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        String both = MEMCACHED.nodesAttribute("n1", "n2");
        MsmConfig sticky = sticky(both, "300");
        try (SessionEngine e = SessionEngine.start(sticky, heldBy("/readded-changed", held))) {
            TestSession s = heldOnN1(e, held);
            MEMCACHED.server(0).pause();
            try {
                e.requestStarted(s);
                s.set("count", 2);
                e.requestEnded(s);
                assertTrue(e.awaitIdle(5000));
                assertTrue(e.isUnsaved(s), "the change could not be stored");
                e.changeNodes(config(both.split(",")[1]).nodes(), 0); // n1 gone
            } finally {
                MEMCACHED.server(0).resume();
            }
            e.changeNodes(config(both).nodes(), 0); // n1 back, with its data
            await("the change stored on n1", () -> !e.isUnsaved(s));
            try (SessionEngine reader = SessionEngine.start(sticky, new EngineContext("/readded-changed",
                    getClass().getClassLoader(), null, "p_", System::currentTimeMillis))) {
                LoadResult r = reader.load(s.id());
                assertTrue(r.isFound(), r.status() + " " + r.reason());
                assertEquals(2, r.attributes().get("count"));
            }
        }
    }

    private static MsmConfig sticky(String nodes, String operationTimeout) {
        return MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, nodes)
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .set(MsmConfig.OPERATION_TIMEOUT, operationTimeout).build(NodeChangeIT.class.getClassLoader());
    }

    private static EngineContext heldBy(String name, List<TestSession> held) {
        return new EngineContext(name, NodeChangeIT.class.getClassLoader(), null, "p_", System::currentTimeMillis,
                () -> held);
    }

    /** A session on n1 this Tomcat holds, with {@code count} 1, stored there. */
    private static TestSession heldOnN1(SessionEngine e, List<TestSession> held) {
        String id = String.format("%032X", IDS.incrementAndGet()) + "-n1";
        TestSession s = new TestSession(id, System.currentTimeMillis());
        held.add(s);
        e.created(s);
        e.requestStarted(s);
        s.set("count", 1);
        e.requestEnded(s);
        assertTrue(e.awaitIdle(5000));
        assertTrue(MEMCACHED.server(0).keys().stream().anyMatch(k -> k.contains(id)));
        return s;
    }

    /** Review M3: a joining node gets no secondary copy (another Tomcat would not look for it there). */
    @Test
    void aJoiningNodeGetsNoSecondaryCopy() throws Exception {
        // n1, n3 at first; n2 joins between them, so it would be n1's next node in the ring
        String n1n3 = "n1:127.0.0.1:" + MEMCACHED.server(0).port() + ",n3:127.0.0.1:" + MEMCACHED.server(2).port();
        try (SessionEngine e = start(config(n1n3), "/secondary")) {
            e.changeNodes(config(MEMCACHED.nodesAttribute("n1", "n2", "n3")).nodes(), 60_000);
            await("n2 connected", () -> threadAlive("msm-watch-/secondary-n2"));
            String id = stored(e, "n1", 1);
            assertTrue(MEMCACHED.server(2).keys().stream().anyMatch(k -> k.contains("bak") && k.contains(id)),
                    "on n3, where every Tomcat looks: " + MEMCACHED.server(2).keys());
            assertTrue(MEMCACHED.server(1).keys().stream().noneMatch(k -> k.contains(id)));
        }
    }

    /** Review L5: a node added while running that never connects is logged as unavailable, once, as at the start. */
    @Test
    void anAddedNodeThatNeverConnectsIsLoggedOnce() throws Exception {
        int closedPort;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = free.getLocalPort();
        }
        LogLines log = LogLines.warnings("io.msm.engine");
        List<String> warnings = log.lines();
        try (log; SessionEngine e = start(config(MEMCACHED.nodesAttribute("n1")), "/never")) {
            e.changeNodes(config(MEMCACHED.nodesAttribute("n1") + ",n9:127.0.0.1:" + closedPort).nodes(), 0);
            await("the warning", () -> !log.containing("n9 is unavailable").isEmpty());
            assertEquals(1, log.containing("not reachable since it was added").size(), warnings.toString());
            assertEquals(Set.of("n1"), nodesOfNewSessions(e, 6));
        }
        assertEquals(1, log.containing("n9 is unavailable").size(),
                warnings.toString());
    }
}
