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
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code memcachedNodes="discover:..."} against a configuration endpoint (msm-test-support's
 * {@link ConfigEndpointServer}, answering {@code config get cluster} as ElastiCache does) in front of real memcached
 * processes, on two Tomcats under load: a node added takes new sessions; a node removed (its memcached running, then
 * killed) fails no request and loses no session; the endpoint away changes nothing until it returns; bad answers keep
 * the last list and are logged once.
 */
class DiscoveryIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(3);
    private final ConfigEndpointServer endpoint = ConfigEndpointServer.start();
    private final List<EmbeddedTomcat> tomcats = new ArrayList<>();

    @AfterEach
    void stop() {
        tomcats.forEach(EmbeddedTomcat::close);
        endpoint.close();
    }

    private EmbeddedTomcat tomcat(String route, String sticky) {
        EmbeddedTomcat t = EmbeddedTomcat.on(route).with("memcachedNodes", "discover:127.0.0.1:" + endpoint.port())
                .with("discoveryInterval", "1").with("sticky", sticky).start();
        tomcats.add(t);
        return t;
    }

    private static int port(int server) {
        return MEMCACHED.server(server).port();
    }

    /** The id tc1 gives the node on memcached server {@code server}. */
    private static String idOf(EmbeddedTomcat tc, int server) {
        for (MemcachedNode n : tc.manager().engine().nodes()) {
            if (n.port() == port(server)) {
                return n.id();
            }
        }
        throw new AssertionError("no node on server " + server + ": " + tc.manager().engine().nodes());
    }

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
        UserLoad load = new UserLoad(6, n -> nonSticky ? both[n % 2] : tc1);
        try {
            load.awaitRequests(60);

            endpoint.nodesAt(port(0), port(1), port(2));
            long addedAt = System.nanoTime();
            await("both Tomcats know the added node", 5000, () -> tc1.manager().engine().nodes().size() == 3
                    && tc2.manager().engine().nodes().size() == 3);
            String added = idOf(tc1, 2);
            assertEquals(added, idOf(tc2, 2), "every Tomcat gives a node the same id");
            long firstSession = await("a new session on the added node", 10_000, () -> {
                Browser b = new Browser();
                b.get(tc1.url("/counter"));
                return MsmIT.nodeOf(b.sessionId()).equals(added);
            });
            long tookMillis = (System.nanoTime() - addedAt) / 1_000_000;
            int afterAdd = load.requests.get();

            String removed = idOf(tc1, 0);
            endpoint.nodesAt(port(1), port(2)); // its memcached still runs
            await("both Tomcats dropped it", 5000, () -> tc1.manager().engine().nodes().size() == 2
                    && tc2.manager().engine().nodes().size() == 2);
            await("no user left on the removed node", 10_000, () -> load.sessionIds().stream()
                    .noneMatch(id -> MsmIT.nodeOf(id).equals(removed)));
            MEMCACHED.server(0).kill(); // then it goes
            load.awaitRequests(60);
            int afterRemove = load.requests.get();

            endpoint.stop(); // the endpoint away: three intervals of refused questions
            load.awaitRequests(60);
            Thread.sleep(3000); // what is measured: nothing changes meanwhile
            assertEquals(2, tc1.manager().engine().nodes().size(), "the last list stays");
            endpoint.restart();
            load.awaitRequests(60);
            load.stop();
            assertEquals(List.of(), load.failures);
            System.out.println("DiscoveryIT sticky=" + sticky + ": " + afterAdd + " requests until the added node"
                    + " took a session " + tookMillis + " ms after the endpoint listed it (" + firstSession
                    + " ms of asking), " + (afterRemove - afterAdd) + " while one was removed and killed, "
                    + (load.requests.get() - afterRemove) + " with the endpoint away and back; 0 failed");
        } finally {
            load.stop();
        }
    }

    @Test
    void badAnswersKeepTheLastListAndAreLoggedOnce() throws Exception {
        endpoint.nodesAt(port(0), port(1));
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue() && r.getMessage().contains("memcachedNodes")) {
                    warnings.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger("io.msm.discovery");
        logger.addHandler(h);
        try {
            EmbeddedTomcat tc1 = tomcat("tc1", "false");
            EmbeddedTomcat tc2 = tomcat("tc2", "false");
            EmbeddedTomcat[] both = {tc1, tc2};
            List<MemcachedNode> before = tc1.manager().engine().nodes();
            UserLoad load = new UserLoad(4, n -> both[n % 2]);
            try {
                byte[][] bad = {
                    "CONFIG cluster 0 12\r\nversion\nx|y|1\n\r\nEND\r\n".getBytes(StandardCharsets.US_ASCII),
                    ConfigEndpointServer.reply("CONFIG cluster", 9),
                    "garbage without a line end".getBytes(StandardCharsets.US_ASCII),
                    "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII),
                };
                for (byte[] answer : bad) {
                    endpoint.answerRaw(answer);
                    int asked = endpoint.questions();
                    await("both Tomcats asked", 5000, () -> endpoint.questions() >= asked + 2);
                    load.awaitRequests(20);
                }
                load.stop();
                assertEquals(List.of(), load.failures);
            } finally {
                load.stop();
            }
            assertEquals(before, tc1.manager().engine().nodes(), "the last good list");
            assertEquals(2, warnings.size(), "once per Tomcat: " + warnings);
        } finally {
            logger.removeHandler(h);
        }
    }
}
