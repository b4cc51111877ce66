package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Real memcached servers: lifecycle, fault injection, accessors and the per-test reset. The tests run in any order
 * (each starts from the reset); only {@link ResetBetweenTests}, whose subject is what one test leaves to the next,
 * orders its two.
 */
class MemcachedExtensionIT {

    @RegisterExtension
    static final MemcachedExtension memcached = MemcachedExtension.servers(2);

    /** Ports the servers got when they started, to check they never change. */
    private static int port0;
    private static int port1;

    @BeforeAll
    static void rememberPorts() {
        port0 = memcached.server(0).port();
        port1 = memcached.server(1).port();
    }

    @Test
    void twoServersStartOnDifferentPortsOfLoopback() {
        assertEquals(2, memcached.servers().size());
        MemcachedServer a = memcached.server(0);
        MemcachedServer b = memcached.server(1);
        assertEquals(port0, a.port());
        assertEquals(port1, b.port());
        assertNotEquals(port0, port1);
        for (MemcachedServer server : memcached.servers()) {
            assertEquals("127.0.0.1", server.host());
            assertEquals(new InetSocketAddress("127.0.0.1", server.port()), server.address());
            assertTrue(server.isRunning());
            assertFalse(server.isPaused());
            assertTrue(server.version().startsWith("1."), server.version());
        }
        assertThrows(IndexOutOfBoundsException.class, () -> memcached.server(2));
    }

    @Test
    void setGetRoundTripWithBinaryValues() {
        byte[] value = new byte[300];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) i; // includes \r, \n and every other byte
        }
        MemcachedServer a = memcached.server(0);
        a.set("k1", value, 0);
        assertArrayEquals(value, a.get("k1"));
        a.set("k1", new byte[0], 0);
        assertArrayEquals(new byte[0], a.get("k1"));
        assertNull(a.get("missing"));
        assertNull(memcached.server(1).get("k1"), "servers are independent");
    }

    @Test
    void statsCountSetsFromTheStartOfTheTest() {
        MemcachedServer a = memcached.server(0);
        assertEquals(0, a.stat("cmd_set"), "stats are reset before each test");
        a.set("a", bytes("1"), 0);
        a.set("b", bytes("2"), 0);
        a.set("a", bytes("3"), 0);
        assertEquals(3, a.stat("cmd_set"));
        assertEquals(2, a.stat("curr_items"));
        Map<String, String> stats = a.stats();
        assertEquals(a.version(), stats.get("version"));
        assertEquals("3", stats.get("cmd_set"));
        assertThrows(IllegalArgumentException.class, () -> a.stat("no_such_stat"));
        assertThrows(IllegalArgumentException.class, () -> a.stat("version"));
        assertEquals(0, memcached.server(1).stat("cmd_set"));
    }

    @Test
    void keysListsLiveKeysDecoded() {
        MemcachedServer a = memcached.server(0);
        assertEquals(Set.of(), a.keys());
        a.set("plain", bytes("x"), 0);
        a.set("sess:ABC/é%+~", bytes("y"), 0);
        a.set("expired", bytes("z"), -1);
        assertEquals(Set.of("plain", "sess:ABC/é%+~"), a.keys());
    }

    @Test
    void flushAllEmptiesAndNewSetsWorkRightAway() {
        MemcachedServer a = memcached.server(0);
        a.set("a", bytes("1"), 0);
        a.set("b", bytes("2"), 0);
        a.flushAll();
        assertNull(a.get("a"));
        assertNull(a.get("b"));
        assertEquals(Set.of(), a.keys());
        a.set("c", bytes("3"), 0);
        assertArrayEquals(bytes("3"), a.get("c"), "an item set right after flush_all must live");
    }

    @Test
    void killRefusesConnectionsAndStartBringsBackAnEmptyServerOnTheSamePort() throws IOException {
        MemcachedServer a = memcached.server(0);
        a.set("survivor", bytes("no"), 0);
        try (Socket established = new Socket("127.0.0.1", a.port())) {
            a.kill();
            assertFalse(a.isRunning());
            assertConnectionRefused(a.port());
            established.setSoTimeout(2_000);
            assertEquals(-1, readOrReset(established), "established connections are closed by the kill");
        }
        assertThrows(IllegalStateException.class, () -> a.get("survivor"));
        a.kill(); // idempotent

        a.start();
        assertEquals(port0, a.port());
        assertTrue(a.isRunning());
        assertNull(a.get("survivor"));
        assertEquals(0, a.stat("curr_items"));
        assertThrows(IllegalStateException.class, a::start, "start() on a running server");
    }

    @Test
    void pauseKeepsConnectingButAnswersNothingUntilResume() throws IOException {
        MemcachedServer b = memcached.server(1);
        b.pause();
        assertTrue(b.isPaused());
        assertTrue(b.isRunning());
        b.pause(); // idempotent
        try (Socket socket = new Socket()) {
            socket.connect(b.address(), 1_000); // the kernel completes the handshake for a stopped process
            socket.setSoTimeout(300);
            OutputStream out = socket.getOutputStream();
            out.write(bytes("version\r\n"));
            out.flush();
            InputStream in = socket.getInputStream();
            assertThrows(SocketTimeoutException.class, in::read);
            assertThrows(IllegalStateException.class, b::stats, "accessors refuse a paused server");

            b.resume();
            assertFalse(b.isPaused());
            socket.setSoTimeout(2_000);
            String answer = readLine(in);
            assertTrue(answer.startsWith("VERSION 1."), "the queued request is answered after resume: " + answer);
        }
        assertEquals(b.version(), b.stats().get("version"));
        b.resume(); // idempotent
    }

    @Test
    void stopIsGracefulAndWorksOnAPausedServer() {
        MemcachedServer a = memcached.server(0);
        a.stop();
        assertFalse(a.isRunning());
        assertConnectionRefused(a.port());
        a.start();
        a.pause();
        long start = System.nanoTime();
        a.stop();
        assertFalse(a.isRunning());
        assertFalse(a.isPaused());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(4)) < 0,
                "SIGTERM must reach a paused server without waiting for the kill timeout");
        assertThrows(IllegalStateException.class, a::pause, "pause() on a stopped server");
    }

    /** What one test leaves broken, the next finds running and empty on the same ports: ordered, it is the subject. */
    @Nested
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    class ResetBetweenTests {
        @Test
        @Order(1)
        void leaveServersBroken() {
            memcached.server(0).set("left-over", bytes("x"), 0);
            memcached.server(1).set("left-over", bytes("x"), 0);
            memcached.server(0).pause();
            memcached.server(1).kill();
        }

        @Test
        @Order(2)
        void nextTestFindsEveryServerRunningAndEmptyOnTheSamePorts() {
            assertEquals(port0, memcached.server(0).port());
            assertEquals(port1, memcached.server(1).port());
            for (MemcachedServer server : memcached.servers()) {
                assertTrue(server.isRunning(), server + " running");
                assertFalse(server.isPaused(), server + " not paused");
                assertNull(server.get("left-over"), server + " empty");
                assertEquals(Set.of(), server.keys());
                assertEquals(0, server.stat("curr_items"));
            }
        }
    }

    @Test
    void nodesAttributeFormat() {
        String expected = "n1:127.0.0.1:" + port0 + ",n2:127.0.0.1:" + port1;
        assertEquals(expected, memcached.nodesAttribute("n1", "n2"));
        assertEquals(expected, memcached.nodesAttribute());
        assertEquals("a:127.0.0.1:" + port0, memcached.nodesAttribute("a"));
        assertThrows(IllegalArgumentException.class, () -> memcached.nodesAttribute("n1", "n2", "n3"));
        assertThrows(IllegalArgumentException.class, () -> memcached.nodesAttribute("n:1"));
        assertThrows(IllegalArgumentException.class, () -> memcached.nodesAttribute(""));
    }

    @Test
    void idleBaselineAndConnectionLeakCheck() throws IOException {
        memcached.assertNoClientConnections(Duration.ofSeconds(2));
        for (MemcachedServer server : memcached.servers()) {
            assertEquals(MemcachedServer.IDLE_CONNECTIONS, server.currentConnections(),
                    "idle server with only the stats connection");
        }
        try (Socket client = new Socket("127.0.0.1", memcached.server(1).port())) {
            client.setSoTimeout(2_000);
            client.getOutputStream().write(bytes("version\r\n"));
            assertTrue(readLine(client.getInputStream()).startsWith("VERSION"));
            assertEquals(MemcachedServer.IDLE_CONNECTIONS + 1, memcached.server(1).currentConnections());
            AssertionError leak = assertThrows(AssertionError.class,
                    () -> memcached.assertNoClientConnections(Duration.ofMillis(100)));
            assertTrue(leak.getMessage().contains("127.0.0.1:" + port1), leak.getMessage());
            assertFalse(leak.getMessage().contains("127.0.0.1:" + port0 + " "), leak.getMessage());
        }
        memcached.assertNoClientConnections(Duration.ofSeconds(2));
    }

    @Test
    void pausedAndStoppedServersAreIgnoredByTheLeakCheck() {
        memcached.server(0).pause();
        memcached.server(1).kill();
        memcached.assertNoClientConnections(Duration.ofMillis(100));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void assertConnectionRefused(int port) {
        assertThrows(ConnectException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
            }
        });
    }

    private static int readOrReset(Socket socket) throws IOException {
        try {
            return socket.getInputStream().read();
        } catch (java.net.SocketException e) {
            return -1; // connection reset
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("connection closed after: " + line);
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }
}
