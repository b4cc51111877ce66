package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MemcachedNode;
import io.msm.test.memcached.ConfigEndpointServer;
import io.msm.test.memcached.MemcachedExtension;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code memcachedNodes="discover:..."} against a configuration endpoint (msm-test-support's
 * {@link ConfigEndpointServer}, answering {@code config get cluster} as ElastiCache does) in front of real memcached
 * processes, on two Tomcats under load (issue 24, items 4 and 5): a node added takes new sessions; a node removed (its
 * memcached running, then killed) fails no request and loses no session; the endpoint away for more than three
 * intervals changes nothing, and back with a new list is followed; bad answers keep the last list and are logged
 * once per outage.
 */
class DiscoveryIT {
    private static final int INTERVAL_MILLIS = 1000;
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(4);
    private final ConfigEndpointServer endpoint = ConfigEndpointServer.start();
    private final List<EmbeddedTomcat> tomcats = new ArrayList<>();
    /** The Tomcat of every sticky user's requests: tc1, then tc2 once they failed over. */
    private volatile EmbeddedTomcat stickyTomcat;

    @AfterEach
    void stop() {
        tomcats.forEach(EmbeddedTomcat::close);
        endpoint.close();
    }

    private EmbeddedTomcat tomcat(String route, String sticky) {
        EmbeddedTomcat t = EmbeddedTomcat.on(route).with("memcachedNodes", "discover:127.0.0.1:" + endpoint.port())
                .with("discoveryInterval", String.valueOf(INTERVAL_MILLIS / 1000)).with("sticky", sticky)
                // sticky users fail over once: with the default asynchronous backup the change of the last response
                // before it may not be stored yet (README), which the load would count as a failure
                .with("sessionBackupAsync", "false").start();
        tomcats.add(t);
        return t;
    }

    private static int port(int server) {
        return MEMCACHED.server(server).port();
    }

    private static boolean knows(EmbeddedTomcat tc, int server) {
        return tc.manager().engine().nodes().stream().anyMatch(n -> n.port() == port(server));
    }

    /** The id {@code tc} gives the node on memcached server {@code server}. */
    private static String idOf(EmbeddedTomcat tc, int server) {
        for (MemcachedNode n : tc.manager().engine().nodes()) {
            if (n.port() == port(server)) {
                return n.id();
            }
        }
        throw new AssertionError("no node on server " + server + " in " + tc.route() + ": "
                + tc.manager().engine().nodes());
    }

    /** Polls {@code condition} every 20 ms until it holds (failing after {@code maxMillis}); returns the millis. */
    private static long await(String what, long maxMillis, BooleanSupplier condition) throws InterruptedException {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - start < maxMillis * 1_000_000, "not within " + maxMillis + " ms: " + what);
            Thread.sleep(20);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"false", "true"})
    void nodesAddedAndRemovedUnderLoadAndTheEndpointAwayLoseNothing(String sticky) throws Exception {
        endpoint.nodesAt(port(0), port(1));
        EmbeddedTomcat tc1 = tomcat("tc1", sticky);
        EmbeddedTomcat tc2 = tomcat("tc2", sticky);
        EmbeddedTomcat[] both = {tc1, tc2};
        boolean nonSticky = sticky.equals("false");
        stickyTomcat = tc1;
        UserLoad load = new UserLoad(6, n -> nonSticky ? both[n % 2] : stickyTomcat);
        try {
            load.awaitRequests(60);
            int[] at = new int[5];
            at[0] = load.requests.get();
            long added = newNodeTakesSessions(tc1, tc2, 2, () -> endpoint.nodesAt(port(0), port(1), port(2)));
            load.awaitRequests(30);
            at[1] = load.requests.get();
            if (!nonSticky) {
                stickyTomcat = tc2; // the users fail over once, as when a balancer stops sending to tc1
                load.awaitRequests(60);
            }
            at[2] = load.requests.get();
            int usersMoved = removedNodeLosesNothing(load, tc1, tc2);
            at[3] = load.requests.get();
            long back = endpointAwayChangesNothingUntilItReturns(load, tc1, tc2);
            load.awaitRequests(30);
            at[4] = load.requests.get();
            load.stop();
            assertEquals(List.of(), load.failures);
            System.out.println("DiscoveryIT sticky=" + sticky + ": requests " + at[0] + " before, " + (at[1] - at[0])
                    + " while a node was added (first new session on it " + added + " ms after the endpoint listed"
                    + " it), " + (at[2] - at[1]) + (nonSticky ? " (no failover)" : " failing over to tc2") + ", "
                    + (at[3] - at[2]) + " while one was removed then killed (" + usersMoved + " of 6 users were on"
                    + " it), " + (at[4] - at[3]) + " with the endpoint away > 3 intervals and back with a new list"
                    + " (first new session on its new node " + back + " ms after it listened again); "
                    + load.failures.size() + " failed");
        } finally {
            load.stop();
        }
    }

    /**
     * Applies {@code change} to the endpoint, waits until both Tomcats know the node on memcached {@code server} under
     * the same id and a new session is stored there (its key in that memcached).
     *
     * @return the millis from the change to that first new session
     */
    private long newNodeTakesSessions(EmbeddedTomcat tc1, EmbeddedTomcat tc2, int server, Runnable change)
            throws InterruptedException {
        long changedAt = System.nanoTime();
        change.run();
        await("both Tomcats know server " + server, 5 * INTERVAL_MILLIS, () -> knows(tc1, server)
                && knows(tc2, server));
        String id = idOf(tc1, server);
        assertEquals(id, idOf(tc2, server), "every Tomcat gives a node the same id");
        String[] session = new String[1];
        await("a new session on the added node " + id, 10 * INTERVAL_MILLIS, () -> {
            Browser b = new Browser();
            b.get(tc1.url("/counter"));
            session[0] = b.sessionId();
            return MsmIT.nodeOf(session[0]).equals(id);
        });
        long tookMillis = (System.nanoTime() - changedAt) / 1_000_000;
        await("the new session's key in memcached server " + server, 2000, () -> MEMCACHED.server(server).keys()
                .stream().anyMatch(k -> k.contains(session[0])));
        return tookMillis;
    }

    /**
     * The endpoint stops listing server 0 (still running): both Tomcats drop it, every user moves off it at their next
     * request; then it is killed.
     *
     * @return how many users were on it when it was removed
     */
    private int removedNodeLosesNothing(UserLoad load, EmbeddedTomcat tc1, EmbeddedTomcat tc2) throws Exception {
        String removed = idOf(tc1, 0);
        int on = (int) load.sessionIds().stream().filter(id -> MsmIT.nodeOf(id).equals(removed)).count();
        endpoint.nodesAt(port(1), port(2)); // its memcached still runs
        await("both Tomcats dropped " + removed, 5 * INTERVAL_MILLIS, () -> !knows(tc1, 0) && !knows(tc2, 0));
        await("no user left on " + removed, 10 * INTERVAL_MILLIS, () -> load.sessionIds().stream()
                .noneMatch(id -> MsmIT.nodeOf(id).equals(removed)));
        MEMCACHED.server(0).kill(); // then it goes
        load.awaitRequests(60);
        assertTrue(load.sessionIds().stream().noneMatch(id -> MsmIT.nodeOf(id).equals(removed)),
                "no user back on " + removed + ": " + load.sessionIds());
        return on;
    }

    /**
     * The endpoint stops for 3.5 intervals: all along, both Tomcats keep their node list and available nodes (JMX
     * {@code msmAvailableNodes}) and the load goes on; then it listens again listing server 3 too, which is taken.
     *
     * @return the millis from its restart to the first new session on server 3
     */
    private long endpointAwayChangesNothingUntilItReturns(UserLoad load, EmbeddedTomcat tc1, EmbeddedTomcat tc2)
            throws InterruptedException {
        List<MemcachedNode> nodes1 = tc1.manager().engine().nodes();
        List<MemcachedNode> nodes2 = tc2.manager().engine().nodes();
        String available1 = tc1.manager().getMsmAvailableNodes();
        String available2 = tc2.manager().getMsmAvailableNodes();
        endpoint.stop();
        int requestsBefore = load.requests.get();
        long end = System.nanoTime() + (INTERVAL_MILLIS * 7L / 2) * 1_000_000;
        int checks = 0;
        while (System.nanoTime() < end) { // what is measured is that nothing changes over this time
            assertEquals(nodes1, tc1.manager().engine().nodes(), "tc1's nodes with the endpoint away");
            assertEquals(nodes2, tc2.manager().engine().nodes(), "tc2's nodes with the endpoint away");
            assertEquals(available1, tc1.manager().getMsmAvailableNodes(), "tc1's msmAvailableNodes");
            assertEquals(available2, tc2.manager().getMsmAvailableNodes(), "tc2's msmAvailableNodes");
            checks++;
            Thread.sleep(50);
        }
        assertTrue(checks > 10, "checked " + checks + " times");
        assertTrue(load.requests.get() > requestsBefore + 20, "the load went on with the endpoint away: "
                + (load.requests.get() - requestsBefore) + " requests");
        return newNodeTakesSessions(tc1, tc2, 3, () -> {
            endpoint.nodesAt(port(1), port(2), port(3));
            endpoint.restart();
        });
    }

    /** A {@code config get cluster} answer around {@code data} with the right byte count (only the data is wrong). */
    private static byte[] withByteCount(String data) {
        return ("CONFIG cluster 0 " + data.length() + "\r\n" + data + "\r\nEND\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** The WARNING lines saying a question failed and the nodes stay (one per Tomcat per outage expected). */
    private static List<String> outageWarnings(LogCapture log) {
        return log.records.stream().filter(r -> r.getLevel() == Level.WARNING).map(LogCapture::fullText)
                .filter(m -> m.contains("memcachedNodes") && m.contains("the nodes stay")).collect(Collectors.toList());
    }

    @Test
    void badAnswersKeepTheLastListAndAreLoggedOncePerOutage() throws Exception {
        endpoint.nodesAt(port(0), port(1));
        byte[][] bad = {
            withByteCount("version\nlocalhost|127.0.0.1|" + port(2) + "\n"), // a word where the version number goes
            ConfigEndpointServer.reply("CONFIG cluster", 9),
            "garbage without a line end".getBytes(StandardCharsets.US_ASCII),
            "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII),
        };
        String[] names = {"wrong version line", "empty node list", "garbage", "1 MB of garbage"};
        try (LogCapture log = LogCapture.of("io.msm.discovery")) {
            EmbeddedTomcat tc1 = tomcat("tc1", "false");
            EmbeddedTomcat tc2 = tomcat("tc2", "false");
            EmbeddedTomcat[] both = {tc1, tc2};
            List<MemcachedNode> before1 = tc1.manager().engine().nodes();
            List<MemcachedNode> before2 = tc2.manager().engine().nodes();
            UserLoad load = new UserLoad(4, n -> both[n % 2]);
            try {
                for (int i = 0; i < bad.length; i++) {
                    int outages = i + 1;
                    endpoint.answerRaw(bad[i]);
                    await(names[i] + ": both Tomcats warned", 5 * INTERVAL_MILLIS,
                            () -> outageWarnings(log).size() >= 2 * outages);
                    int asked = endpoint.questions();
                    await(names[i] + ": asked twice more each", 5 * INTERVAL_MILLIS,
                            () -> endpoint.questions() >= asked + 4);
                    assertEquals(2 * outages, outageWarnings(log).size(), names[i] + ": one warning per Tomcat per"
                            + " outage: " + outageWarnings(log));
                    assertEquals(before1, tc1.manager().engine().nodes(), names[i] + ": tc1 keeps the last list");
                    assertEquals(before2, tc2.manager().engine().nodes(), names[i] + ": tc2 keeps the last list");
                    load.awaitRequests(20);
                    endpoint.nodesAt(port(0), port(1)); // the outage ends: the same nodes again
                    await(names[i] + ": both Tomcats say it answers again", 5 * INTERVAL_MILLIS,
                            () -> log.containing("answers again").size() >= 2 * outages);
                }
                load.stop();
                assertEquals(List.of(), load.failures);
                System.out.println("DiscoveryIT bad answers: " + load.requests.get() + " requests, "
                        + load.failures.size() + " failed; warnings: " + outageWarnings(log));
            } finally {
                load.stop();
            }
            assertEquals(before1, tc1.manager().engine().nodes(), "the last good list");
        }
    }
}
