package io.msm.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.config.NodeDiscovery;
import io.msm.test.log.LogLines;
import io.msm.test.memcached.ConfigEndpointServer;
import io.msm.testing.TestTranscoderFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link DiscoveryPoller} against a configuration endpoint over a real socket (msm-test-support's
 * {@link ConfigEndpointServer}, speaking the documented {@code config get cluster} answer): the first list, changes
 * every interval, a bad answer or an endpoint away keeps the last list and is logged once, a hanging endpoint ends at
 * the timeout, and close ends everything in bounded time.
 */
class DiscoveryPollerIT {
    private static final long TIMEOUT = 500;
    private final ConfigEndpointServer endpoint = ConfigEndpointServer.start();
    private final List<List<MemcachedNode>> changes = new CopyOnWriteArrayList<>();
    private LogLines log;
    private List<String> warnings;
    private DiscoveryPoller poller;

    @BeforeEach
    void capture() {
        log = LogLines.warnings("io.msm.discovery");
        warnings = log.lines();
    }

    @AfterEach
    void stop() {
        if (poller != null) {
            poller.close();
        }
        endpoint.close();
        if (log != null) {
            log.close();
        }
    }

    private DiscoveryPoller poller(int intervalSeconds) {
        NodeDiscovery source = MsmConfig.builder()
                .set(MsmConfig.MEMCACHED_NODES, "discover:127.0.0.1:" + endpoint.port())
                .set(MsmConfig.DISCOVERY_INTERVAL, String.valueOf(intervalSeconds))
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(getClass().getClassLoader()).discovery().orElseThrow();
        poller = new DiscoveryPoller(source, Optional.empty(), TIMEOUT, "poller-test", changes::add);
        return poller;
    }

    private static List<Integer> ports(List<MemcachedNode> nodes) {
        return nodes.stream().map(MemcachedNode::port).sorted().collect(Collectors.toList());
    }

    @Test
    void theFirstListThenEachChangeOnceWithStableIdsInIdOrder() throws Exception {
        endpoint.nodesAt(21001, 21002);
        List<MemcachedNode> first = poller(1).first();
        assertEquals(List.of(21001, 21002), ports(first));
        assertTrue(first.get(0).id().compareTo(first.get(1).id()) < 0, "in the order of the ids");
        assertEquals(NodeIds.LENGTH, first.get(0).id().length());
        poller.start();

        endpoint.nodesAt(21002, 21001, 21003);
        await("the change", () -> changes.size() == 1);
        List<MemcachedNode> second = changes.get(0);
        assertEquals(List.of(21001, 21002, 21003), ports(second));
        assertTrue(second.containsAll(first), "the same nodes keep their ids: " + first + " " + second);

        int asked = endpoint.questions();
        await("two more questions", () -> endpoint.questions() >= asked + 2);
        endpoint.nodesAt(21003, 21002, 21001); // another order, another version: the same nodes
        int now = endpoint.questions();
        await("asked again", () -> endpoint.questions() >= now + 2);
        assertEquals(1, changes.size(), "the same list is no change");
        assertEquals(List.of(), warnings);
    }

    @Test
    void badAnswersAndAnEndpointAwayKeepTheLastListAndAreLoggedOnce() throws Exception {
        endpoint.nodesAt(21001, 21002);
        poller(1).first();
        poller.start();
        byte[][] bad = {
            "CONFIG cluster 0 9\r\nx\nhost|\n\r\nEND\r\n".getBytes(StandardCharsets.US_ASCII),
            ConfigEndpointServer.reply("CONFIG cluster", 7),
            "ERROR\r\n".getBytes(StandardCharsets.US_ASCII),
            garbage(1 << 20),
        };
        for (byte[] answer : bad) {
            endpoint.answerRaw(answer);
            int asked = endpoint.questions();
            await("asked twice", () -> endpoint.questions() >= asked + 2);
        }
        endpoint.stop();
        Thread.sleep(2100); // two intervals refused: what is measured is that nothing happens meanwhile
        assertEquals(List.of(), changes, "the last list stays");
        assertEquals(1, warnings.size(), "once: " + warnings);
        assertTrue(warnings.get(0).contains("[poller-test] memcachedNodes: discover:127.0.0.1:" + endpoint.port()),
                warnings.get(0));

        endpoint.restart();
        endpoint.nodesAt(21001, 21002, 21003);
        await("the new list", () -> changes.size() == 1);
        assertEquals(List.of(21001, 21002, 21003), ports(changes.get(0)));
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(1).endsWith("answers again"), warnings.get(1));
    }

    private static byte[] garbage(int size) {
        byte[] b = new byte[size];
        new java.util.Random(7).nextBytes(b);
        return b;
    }

    @Test
    void aFirstQuestionThatFailsSaysWhy() {
        endpoint.answerRaw("ERROR\r\n".getBytes(StandardCharsets.US_ASCII));
        DiscoveryException e = assertThrows(DiscoveryException.class, () -> poller(1).first());
        assertTrue(e.getMessage().contains("not a configuration endpoint"), e.getMessage());

        endpoint.answerNothing();
        long start = System.nanoTime();
        e = assertThrows(DiscoveryException.class, () -> poller.first());
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(e.getMessage().contains("did not answer within " + TIMEOUT + " ms"), e.getMessage());
        assertTrue(millis >= TIMEOUT - 50 && millis < TIMEOUT + 1000, millis + " ms");

        endpoint.stop();
        e = assertThrows(DiscoveryException.class, () -> poller.first());
        assertTrue(e.getMessage().contains("refused"), e.getMessage());
    }

    @Test
    void refreshSoonAsksOffScheduleAtMostOncePerGap() throws Exception {
        endpoint.nodesAt(21001);
        poller(3600).first();
        poller.start();
        int asked = endpoint.questions();
        poller.refreshSoon();
        poller.refreshSoon();
        poller.refreshSoon();
        await("one question", () -> endpoint.questions() == asked + 1);
        Thread.sleep(300); // a second question would come within this (it is measured that none does)
        assertEquals(asked + 1, endpoint.questions());
    }

    @Test
    void closeEndsAQuestionUnderWayInBoundedTime() throws Exception {
        endpoint.nodesAt(21001);
        DiscoveryPoller p = new DiscoveryPoller(MsmConfig.builder()
                .set(MsmConfig.MEMCACHED_NODES, "discover:127.0.0.1:" + endpoint.port())
                .set(MsmConfig.DISCOVERY_INTERVAL, "1")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(getClass().getClassLoader()).discovery().orElseThrow(), Optional.empty(), 60_000, "close-test",
                changes::add);
        p.first();
        endpoint.answerNothing();
        p.start();
        int asked = endpoint.questions();
        await("a question under way", () -> endpoint.questions() > asked);
        long start = System.nanoTime();
        p.close();
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 1000, "closed in " + millis + " ms, the question's timeout being 60 s");
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("msm-discovery-close-test") && t.isAlive()));
    }

    /**
     * ElastiCache with in-transit encryption: the configuration endpoint speaks TLS too. Here a TLS front (the test
     * CA's server certificate, for 127.0.0.1) passes the bytes to the test endpoint.
     */
    @Test
    void aTlsEndpointIsAskedOverTlsWithItsCertificateChecked() throws Exception {
        endpoint.nodesAt(21001, 21002);
        io.msm.test.tls.TestCertificates c = io.msm.test.tls.TestCertificates.get();
        try (TlsFront front = new TlsFront(c, endpoint.port())) {
            NodeDiscovery source = MsmConfig.builder()
                    .set(MsmConfig.MEMCACHED_NODES, "discover:127.0.0.1:" + front.port())
                    .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                    .build(getClass().getClassLoader()).discovery().orElseThrow();
            poller = new DiscoveryPoller(source, Optional.of(c.clientSslContext(false)), 2000, "tls-test",
                    changes::add);
            assertEquals(List.of(21001, 21002), ports(poller.first()));

            DiscoveryPoller untrusting = new DiscoveryPoller(source,
                    Optional.of(c.sslContext(c.otherCaTrustStore(), null)), 2000, "tls-test", changes::add);
            DiscoveryException e = assertThrows(DiscoveryException.class, untrusting::first);
            assertTrue(e.getMessage().contains("discover:127.0.0.1:" + front.port())
                    && e.getMessage().contains("SSLHandshakeException"), e.getMessage());
            untrusting.close();
        }
    }

    /**
     * Review H2: a peer that answers the TLS ClientHello a byte at a time (each byte within the read timeout) is cut
     * at the question's deadline, not kept for as long as it trickles.
     */
    @Test
    void aTlsHandshakeTrickledByteByByteEndsAtTheDeadline() throws Exception {
        try (java.net.ServerSocket trickler = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (java.net.Socket s = trickler.accept()) {
                    s.getInputStream().read(new byte[512]); // the ClientHello
                    java.io.OutputStream out = s.getOutputStream();
                    out.write(new byte[] {0x16, 0x03, 0x03, 0x40, 0x00}); // a handshake record of 16 KB...
                    out.flush();
                    for (int k = 0; k < 40; k++) { // ...sent a byte every 300 ms (bounded: 12 s)
                        Thread.sleep(300);
                        out.write(0x02);
                        out.flush();
                    }
                } catch (java.io.IOException | InterruptedException e) {
                    // the client gave up
                }
            }, "trickler");
            t.setDaemon(true);
            t.start();
            NodeDiscovery source = MsmConfig.builder()
                    .set(MsmConfig.MEMCACHED_NODES, "discover:127.0.0.1:" + trickler.getLocalPort())
                    .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                    .build(getClass().getClassLoader()).discovery().orElseThrow();
            poller = new DiscoveryPoller(source, Optional.of(io.msm.test.tls.TestCertificates.get()
                    .clientSslContext(false)), 1000, "trickle-test", changes::add);
            long start = System.nanoTime();
            DiscoveryException e = assertThrows(DiscoveryException.class, poller::first);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 2000, "ended after " + millis + " ms, the question's timeout being 1000 ms");
            assertTrue(e.getMessage().contains("did not answer within 1000 ms"), e.getMessage());
        }
    }

    /** Review H3: an answer listing more nodes than any cluster has is refused (each node would cost a thread). */
    @Test
    void anAnswerWithTooManyNodesIsRefused() throws Exception {
        String[] many = new String[NodeQuestions.MAX_NODES + 1];
        for (int k = 0; k < many.length; k++) {
            many[k] = "h" + k + "||11211";
        }
        endpoint.nodes(many);
        DiscoveryException e = assertThrows(DiscoveryException.class, () -> poller(1).first());
        assertTrue(e.getMessage().contains("lists " + many.length + " nodes, more than the 256"), e.getMessage());
        endpoint.nodes(java.util.Arrays.copyOf(many, NodeQuestions.MAX_NODES));
        assertEquals(NodeQuestions.MAX_NODES, poller.first().size());
    }

    /** A TLS server that passes each connection's bytes to a plain one, both ways. */
    private static final class TlsFront implements AutoCloseable {
        private final javax.net.ssl.SSLServerSocket server;
        private final List<java.net.Socket> sockets = new CopyOnWriteArrayList<>();

        TlsFront(io.msm.test.tls.TestCertificates c, int plainPort) throws Exception {
            javax.net.ssl.SSLContext context = c.sslContext(c.trustStore(), c.serverKeyStore());
            server = (javax.net.ssl.SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
                    java.net.InetAddress.getLoopbackAddress());
            Thread accept = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        java.net.Socket tls = server.accept();
                        java.net.Socket plain = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(),
                                plainPort);
                        sockets.add(tls);
                        sockets.add(plain);
                        pipe(tls, plain);
                        pipe(plain, tls);
                    } catch (java.io.IOException e) {
                        // closed, or a client that failed its handshake
                    }
                }
            }, "tls-front");
            accept.setDaemon(true);
            accept.start();
        }

        private static void pipe(java.net.Socket from, java.net.Socket to) {
            Thread t = new Thread(() -> {
                try {
                    from.getInputStream().transferTo(to.getOutputStream());
                } catch (java.io.IOException e) {
                    // one side closed
                } finally {
                    try {
                        to.close();
                        from.close();
                    } catch (java.io.IOException e) {
                        // closing anyway
                    }
                }
            }, "tls-front-pipe");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
            for (java.net.Socket s : sockets) {
                s.close();
            }
        }
    }
}
