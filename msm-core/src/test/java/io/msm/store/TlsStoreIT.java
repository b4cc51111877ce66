package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.test.log.LogLines;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import io.msm.test.memcached.MemcachedTls;
import io.msm.test.tls.TestCertificates;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The text-protocol store over TLS, against memcached processes started with {@code -Z}: it stores and reads; a
 * certificate that does not verify (another host's, an unknown issuer's) or a node that does not speak TLS is a node
 * failure within the timeout with one clear log line, never a hang; a client certificate is presented when memcached
 * asks for one; a killed node is seen down and back up over TLS as over TCP.
 */
class TlsStoreIT {
    private static final long TIMEOUT = 500;
    private static final byte[] VALUE = "a session's bytes".getBytes(StandardCharsets.UTF_8);

    @RegisterExtension
    static final MemcachedExtension TLS = MemcachedExtension.servers(1).withTls(MemcachedTls.serverCertificate());
    @RegisterExtension
    static final MemcachedExtension WRONG_HOST = MemcachedExtension.servers(1).withTls(MemcachedTls.wrongHost());
    @RegisterExtension
    static final MemcachedExtension CLIENT_CERTIFICATE = MemcachedExtension.servers(1)
            .withTls(MemcachedTls.serverCertificate().requireClientCertificate());
    @RegisterExtension
    static final MemcachedExtension PLAIN = MemcachedExtension.servers(1);
    /** Few connections, so that a test can fill them (memcached then refuses new ones in plain text). */
    @RegisterExtension
    static final MemcachedExtension FEW_CONNECTIONS = MemcachedExtension.servers(1)
            .withTls(MemcachedTls.serverCertificate()).withArgs("-c", "16");

    private final List<String> events = new CopyOnWriteArrayList<>();
    private LogLines capture;
    private List<String> warnings;
    private final List<SessionStore> stores = new ArrayList<>();

    @BeforeEach
    void captureLog() {
        capture = LogLines.warnings("io.msm.store");
        warnings = capture.lines();
    }

    @AfterEach
    void close() {
        capture.close();
        stores.forEach(SessionStore::close);
    }

    private static String[] trusting(String trustStore, String password, String... more) {
        List<String> a = new ArrayList<>(List.of(MsmConfig.TLS, "true", MsmConfig.TLS_TRUST_STORE, trustStore));
        if (password != null) {
            a.addAll(List.of(MsmConfig.TLS_TRUST_STORE_PASSWORD, password));
        }
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    private static String[] trustingTheTestCa(String... more) {
        TestCertificates c = TestCertificates.get();
        return trusting(c.trustStore().toString(), c.trustStorePassword(), more);
    }

    private SessionStore open(MemcachedExtension servers, String... attributes) throws Exception {
        SessionStore s = WatchedStore.open("tls-test", servers.nodesAttribute("n1"), TIMEOUT, events, attributes);
        stores.add(s);
        return s;
    }

    @Test
    void storesAndReadsOverTls() throws Exception {
        SessionStore store = open(TLS, trustingTheTestCa());
        WatchedStore.awaitMillis(5000, "n1 up over TLS", () -> store.isConnected("n1"));
        store.set("n1", "tls-key", 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, store.get("n1", "tls-key", TIMEOUT));
        // what went through the TLS port is in memcached (read back on its plain port)
        assertArrayEquals(VALUE, TLS.server(0).get("tls-key"));
        assertEquals(List.of("n1 up"), events);
        assertEquals(List.of(), warnings);
    }

    @Test
    void aPemFileOfCaCertificatesServesAsTrustStore() throws Exception {
        SessionStore store = open(TLS, trusting(TestCertificates.get().caPem().toString(), null));
        store.set("n1", "pem-key", 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, store.get("n1", "pem-key", TIMEOUT));
    }

    @Test
    void aCertificateForAnotherHostIsANodeFailureLoggedOnce() throws Exception {
        SessionStore store = open(WRONG_HOST, trustingTheTestCa());
        for (int i = 0; i < 3; i++) {
            assertFailsWithinTheTimeout(store);
        }
        assertFalse(store.isConnected("n1"));
        assertTrue(store.describe("n1").endsWith("its TLS handshake failing (see the line logged for it)"),
                store.describe("n1"));
        // logged by whichever connect failed first, the call's or the watch's (on its own thread)
        WatchedStore.awaitMillis(2000, "the refusal logged", () -> !warnings.isEmpty());
        assertEquals(1, warnings.size(), warnings.toString());
        String line = warnings.get(0);
        int port = WRONG_HOST.server(0).port();
        assertTrue(line.startsWith("[tls-test] memcached 127.0.0.1:" + port + " refused: the TLS handshake failed ("),
                line);
        assertTrue(line.contains("127.0.0.1"), "the verification's reason names the host: " + line);
        assertTrue(line.contains("certificate names this host"), line);
        assertFalse(WRONG_HOST.server(0).keys().contains("k"), "nothing was written");
    }

    @Test
    void anUnknownIssuerIsRefused() throws Exception {
        TestCertificates c = TestCertificates.get();
        SessionStore store = open(TLS, trusting(c.otherCaTrustStore().toString(), c.trustStorePassword()));
        assertFailsWithinTheTimeout(store);
        // logged by whichever connect failed first, the call's or the watch's (on its own thread)
        WatchedStore.awaitMillis(2000, "the refusal logged", () -> !warnings.isEmpty());
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("the TLS handshake failed"), warnings.get(0));
    }

    @Test
    void aClientCertificateIsPresentedWhenMemcachedRequiresOne() throws Exception {
        SessionStore without = open(CLIENT_CERTIFICATE, trustingTheTestCa());
        assertFailsWithinTheTimeout(without);
        WatchedStore.awaitMillis(2000, "the refusal logged", () -> !warnings.isEmpty());
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("check that tlsKeyStore holds one it accepts"), warnings.get(0));
        assertTrue(without.describe("n1").contains("TLS handshake failing"), without.describe("n1"));
        assertFalse(without.isConnected("n1"));
        TestCertificates c = TestCertificates.get();
        SessionStore with = open(CLIENT_CERTIFICATE, trustingTheTestCa(MsmConfig.TLS_KEY_STORE,
                c.clientKeyStore().toString(), MsmConfig.TLS_KEY_STORE_PASSWORD, c.clientKeyStorePassword()));
        with.set("n1", "client-key", 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, with.get("n1", "client-key", TIMEOUT));
    }

    @Test
    void tlsToAMemcachedWithoutTlsFailsWithinTheTimeout() throws Exception {
        SessionStore store = open(PLAIN, trustingTheTestCa());
        assertFailsWithinTheTimeout(store);
        assertFalse(store.isConnected("n1"));
        // logged by whichever connect failed first, the call's or the watch's (on its own thread)
        WatchedStore.awaitMillis(2000, "the failure logged", () -> !warnings.isEmpty());
        assertEquals(1, warnings.size(), warnings.toString());
    }

    /** A peer that accepts and never answers the ClientHello holds a call no longer than its timeout. */
    @Test
    void aHandshakeWithoutAnswerEndsAtTheDeadline() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new CopyOnWriteArrayList<>();
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept()); // kept open, never answered
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            }, "silent-tls-peer");
            t.setDaemon(true);
            t.start();
            SessionStore store = WatchedStore.open("tls-test", "n1:127.0.0.1:" + silent.getLocalPort(), TIMEOUT,
                    events, trustingTheTestCa());
            stores.add(store);
            assertFailsWithinTheTimeout(store);
            WatchedStore.awaitMillis(2000, "the stall logged", () -> !warnings.isEmpty());
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("the TLS handshake did not finish within the call's time "
                    + "(operationTimeout)"), warnings.get(0));
            assertTrue(store.describe("n1").contains("TLS handshake failing"), store.describe("n1"));
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    /**
     * A node whose new connections no longer verify (a certificate replaced by one naming another host) while its older
     * ones still serve: a call's failed handshake makes it unavailable at once, as a refused connect does.
     */
    @Test
    void aCallsFailedHandshakeMakesTheNodeUnavailableWhileOldConnectionsStillServe() throws Exception {
        try (io.msm.test.net.TcpProxy proxy = io.msm.test.net.TcpProxy.to(TLS.server(0).port())) {
            SessionStore store = WatchedStore.open("tls-test", "n1:127.0.0.1:" + proxy.port(), TIMEOUT, events,
                    trustingTheTestCa());
            stores.add(store);
            WatchedStore.awaitMillis(5000, "n1 up over TLS", () -> store.isConnected("n1"));
            proxy.retarget(WRONG_HOST.server(0).port()); // new connections reach a certificate for another host
            // more calls at once than the pool's idle connections: some open new ones, whose handshakes fail
            getsAtOnce(store, 6, 50, () -> store.isConnected("n1"));
            WatchedStore.awaitMillis(3000, "n1 down", () -> !store.isConnected("n1"));
            assertTrue(events.contains("n1 down"), events.toString());
        }
    }

    /**
     * An answer whose TLS record arrives a byte at a time (each read waiting far less than the timeout) ends the call
     * at its deadline: the deadline bounds the TCP reads under TLS, not each TLS read.
     */
    @Test
    void anAnswerTrickledUnderTlsEndsAtTheDeadline() throws Exception {
        try (TricklingProxy proxy = new TricklingProxy(TLS.server(0).port())) {
            SessionStore store = WatchedStore.open("tls-test", "n1:127.0.0.1:" + proxy.port(), TIMEOUT, events,
                    trustingTheTestCa());
            stores.add(store);
            store.set("n1", "trickled", 60, VALUE, TIMEOUT); // connected, handshake made at full speed
            proxy.trickle = true;
            long start = System.nanoTime();
            assertThrows(StoreException.class, () -> store.get("n1", "trickled", TIMEOUT));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis < TIMEOUT + 1000, "failed after " + millis + " ms, timeout " + TIMEOUT + " ms");
            assertTrue(proxy.trickled.get() > 0, "bytes were trickled");
        }
    }

    /** Passes a connection's bytes to a port; from {@link #trickle} on, the answers one byte per 40 ms. */
    private static final class TricklingProxy implements AutoCloseable {
        final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> sockets = new CopyOnWriteArrayList<>();
        final java.util.concurrent.atomic.AtomicInteger trickled = new java.util.concurrent.atomic.AtomicInteger();
        volatile boolean trickle;

        TricklingProxy(int target) throws java.io.IOException {
            daemon("trickling-proxy-accept", () -> {
                while (true) {
                    Socket client = listener.accept();
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                    sockets.add(client);
                    sockets.add(server);
                    daemon("trickling-proxy-up", () -> pump(client, server, false));
                    daemon("trickling-proxy-down", () -> pump(server, client, true));
                }
            });
        }

        int port() {
            return listener.getLocalPort();
        }

        private void pump(Socket from, Socket to, boolean answers) throws Exception {
            byte[] buf = new byte[8192];
            for (int n; (n = from.getInputStream().read(buf)) >= 0; ) {
                for (int i = 0; i < n; i++) {
                    if (answers && trickle) {
                        Thread.sleep(40); // the pace of the trickle, which is what is tested
                        trickled.incrementAndGet();
                        to.getOutputStream().write(buf[i]);
                    } else {
                        to.getOutputStream().write(buf, i, n - i);
                        break;
                    }
                }
            }
        }

        private interface Body {
            void run() throws Exception;
        }

        private static void daemon(String name, Body body) {
            Thread t = new Thread(() -> {
                try {
                    body.run();
                } catch (Exception closed) {
                    // the proxy or a peer closed
                }
            }, name);
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws java.io.IOException {
            listener.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /**
     * memcached at its connection limit answers a new connection with a plain-text {@code ERROR Too many open
     * connections} before any TLS: that is no certificate problem and no outage, as over TCP (the node stays
     * available; the calls that needed a new connection fail).
     */
    @Test
    void aMemcachedAtItsConnectionLimitStaysAvailableOverTls() throws Exception {
        SessionStore store = open(FEW_CONNECTIONS, trustingTheTestCa());
        WatchedStore.awaitMillis(5000, "n1 up over TLS", () -> store.isConnected("n1"));
        store.set("n1", "k", 60, VALUE, TIMEOUT);
        List<Socket> fill = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) { // until memcached refuses (bounded)
                Socket s = new Socket(InetAddress.getLoopbackAddress(), FEW_CONNECTIONS.server(0).port());
                fill.add(s);
                s.setSoTimeout(200);
                try {
                    if (s.getInputStream().read() >= 0) {
                        break; // "ERROR Too many open connections": full
                    }
                } catch (java.net.SocketTimeoutException accepted) {
                    // taken: memcached waits for its ClientHello
                }
            }
            // more calls at once than the pool's idle connections: some open new ones, which memcached refuses
            int refused = getsAtOnce(store, 4, 20, () -> true);
            assertTrue(refused > 0, "some calls needed a new connection, which memcached refused");
            assertTrue(store.isConnected("n1"), store.describe("n1"));
            assertEquals(List.of("n1 up"), events);
            assertTrue(warnings.stream().allMatch(w -> w.contains("answered in plain text, not TLS (\"ERROR")
                    && w.contains("connection limit")), warnings.toString());
        } finally {
            for (Socket s : fill) {
                s.close();
            }
        }
    }

    @Test
    void aKilledNodeIsSeenDownAndBackUpOverTls() throws Exception {
        SessionStore store = open(TLS, trustingTheTestCa());
        WatchedStore.awaitMillis(5000, "n1 up over TLS", () -> store.isConnected("n1"));
        store.set("n1", "before", 60, VALUE, TIMEOUT);
        MemcachedServer server = TLS.server(0);
        server.kill();
        long down = WatchedStore.awaitMillis(2000, "n1 down", () -> events.contains("n1 down"));
        server.start();
        WatchedStore.awaitMillis(5000, "n1 up again", () -> store.isConnected("n1"));
        store.set("n1", "after", 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, store.get("n1", "after", TIMEOUT));
        assertEquals(List.of("n1 up", "n1 down", "n1 up"), events);
        System.out.println("TlsStoreIT: killed TLS node noticed after " + down + " ms");
    }

    /**
     * {@code threads} threads, released at once, each making up to {@code each} gets while {@code goOn}: how many
     * failed. Returns when all are done.
     */
    private static int getsAtOnce(SessionStore store, int threads, int each, java.util.function.BooleanSupplier goOn)
            throws InterruptedException {
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        try {
            for (int i = 0; i < threads; i++) {
                pool.submit(() -> {
                    go.await();
                    for (int n = 0; n < each && goOn.getAsBoolean(); n++) {
                        try {
                            store.get("n1", "k", TIMEOUT);
                        } catch (StoreException e) {
                            failed.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            go.countDown();
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(20, TimeUnit.SECONDS), "the gets ended");
        }
        return failed.get();
    }

    private static void assertFailsWithinTheTimeout(SessionStore store) {
        long start = System.nanoTime();
        assertThrows(StoreException.class, () -> store.set("n1", "k", 60, VALUE, TIMEOUT));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis < TIMEOUT + 1000, "failed after " + millis + " ms, timeout " + TIMEOUT + " ms");
    }
}
