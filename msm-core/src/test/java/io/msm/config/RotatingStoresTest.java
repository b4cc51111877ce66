package io.msm.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.log.LogLines;
import io.msm.test.tls.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The managers that read renewed store files again (the handshakes themselves: {@code TlsRotationIT}). */
class RotatingStoresTest {
    private static final String[] EC = {"EC"};
    private final TestCertificates certs = TestCertificates.get();
    private final LogLines warnings = LogLines.warnings("io.msm.config");
    @TempDir
    Path dir;

    @AfterEach
    void close() {
        warnings.close();
    }

    private Path placed(Path file, String name) throws Exception {
        return Files.copy(file, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    private RotatingStores stores(Path trustStore, Path keyStore) {
        Map<String, String> raw = new HashMap<>();
        raw.put(MsmConfig.TLS_TRUST_STORE, trustStore.toString());
        raw.put(MsmConfig.TLS_TRUST_STORE_PASSWORD, certs.trustStorePassword());
        if (keyStore != null) {
            raw.put(MsmConfig.TLS_KEY_STORE, keyStore.toString());
            raw.put(MsmConfig.TLS_KEY_STORE_PASSWORD, certs.clientKeyStorePassword());
        }
        return stores(raw, () -> { });
    }

    /** {@code meanwhile} runs after the files' digests were taken and the stores read, before the managers exist. */
    private RotatingStores stores(Map<String, String> raw, Runnable meanwhile) {
        Reading r = new Reading(raw, null);
        java.util.List<Object> digests = RotatingStores.digests(r);
        TrustManagerFactory trust = TlsSettings.trust(r);
        KeyManager[] keys = TlsSettings.keys(r);
        assertEquals(java.util.List.of(), r.problems);
        meanwhile.run();
        return RotatingStores.of(r, trust, keys, digests).lookingEveryTime();
    }

    @Test
    void aStoreRenewedWhileTheStartReadItIsReadAtTheFirstHandshake() throws Exception {
        Path keyStore = placed(certs.clientKeyStore(), "client.p12");
        Map<String, String> raw = new HashMap<>();
        raw.put(MsmConfig.TLS_TRUST_STORE, certs.trustStore().toString());
        raw.put(MsmConfig.TLS_TRUST_STORE_PASSWORD, certs.trustStorePassword());
        raw.put(MsmConfig.TLS_KEY_STORE, keyStore.toString());
        raw.put(MsmConfig.TLS_KEY_STORE_PASSWORD, certs.clientKeyStorePassword());
        X509Certificate renewed = chain(certs.otherClientKeyStore())[0];
        X509ExtendedKeyManager keys = (X509ExtendedKeyManager) stores(raw, () -> {
            try {
                placed(certs.otherClientKeyStore(), "client.p12");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).keyManagers()[0];
        assertEquals(renewed, keys.getCertificateChain(keys.chooseClientAlias(EC, null, null))[0]);
    }

    private X509Certificate[] chain(Path keyStore) throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance(keyStore.toFile(),
                certs.clientKeyStorePassword().toCharArray());
        java.security.cert.Certificate[] c = ks.getCertificateChain("client");
        return java.util.Arrays.copyOf(c, c.length, X509Certificate[].class);
    }

    @Test
    void itsLinesNameTheContextTheEngineGave() throws Exception {
        Path keyStore = placed(certs.clientKeyStore(), "client.p12");
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:1")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, io.msm.testing.TestTranscoderFactory.class.getName())
                .set(MsmConfig.TLS, "true").set(MsmConfig.TLS_KEY_STORE, keyStore.toString())
                .set(MsmConfig.TLS_KEY_STORE_PASSWORD, certs.clientKeyStorePassword())
                .build(getClass().getClassLoader());
        config.nameLogs("[/shop] ");
        X509ExtendedKeyManager keys = (X509ExtendedKeyManager) config.tlsFiles().lookingEveryTime().keyManagers()[0];
        Files.write(keyStore, "not a key store".getBytes(StandardCharsets.US_ASCII));
        keys.chooseClientAlias(EC, null, null);
        assertEquals(1, warnings.lines().size(), warnings.lines().toString());
        assertTrue(warnings.lines().get(0).startsWith("[/shop] the TLS stores changed"), warnings.lines().get(0));
    }

    @Test
    void aContextWithStoreFilesResumesASessionForAMinuteAtMost() throws Exception {
        javax.net.ssl.SSLContext c = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:1")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, io.msm.testing.TestTranscoderFactory.class.getName())
                .set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, certs.trustStore().toString())
                .set(MsmConfig.TLS_TRUST_STORE_PASSWORD, certs.trustStorePassword())
                .build(getClass().getClassLoader()).tlsContext().orElseThrow();
        assertEquals(RotatingStores.RESUMED_AT_MOST_SECONDS, c.getClientSessionContext().getSessionTimeout());
    }

    @Test
    void aHandshakeFinishesWithTheKeyOfTheStoreItChoseFromAlsoWhenTheStoreIsReadAgainMeanwhile() throws Exception {
        Path keyStore = placed(certs.clientKeyStore(), "client.p12");
        X509ExtendedKeyManager keys = (X509ExtendedKeyManager) stores(certs.trustStore(), keyStore).keyManagers()[0];
        String before = keys.chooseClientAlias(EC, null, null);
        assertNotNull(before);
        X509Certificate[] chainBefore = keys.getCertificateChain(before);

        placed(certs.otherClientKeyStore(), "client.p12"); // renewed: another key, under the same alias
        String after = keys.chooseClientAlias(EC, null, null); // the next handshake reads it
        assertNotEquals(before, after, "an alias names the read it came from");
        assertNotEquals(chainBefore[0], keys.getCertificateChain(after)[0], "the renewed certificate");
        assertArrayEquals(chainBefore, keys.getCertificateChain(before), "the handshake under way keeps its own");
        assertEquals(chainBefore[0].getPublicKey().getAlgorithm(), keys.getPrivateKey(before).getAlgorithm());
        assertNotEquals(keys.getPrivateKey(before), keys.getPrivateKey(after));

        placed(certs.clientKeyStore(), "client.p12"); // renewed once more: the first read is gone
        keys.chooseClientAlias(EC, null, null);
        assertNull(keys.getPrivateKey(before), "two reads back: that handshake fails, and the next one is made anew");
        assertEquals(java.util.List.of(), warnings.lines());
    }

    @Test
    void aTrustStoreReplacedIsUsedAtTheNextHandshake() throws Exception {
        Path trustStore = placed(certs.trustStore(), "trust.p12");
        X509ExtendedTrustManager trust = (X509ExtendedTrustManager) stores(trustStore, null).trustManagers()[0];
        X509Certificate[] serverChain;
        try (java.io.InputStream in = Files.newInputStream(certs.server().chainPem())) {
            serverChain = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)
                    .toArray(new X509Certificate[0]);
        }
        trust.checkServerTrusted(serverChain, "ECDHE_ECDSA"); // signed by the test CA: trusted

        placed(certs.otherCaTrustStore(), "trust.p12"); // another CA only
        assertThrows(java.security.cert.CertificateException.class,
                () -> trust.checkServerTrusted(serverChain, "ECDHE_ECDSA"), "the next handshake uses the new store");
        placed(certs.trustStore(), "trust.p12");
        trust.checkServerTrusted(serverChain, "ECDHE_ECDSA");
        assertEquals(java.util.List.of(), warnings.lines());
    }

    @Test
    void aStoreCutShortIsReportedNamingItsFileAndReadOnceComplete() throws Exception {
        Path keyStore = placed(certs.clientKeyStore(), "client.p12");
        X509ExtendedKeyManager keys = (X509ExtendedKeyManager) stores(certs.trustStore(), keyStore).keyManagers()[0];
        String before = keys.chooseClientAlias(EC, null, null);
        byte[] renewed = Files.readAllBytes(certs.otherClientKeyStore());
        Files.write(keyStore, java.util.Arrays.copyOf(renewed, renewed.length / 2)); // the copy is under way
        assertEquals(before, keys.chooseClientAlias(EC, null, null));
        assertEquals(1, warnings.lines().size(), warnings.lines().toString());
        assertTrue(warnings.lines().get(0).contains(MsmConfig.TLS_KEY_STORE + "=\"" + keyStore + "\""),
                warnings.lines().get(0));
        Files.write(keyStore, renewed); // done
        assertNotEquals(before, keys.chooseClientAlias(EC, null, null));
    }

    @Test
    void aStoreThatCannotBeUsedIsReportedOnceAndTheOneReadBeforeStays() throws Exception {
        Path keyStore = placed(certs.clientKeyStore(), "client.p12");
        X509ExtendedKeyManager keys = (X509ExtendedKeyManager) stores(certs.trustStore(), keyStore).keyManagers()[0];
        String before = keys.chooseClientAlias(EC, null, null);
        Files.write(keyStore, "half written".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 3; i++) {
            assertEquals(before, keys.chooseClientAlias(EC, null, null), "the store read before");
        }
        assertEquals(1, warnings.lines().size(), warnings.lines().toString());
        String line = warnings.lines().get(0);
        assertTrue(line.contains(MsmConfig.TLS_KEY_STORE + "=\"" + keyStore + "\""), line);
        assertTrue(!line.contains(certs.clientKeyStorePassword()), "no password: " + line);

        placed(certs.otherClientKeyStore(), "client.p12"); // written in full: read
        assertNotEquals(before, keys.chooseClientAlias(EC, null, null));
        assertEquals(2, warnings.lines().size(), warnings.lines().toString());
        assertTrue(warnings.lines().get(1).contains("are read again"), "the problem is over: " + warnings.lines());
    }
}
