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
        Reading r = new Reading(raw, null);
        TrustManagerFactory trust = TlsSettings.trust(r);
        KeyManager[] keys = TlsSettings.keys(r);
        assertEquals(java.util.List.of(), r.problems);
        return RotatingStores.of(r, trust, keys).lookingEveryTime();
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
        assertEquals(1, warnings.lines().size());
    }
}
