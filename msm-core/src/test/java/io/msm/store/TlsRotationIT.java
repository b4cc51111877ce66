package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.test.log.LogLines;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedTls;
import io.msm.test.tls.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates renewed while running, against memcached processes started with {@code -Z}: a key store or trust
 * store file replaced in place (as cert-manager or a Kubernetes secret does) is used by the next connections without
 * a restart; one that cannot be used is reported once and the stores read before stay in use.
 */
class TlsRotationIT {
    private static final long TIMEOUT = 500;
    private static final byte[] VALUE = "a session's bytes".getBytes(StandardCharsets.UTF_8);

    @RegisterExtension
    static final MemcachedExtension TLS = MemcachedExtension.servers(1).withTls(MemcachedTls.serverCertificate());
    @RegisterExtension
    static final MemcachedExtension CLIENT_CERTIFICATE = MemcachedExtension.servers(1)
            .withTls(MemcachedTls.serverCertificate().requireClientCertificate());

    @TempDir
    Path dir;
    private final TestCertificates certs = TestCertificates.get();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<SessionStore> stores = new ArrayList<>();
    private LogLines capture;

    @BeforeEach
    void captureLog() {
        capture = LogLines.warnings("io.msm.config");
    }

    @AfterEach
    void close() {
        capture.close();
        stores.forEach(SessionStore::close);
    }

    private SessionStore open(MemcachedExtension servers, String... attributes) throws Exception {
        SessionStore s = WatchedStore.open("tls-rotation", servers.nodesAttribute("n1"), TIMEOUT, events, attributes);
        stores.add(s);
        return s;
    }

    /** {@code file} moved whole to {@code name} in the test's directory, over what was there (as a renewal does). */
    private Path placed(Path file, String name) throws Exception {
        Path target = dir.resolve(name);
        Path next = Files.copy(file, dir.resolve(name + ".next"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(next, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    private String[] trusting(Path trustStore, String... more) {
        List<String> a = new ArrayList<>(List.of(MsmConfig.TLS, "true", MsmConfig.TLS_TRUST_STORE,
                trustStore.toString(), MsmConfig.TLS_TRUST_STORE_PASSWORD, certs.trustStorePassword()));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    private String[] withClientCertificate(Path keyStore) {
        return trusting(certs.trustStore(), MsmConfig.TLS_KEY_STORE, keyStore.toString(),
                MsmConfig.TLS_KEY_STORE_PASSWORD, certs.clientKeyStorePassword());
    }

    private static void storesAndReads(SessionStore store, String key) {
        store.set("n1", key, 60, VALUE, TIMEOUT);
        assertArrayEquals(VALUE, store.get("n1", key, TIMEOUT));
    }

    @Test
    void aClientCertificateRenewedInPlaceIsPresentedWithoutARestart() throws Exception {
        Path keyStore = placed(certs.otherClientKeyStore(), "client.p12"); // memcached does not take this one
        SessionStore store = open(CLIENT_CERTIFICATE, withClientCertificate(keyStore));
        assertThrows(StoreException.class, () -> store.set("n1", "k", 60, VALUE, TIMEOUT));
        assertFalse(store.isConnected("n1"));

        placed(certs.clientKeyStore(), "client.p12"); // renewed
        WatchedStore.awaitMillis(10_000, "n1 up with the renewed certificate", () -> store.isConnected("n1"));
        storesAndReads(store, "renewed-client");
        assertEquals(List.of(), capture.lines());
    }

    @Test
    void aTrustStoreReplacedInPlaceIsUsedWithoutARestart() throws Exception {
        Path trustStore = placed(certs.otherCaTrustStore(), "trust.p12"); // not the CA of the server's certificate
        SessionStore store = open(TLS, trusting(trustStore));
        assertThrows(StoreException.class, () -> store.set("n1", "k", 60, VALUE, TIMEOUT));

        placed(certs.trustStore(), "trust.p12"); // the new CA
        WatchedStore.awaitMillis(10_000, "n1 up with the new trust store", () -> store.isConnected("n1"));
        storesAndReads(store, "new-trust");
        assertEquals(List.of(), capture.lines());
    }

    @Test
    void aStoreThatCannotBeReadIsReportedOnceAndTheOneReadBeforeStaysInUse() throws Exception {
        Path keyStore = placed(certs.clientKeyStore(), "client.p12");
        SessionStore store = open(CLIENT_CERTIFICATE, withClientCertificate(keyStore));
        storesAndReads(store, "before");
        Path broken = Files.write(dir.resolve("broken"), "not a key store".getBytes(StandardCharsets.US_ASCII));
        Files.move(broken, keyStore, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

        // new connections (handshakes) after each restart of memcached, until one looked at the files again
        for (int i = 0; i < 20 && capture.lines().isEmpty(); i++) {
            CLIENT_CERTIFICATE.server(0).stop();
            CLIENT_CERTIFICATE.server(0).start();
            WatchedStore.awaitMillis(10_000, "n1 up again", () -> store.isConnected("n1"));
        }
        List<String> warnings = capture.lines();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains(MsmConfig.TLS_KEY_STORE + "=\"" + keyStore + "\""), warnings.get(0));
        assertTrue(warnings.get(0).contains("go on with the certificates read before"), warnings.get(0));
        assertFalse(warnings.get(0).contains(certs.clientKeyStorePassword()), "no password in the log");
        storesAndReads(store, "after");

        // handshakes for more than two check intervals more: the same unusable file is not reported again
        long until = System.nanoTime() + 2_500_000_000L;
        for (int i = 0; i < 20 && (i < 3 || System.nanoTime() < until); i++) {
            CLIENT_CERTIFICATE.server(0).stop();
            CLIENT_CERTIFICATE.server(0).start();
            WatchedStore.awaitMillis(10_000, "n1 up again", () -> store.isConnected("n1"));
        }
        assertEquals(1, capture.lines().size(), capture.lines().toString());
    }
}
