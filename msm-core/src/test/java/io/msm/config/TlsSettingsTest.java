package io.msm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.tls.TestCertificates;
import io.msm.testing.TestTranscoderFactory;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tls} and its stores are checked at start: each problem names the attribute (never a password's value). The
 * stores that hold real certificates are tried with real memcached processes in the store's TLS tests.
 */
class TlsSettingsTest {
    private static final String PASSWORD = "pa55-Word!";

    @TempDir
    Path dir;

    private static MsmConfig.Builder valid() {
        return MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:11211")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName());
    }

    private static List<String> problems(MsmConfig.Builder b) {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                () -> b.build(TlsSettingsTest.class.getClassLoader()));
        return e.problems();
    }

    /** An empty PKCS12 store with {@link #PASSWORD}. */
    private Path emptyStore() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        Path p = dir.resolve("empty.p12");
        try (OutputStream out = Files.newOutputStream(p)) {
            ks.store(out, PASSWORD.toCharArray());
        }
        return p;
    }

    @Test
    void offByDefaultAndWithTheJvmTrustStoreWhenOn() {
        MsmConfig off = valid().build(getClass().getClassLoader());
        assertTrue(off.tlsContext().isEmpty());
        assertTrue(off.toString().contains("tls=false"), off.toString());
        MsmConfig on = valid().set(MsmConfig.TLS, "TRUE").build(getClass().getClassLoader());
        assertTrue(on.tlsContext().isPresent());
        assertTrue(on.toString().contains("tls=true"), on.toString());
    }

    @Test
    void aStoreSetWithoutTlsIsRefusedRatherThanIgnored() {
        List<String> p = problems(valid().set(MsmConfig.TLS_TRUST_STORE, "/etc/ca.pem")
                .set(MsmConfig.TLS_KEY_STORE_PASSWORD, PASSWORD));
        assertEquals(2, p.size(), p.toString());
        assertTrue(p.get(0).startsWith("tlsTrustStore=\"/etc/ca.pem\": only used with TLS"), p.get(0));
        assertTrue(p.get(1).startsWith("tlsKeyStorePassword (value not shown): only used with TLS"), p.get(1));
        assertFalse(p.toString().contains(PASSWORD));
    }

    @Test
    void tlsNeedsTheTextProtocol() {
        List<String> p = problems(valid().set(MsmConfig.TLS, "true").set(MsmConfig.MEMCACHED_PROTOCOL, "binary"));
        assertEquals(List.of("tls=\"true\": needs memcachedProtocol=\"text\" (the binary protocol's client, "
                + "spymemcached, has no TLS; SASL, which needs it, is not available with TLS)"), p);
        assertEquals(List.of("tls=\"yes\": expected true or false"), problems(valid().set(MsmConfig.TLS, "yes")));
    }

    @Test
    void aTrustStoreThatIsNotThereNamesItsAttributeAndPath() {
        Path missing = dir.resolve("nope.p12");
        List<String> p = problems(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, missing.toString()));
        assertEquals(List.of("tlsTrustStore=\"" + missing + "\": no such file (" + missing + ")"), p);
    }

    @Test
    void aWrongPasswordIsNamedWithoutItsValue() throws Exception {
        Path store = emptyStore();
        List<String> p = problems(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, store.toString())
                .set(MsmConfig.TLS_TRUST_STORE_PASSWORD, "wrong-" + PASSWORD));
        assertEquals(List.of("tlsTrustStorePassword (value not shown): does not open tlsTrustStore=\"" + store
                + "\" (wrong password)"), p);
        assertFalse(p.toString().contains(PASSWORD));
        p = problems(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_KEY_STORE, store.toString())
                .set(MsmConfig.TLS_KEY_STORE_PASSWORD, "wrong-" + PASSWORD));
        assertEquals(List.of("tlsKeyStorePassword (value not shown): does not open tlsKeyStore=\"" + store
                + "\" (wrong password)"), p);
    }

    @Test
    void storesWithNothingToUseAreRefused() throws Exception {
        Path store = emptyStore();
        List<String> p = problems(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, store.toString())
                .set(MsmConfig.TLS_TRUST_STORE_PASSWORD, PASSWORD).set(MsmConfig.TLS_KEY_STORE, store.toString())
                .set(MsmConfig.TLS_KEY_STORE_PASSWORD, PASSWORD));
        assertEquals(List.of("tlsTrustStore=\"" + store + "\": holds no certificate to trust",
                "tlsKeyStore=\"" + store + "\": holds no private key with its certificate (the client certificate "
                        + "memcached asks for)"), p);
    }

    @Test
    void notAStoreAndPemForTheKeyStoreAreRefused() throws Exception {
        Path garbage = Files.write(dir.resolve("ca.p12"), "not a key store".getBytes(StandardCharsets.US_ASCII));
        Path pem = Files.write(dir.resolve("client.pem"),
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".getBytes(StandardCharsets.US_ASCII));
        List<String> p = problems(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, garbage.toString())
                .set(MsmConfig.TLS_KEY_STORE, pem.toString()));
        assertEquals(2, p.size(), p.toString());
        assertTrue(p.get(0).startsWith("tlsTrustStore=\"" + garbage + "\": not a PKCS12 or JKS key store nor a PEM "
                + "file of certificates"), p.get(0));
        assertTrue(p.get(1).startsWith("tlsKeyStore=\"" + pem + "\": a PEM file; msm reads the client certificate"),
                p.get(1));
        p = problems(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, pem.toString()));
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).startsWith("tlsTrustStore=\"" + pem + "\": a PEM file, but not of certificates"), p.get(0));
    }

    @Test
    void aPasswordWithoutItsStoreIsRefused() {
        List<String> p = problems(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE_PASSWORD, PASSWORD)
                .set(MsmConfig.TLS_KEY_STORE_PASSWORD, PASSWORD));
        assertEquals(List.of("tlsTrustStorePassword (value not shown): there is no tlsTrustStore to open with it",
                "tlsKeyStorePassword (value not shown): there is no tlsKeyStore to open with it"), p);
    }

    @Test
    void realStoresBuildAContextAndTheirPasswordsAreNeverShown() {
        TestCertificates c = TestCertificates.get();
        MsmConfig config = valid().set(MsmConfig.TLS, "true")
                .set(MsmConfig.TLS_TRUST_STORE, c.trustStore().toString())
                .set(MsmConfig.TLS_TRUST_STORE_PASSWORD, c.trustStorePassword())
                .set(MsmConfig.TLS_KEY_STORE, c.clientKeyStore().toString())
                .set(MsmConfig.TLS_KEY_STORE_PASSWORD, c.clientKeyStorePassword())
                .build(getClass().getClassLoader());
        assertTrue(config.tlsContext().isPresent());
        String shown = config.toString();
        assertTrue(shown.contains("tlsTrustStore=" + c.trustStore()), shown);
        assertTrue(shown.contains("tlsTrustStorePassword=******"), shown);
        assertTrue(shown.contains("tlsKeyStorePassword=******"), shown);
        assertFalse(shown.contains(c.trustStorePassword()), shown);
        assertFalse(shown.contains(c.clientKeyStorePassword()), shown);
        // a PEM file of CA certificates needs no password
        assertTrue(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, c.caPem().toString())
                .build(getClass().getClassLoader()).tlsContext().isPresent());
    }

    /** Distributions' CA bundles (and curl's cacert.pem) start with comment lines before the first certificate. */
    @Test
    void aPemBundleWithCommentsServesAsTrustStore() throws Exception {
        String pem = Files.readString(TestCertificates.get().caPem(), StandardCharsets.US_ASCII);
        Path bundle = Files.writeString(dir.resolve("ca-bundle.crt"), "# the CA of our memcached nodes\n"
                + "#\n".repeat(40) + "# Issuer: CN=msm test\n" + pem, StandardCharsets.US_ASCII);
        assertTrue(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, bundle.toString())
                .build(getClass().getClassLoader()).tlsContext().isPresent());
        List<String> p = problems(valid().set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, dir.toString()));
        assertEquals(List.of("tlsTrustStore=\"" + dir + "\": a directory, not a file (" + dir + ")"), p);
    }

    @Test
    void aTrustStoreAsKeyStoreHoldsNoPrivateKey() {
        TestCertificates c = TestCertificates.get();
        List<String> p = problems(valid().set(MsmConfig.TLS, "true")
                .set(MsmConfig.TLS_KEY_STORE, c.trustStore().toString())
                .set(MsmConfig.TLS_KEY_STORE_PASSWORD, c.trustStorePassword()));
        assertEquals(List.of("tlsKeyStore=\"" + c.trustStore() + "\": holds no private key with its certificate (the "
                + "client certificate memcached asks for)"), p);
    }

    /** Review finding 7: a store keytool made (its certificates encrypted) opened without its password looks empty. */
    @Test
    void aTrustStoreThatNeedsItsPasswordSaysSoWhenNoneIsGiven() {
        TestCertificates c = TestCertificates.get();
        List<String> p = problems(valid().set(MsmConfig.TLS, "true")
                .set(MsmConfig.TLS_TRUST_STORE, c.trustStore().toString()));
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains(MsmConfig.TLS_TRUST_STORE_PASSWORD), p.get(0));
    }

    /**
     * Review finding 10: {@code tls="true"} without {@code tlsTrustStore} and a JVM whose own trust store is empty (a
     * slim image without cacerts) fails the start, not every handshake later.
     */
    @Test
    void anEmptyJvmTrustStoreFailsTheStart() throws Exception {
        Path empty = emptyStore();
        String store = System.getProperty("javax.net.ssl.trustStore");
        String password = System.getProperty("javax.net.ssl.trustStorePassword");
        System.setProperty("javax.net.ssl.trustStore", empty.toString());
        System.setProperty("javax.net.ssl.trustStorePassword", PASSWORD);
        try {
            List<String> p = problems(valid().set(MsmConfig.TLS, "true"));
            assertEquals(1, p.size(), p.toString());
            assertTrue(p.get(0).startsWith("tls=\"true\"") && p.get(0).contains("JVM's trust store")
                    && p.get(0).contains(MsmConfig.TLS_TRUST_STORE), p.get(0));
        } finally {
            restore("javax.net.ssl.trustStore", store);
            restore("javax.net.ssl.trustStorePassword", password);
        }
        assertTrue(valid().set(MsmConfig.TLS, "true").build(getClass().getClassLoader()).tlsContext().isPresent(),
                "the JDK's cacerts again");
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }
}
