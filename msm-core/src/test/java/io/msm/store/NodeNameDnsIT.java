package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.test.log.LogLines;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import io.msm.test.memcached.MemcachedTls;
import io.msm.test.net.HostsFile;
import io.msm.test.tls.TestCertificates;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node written as a host name ({@code n1:mc.test:<port>}) that moves to another IP, as an ElastiCache node that is
 * replaced keeps its DNS name and gets a new address: memcached A on 127.0.0.2 is killed and the name then points to
 * memcached B on 127.0.0.3, same port; the store sees the node down, then up on B, without a restart. A name that
 * does not resolve at all keeps the node down, quietly, until it resolves again. Over TLS the certificate is still
 * checked against the name (it names {@code mc.test}, not the IPs).
 *
 * <p>Runs in failsafe's {@code dns-integration-tests} execution, whose JVM resolves names from the file
 * {@link HostsFile} writes, with no DNS cache.
 */
@Tag("dns")
class NodeNameDnsIT {
    private static final String NAME = "mc.test";
    private static final long TIMEOUT = 500;
    /** Down seen after the kill: the watch sees its connection closed and the reconnect refused. */
    private static final long DOWN_MILLIS = 2000;
    /** Up on the new address after the name moved: the next reconnect ({@link NodeWatch#RETRY_MILLIS}) resolves it. */
    private static final long UP_MILLIS = 3000;
    private static final byte[] VALUE = "a session's bytes".getBytes(StandardCharsets.UTF_8);

    @RegisterExtension
    static final MemcachedExtension PLAIN = MemcachedExtension.servers(2).onLoopbackAddresses("127.0.0.2",
            "127.0.0.3");
    @RegisterExtension
    static final MemcachedExtension TLS = MemcachedExtension.servers(2).onLoopbackAddresses("127.0.0.4", "127.0.0.5")
            .withTls(MemcachedTls.serverCertificate());

    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<SessionStore> stores = new ArrayList<>();
    private final List<String> uncaught = new CopyOnWriteArrayList<>();
    private LogLines capture;
    private List<String> warnings;
    private Thread.UncaughtExceptionHandler before;

    @BeforeEach
    void watchThreads() {
        capture = LogLines.warnings("io.msm.store");
        warnings = capture.lines();
        before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(t.getName() + ": " + e));
    }

    @AfterEach
    void close() {
        stores.forEach(SessionStore::close);
        Thread.setDefaultUncaughtExceptionHandler(before);
        capture.close();
        HostsFile.set(Map.of());
    }

    private static void pointNameTo(MemcachedServer server) {
        HostsFile.set(Map.of(NAME, List.of(server.host())));
    }

    private SessionStore open(MemcachedExtension servers, String... attributes) throws Exception {
        SessionStore s = WatchedStore.open("dns-test", "n1:" + NAME + ":" + servers.server(0).port(), TIMEOUT,
                events, attributes);
        stores.add(s);
        WatchedStore.awaitMillis(5000, "n1 up", () -> s.isConnected("n1"));
        return s;
    }

    @Test
    void theTestJvmResolvesFromTheHostsFileWithoutCaching() throws Exception {
        pointNameTo(PLAIN.server(0));
        assertEquals("127.0.0.2", InetAddress.getByName(NAME).getHostAddress());
        pointNameTo(PLAIN.server(1));
        assertEquals("127.0.0.3", InetAddress.getByName(NAME).getHostAddress());
        HostsFile.set(Map.of());
        assertThrows(UnknownHostException.class, () -> InetAddress.getByName(NAME));
        assertTrue(InetAddress.getByName("localhost").isLoopbackAddress());
    }

    @Test
    void aReplacedNodeIsReachedAtItsNameNewAddress() throws Exception {
        MemcachedServer a = PLAIN.server(0);
        MemcachedServer b = PLAIN.server(1);
        assertEquals(a.port(), b.port(), "one port on both addresses");
        pointNameTo(a);
        SessionStore store = open(PLAIN);
        store.set("n1", "on-a", 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, a.get("on-a"));

        replace(store, a, b);

        store.set("n1", "on-b", 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, store.get("n1", "on-b", TIMEOUT));
        assertArrayEquals(VALUE, b.get("on-b"), "stored on B");
        assertNull(store.get("n1", "on-a", TIMEOUT), "B is another memcached: A's item is not there");
        assertTrue(store.describe("n1").startsWith(NAME + "/127.0.0.3:" + b.port() + " connected"),
                store.describe("n1"));
        assertEquals(List.of("n1 up", "n1 down", "n1 up"), events);
        assertEquals(List.of(), uncaught);
    }

    @Test
    void aNameThatDoesNotResolveKeepsTheNodeDownUntilItDoes() throws Exception {
        MemcachedServer a = PLAIN.server(0);
        pointNameTo(a);
        SessionStore store = open(PLAIN);
        a.kill();
        HostsFile.set(Map.of()); // the name is gone (a node being replaced, no record yet)
        WatchedStore.awaitMillis(DOWN_MILLIS, "n1 down", () -> events.contains("n1 down"));
        // several reconnect attempts, each resolving the name in vain: still down, and the watch keeps going
        long until = System.nanoTime() + 4 * NodeWatch.RETRY_MILLIS * 1_000_000;
        while (System.nanoTime() - until < 0) {
            assertFalse(store.isConnected("n1"));
            Thread.sleep(NodeWatch.RETRY_MILLIS / 5); // poll interval of a bounded observation
        }
        assertThrows(StoreException.class, () -> store.set("n1", "k", 60, VALUE, TIMEOUT));
        assertTrue(watchThreadAlive(), "the watch thread still runs");
        assertTrue(store.describe("n1").contains("127.0.0.2"), "the last address is kept: " + store.describe("n1"));

        pointNameTo(PLAIN.server(1));
        long up = WatchedStore.awaitMillis(UP_MILLIS, "n1 up once the name resolves", () -> store.isConnected("n1"));
        store.set("n1", "back", 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, PLAIN.server(1).get("back"));
        assertEquals(List.of("n1 up", "n1 down", "n1 up"), events);
        assertEquals(List.of(), uncaught);
        System.out.println("NodeNameDnsIT: up " + up + " ms after the name resolved again");
    }

    @Test
    void aReplacedNodeOverTlsIsCheckedAgainstItsName() throws Exception {
        MemcachedServer a = TLS.server(0);
        MemcachedServer b = TLS.server(1);
        pointNameTo(a);
        TestCertificates c = TestCertificates.get();
        SessionStore store = open(TLS, MsmConfig.TLS, "true", MsmConfig.TLS_TRUST_STORE, c.trustStore().toString(),
                MsmConfig.TLS_TRUST_STORE_PASSWORD, c.trustStorePassword());
        store.set("n1", "on-a", 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, a.get("on-a"));

        replace(store, a, b);

        store.set("n1", "on-b", 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, store.get("n1", "on-b", TIMEOUT));
        assertArrayEquals(VALUE, b.get("on-b"), "stored on B (read on its plain port)");
        assertEquals(List.of("n1 up", "n1 down", "n1 up"), events);
        // a handshake checked against 127.0.0.5 would fail (the certificate names mc.test) and log a warning (not
        // one that a handshake did not finish in time, which a loaded machine may see)
        assertEquals(List.of(), warnings.stream().filter(w -> w.contains("handshake failed"))
                .collect(java.util.stream.Collectors.toList()));
        assertEquals(List.of(), uncaught);
    }

    /** A is killed and the name moves to B: down, then up on B within {@link #UP_MILLIS}. */
    private void replace(SessionStore store, MemcachedServer a, MemcachedServer b) throws InterruptedException {
        a.kill();
        pointNameTo(b);
        long down = WatchedStore.awaitMillis(DOWN_MILLIS, "n1 down", () -> events.contains("n1 down"));
        long up = WatchedStore.awaitMillis(UP_MILLIS, "n1 up on " + b.host(), () -> store.isConnected("n1"));
        System.out.println("NodeNameDnsIT: node replaced, down after " + down + " ms, up on " + b.host() + " "
                + up + " ms later");
    }

    private static boolean watchThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("msm-watch-dns-test-n1") && t.isAlive());
    }
}
