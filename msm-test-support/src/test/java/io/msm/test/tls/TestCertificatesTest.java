package io.msm.test.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generated certificates are what the TLS tests rely on: the right subjects, SANs and issuers, chains that
 * validate against the right CA only, PEM files OpenSSL can read, and stores with the announced passwords.
 */
class TestCertificatesTest {

    private static TestCertificates certs;
    private static long generationMillis;

    @BeforeAll
    static void generate() {
        long start = System.nanoTime();
        certs = TestCertificates.get();
        generationMillis = (System.nanoTime() - start) / 1_000_000;
        System.err.println("TestCertificates generated in " + generationMillis + " ms in " + certs.directory());
    }

    @Test
    void generatedOncePerJvmAndQuickly() {
        assertSame(certs, TestCertificates.get());
        // two rounds of parallel keytool JVMs: about 2 s on 2 cores; the bound leaves room for a loaded machine
        assertTrue(generationMillis < 15_000, "took " + generationMillis + " ms");
    }

    @Test
    void serverCertificateIsForLoopbackAndSignedByTheCa() throws Exception {
        List<X509Certificate> chain = readChain(certs.server().chainPem());
        assertEquals(2, chain.size());
        X509Certificate leaf = chain.get(0);
        assertEquals(Set.of("7:127.0.0.1", "2:localhost", "2:mc.test"), sans(leaf));
        assertTrue(leaf.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.1"), "serverAuth");
        assertEquals(-1, leaf.getBasicConstraints(), "not a CA");
        X509Certificate ca = readChain(certs.caPem()).get(0);
        assertEquals(ca, chain.get(1));
        assertTrue(ca.getBasicConstraints() >= 0, "the CA is a CA");
        validate(chain.subList(0, 1), ca);
        assertThrows(CertPathValidatorException.class,
                () -> validate(chain.subList(0, 1), readChain(certs.otherCaPem()).get(0)));
    }

    @Test
    void wrongHostCertificateNamesOnlyTheWrongHost() throws Exception {
        List<X509Certificate> chain = readChain(certs.wrongHost().chainPem());
        assertEquals(Set.of("2:wrong-host.invalid"), sans(chain.get(0)));
        validate(chain.subList(0, 1), readChain(certs.caPem()).get(0));
    }

    @Test
    void keyPemsArePkcs8AndMatchTheirCertificates() throws Exception {
        for (CertificateFiles files : List.of(certs.server(), certs.wrongHost())) {
            String pem = Files.readString(files.keyPem(), StandardCharsets.US_ASCII);
            assertTrue(pem.startsWith("-----BEGIN PRIVATE KEY-----\n"), pem.substring(0, 30));
            assertTrue(pem.endsWith("-----END PRIVATE KEY-----\n"));
            String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            PrivateKey key = KeyFactory.getInstance("EC")
                    .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
            assertSignsFor(key, readChain(files.chainPem()).get(0));
        }
    }

    @Test
    void storesOpenWithTheirPasswordsAndHoldOnlyWhatTheySay() throws Exception {
        KeyStore trust = load(certs.trustStore(), certs.trustStorePassword());
        assertEquals(List.of("msm-test-ca"), aliases(trust));
        assertTrue(trust.isCertificateEntry("msm-test-ca"));
        assertEquals(readChain(certs.caPem()).get(0), trust.getCertificate("msm-test-ca"));
        KeyStore otherTrust = load(certs.otherCaTrustStore(), certs.trustStorePassword());
        assertEquals(readChain(certs.otherCaPem()).get(0), otherTrust.getCertificate("msm-other-ca"));
        assertNotEquals(trust.getCertificate("msm-test-ca"), otherTrust.getCertificate("msm-other-ca"));

        KeyStore client = load(certs.clientKeyStore(), certs.clientKeyStorePassword());
        assertEquals(List.of("client"), aliases(client), "no CA key in the client's store");
        X509Certificate clientCert = (X509Certificate) client.getCertificate("client");
        assertTrue(clientCert.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.2"), "clientAuth");
        assertEquals(2, client.getCertificateChain("client").length);
        assertSignsFor((PrivateKey) client.getKey("client", certs.clientKeyStorePassword().toCharArray()),
                clientCert);
        validate(List.of(clientCert), readChain(certs.caPem()).get(0));

        KeyStore otherClient = load(certs.otherClientKeyStore(), certs.clientKeyStorePassword());
        X509Certificate otherCert = (X509Certificate) otherClient.getCertificate("client");
        validate(List.of(otherCert), readChain(certs.otherCaPem()).get(0));
        assertThrows(CertPathValidatorException.class,
                () -> validate(List.of(otherCert), readChain(certs.caPem()).get(0)));
        assertThrows(IOException.class, () -> load(certs.trustStore(), "not-the-password"));
    }

    @Test
    void sslContextsBuild() {
        assertNotNull(certs.clientSslContext(true));
        assertNotNull(certs.clientSslContext(false));
        assertNotNull(certs.sslContext(certs.otherCaTrustStore(), certs.otherClientKeyStore()));
        assertFalse(certs.trustStorePassword().isEmpty());
    }

    private static List<X509Certificate> readChain(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            Collection<? extends java.security.cert.Certificate> all =
                    CertificateFactory.getInstance("X.509").generateCertificates(in);
            List<X509Certificate> chain = new ArrayList<>();
            for (java.security.cert.Certificate certificate : all) {
                chain.add((X509Certificate) certificate);
            }
            return chain;
        }
    }

    private static Set<String> sans(X509Certificate certificate) throws GeneralSecurityException {
        return certificate.getSubjectAlternativeNames().stream().map(san -> san.get(0) + ":" + san.get(1))
                .collect(Collectors.toSet());
    }

    private static void validate(List<X509Certificate> path, X509Certificate anchor) throws GeneralSecurityException {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
    }

    private static void assertSignsFor(PrivateKey key, X509Certificate certificate) throws GeneralSecurityException {
        byte[] data = "msm".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(data);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(certificate.getPublicKey());
        verifier.update(data);
        assertTrue(verifier.verify(signature), "the key belongs to " + certificate.getSubjectX500Principal());
    }

    private static KeyStore load(Path store, String password) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(store)) {
            KeyStore keyStore = KeyStore.getInstance("PKCS12");
            keyStore.load(in, password.toCharArray());
            return keyStore;
        }
    }

    private static List<String> aliases(KeyStore store) throws GeneralSecurityException {
        return java.util.Collections.list(store.aliases());
    }
}
