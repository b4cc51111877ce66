package io.msm.test.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates for TLS tests, made once per JVM with the JDK's own {@code keytool} into a temporary directory (no
 * key or certificate is kept in the sources, and OpenSSL is not needed). All keys are 256-bit EC.
 *
 * <ul>
 * <li>a test CA ({@link #caPem()}, and a PKCS12 {@link #trustStore()} holding it);</li>
 * <li>a {@link #server() server} certificate signed by the CA for {@code IP:127.0.0.1}, {@code DNS:localhost} and
 * {@code DNS:mc.test} (a name tests point at servers on other loopback addresses with
 * {@link io.msm.test.net.HostsFile}), which a client with hostname verification accepts;</li>
 * <li>a {@link #wrongHost() wrong-host} certificate signed by the same CA for {@code DNS:wrong-host.invalid} only,
 * which such a client must refuse although it trusts the issuer;</li>
 * <li>a client certificate signed by the CA, in a PKCS12 {@link #clientKeyStore()} with its chain;</li>
 * <li>an unrelated CA ({@link #otherCaPem()}, {@link #otherCaTrustStore()}) for "unknown issuer" failures, and a
 * client certificate it signed ({@link #otherClientKeyStore()}), which a server trusting the test CA refuses.</li>
 * </ul>
 *
 * <p>Every store has the same password, random per JVM ({@link #trustStorePassword()},
 * {@link #clientKeyStorePassword()}); a key inside a store has the store's password. The files are deleted when the
 * JVM exits. Generation takes about two seconds (two rounds of parallel keytool runs).
 *
 * <pre>{@code
 * TestCertificates certs = TestCertificates.get();
 * Path trustStore = certs.trustStore();          // PKCS12, password certs.trustStorePassword()
 * Path clientStore = certs.clientKeyStore();     // PKCS12, password certs.clientKeyStorePassword()
 * SSLContext tls = certs.clientSslContext(true); // trusts the test CA, presents the client certificate
 * }</pre>
 */
public final class TestCertificates {

    private static final String STORE_TYPE = "PKCS12";
    private static final String CA_DNAME = "CN=msm test CA,O=msm tests";
    private static TestCertificates instance;

    private final Path directory;
    private final String password;
    private final Path caPem;
    private final Path trustStore;
    private final CertificateFiles server;
    private final CertificateFiles wrongHost;
    private final Path clientKeyStore;
    private final Path serverKeyStore;
    private final Path otherCaPem;
    private final Path otherCaTrustStore;
    private final Path otherClientKeyStore;

    private TestCertificates(Path directory, String password) {
        this.directory = directory;
        this.password = password;
        this.caPem = directory.resolve("ca.pem");
        this.trustStore = directory.resolve("truststore.p12");
        this.server = new CertificateFiles(directory.resolve("server-chain.pem"), directory.resolve("server-key.pem"));
        this.wrongHost = new CertificateFiles(directory.resolve("wrong-host-chain.pem"),
                directory.resolve("wrong-host-key.pem"));
        this.clientKeyStore = directory.resolve("client-keystore.p12");
        this.serverKeyStore = directory.resolve("server-keystore.p12");
        this.otherCaPem = directory.resolve("other-ca.pem");
        this.otherCaTrustStore = directory.resolve("other-ca-truststore.p12");
        this.otherClientKeyStore = directory.resolve("other-client-keystore.p12");
    }

    /**
     * Returns this JVM's test certificates, making them on the first call.
     *
     * @return the certificates
     * @throws IllegalStateException if keytool is missing, older than JDK 17, or fails; the message has its output
     */
    public static synchronized TestCertificates get() {
        if (instance == null) {
            instance = generate();
        }
        return instance;
    }

    /**
     * Returns the directory holding all files.
     *
     * @return a temporary directory, deleted when the JVM exits
     */
    public Path directory() {
        return directory;
    }

    /**
     * Returns the test CA's certificate, e.g. for memcached's {@code ssl_ca_cert}.
     *
     * @return a PEM file
     */
    public Path caPem() {
        return caPem;
    }

    /**
     * Returns a trust store holding only the test CA (alias {@code msm-test-ca}).
     *
     * @return a PKCS12 file
     */
    public Path trustStore() {
        return trustStore;
    }

    /**
     * Returns the password of {@link #trustStore()} and {@link #otherCaTrustStore()}.
     *
     * @return the password, random per JVM
     */
    public String trustStorePassword() {
        return password;
    }

    /**
     * Returns the server identity for {@code 127.0.0.1}, {@code localhost} and {@code mc.test}, signed by the test CA.
     *
     * @return its PEM files
     */
    public CertificateFiles server() {
        return server;
    }

    /**
     * Returns {@link #server()}'s key and chain as a key store, for a TLS server written in Java; password
     * {@link #clientKeyStorePassword()}.
     *
     * @return a PKCS12 file
     */
    public Path serverKeyStore() {
        return serverKeyStore;
    }

    /**
     * Returns a server identity signed by the test CA for {@code wrong-host.invalid} only.
     *
     * @return its PEM files
     */
    public CertificateFiles wrongHost() {
        return wrongHost;
    }

    /**
     * Returns a key store with the client key and its chain (client certificate, test CA) under alias
     * {@code client}; the key's password is the store's.
     *
     * @return a PKCS12 file
     */
    public Path clientKeyStore() {
        return clientKeyStore;
    }

    /**
     * Returns the password of {@link #clientKeyStore()}, {@link #otherClientKeyStore()} and the keys in them.
     *
     * @return the password, random per JVM
     */
    public String clientKeyStorePassword() {
        return password;
    }

    /**
     * Returns the certificate of a CA unrelated to the test CA.
     *
     * @return a PEM file
     */
    public Path otherCaPem() {
        return otherCaPem;
    }

    /**
     * Returns a trust store holding only the unrelated CA (alias {@code msm-other-ca}): a client using it must
     * refuse the test servers as signed by an unknown issuer.
     *
     * @return a PKCS12 file, password {@link #trustStorePassword()}
     */
    public Path otherCaTrustStore() {
        return otherCaTrustStore;
    }

    /**
     * Returns a key store with a client key whose certificate the unrelated CA signed (alias {@code client}): a
     * server that requires client certificates of the test CA must refuse it. Note that the JDK's default key
     * manager only offers a certificate whose issuer the server names in its request, so a JDK client with this
     * store sends no certificate at all to such a server.
     *
     * @return a PKCS12 file, password {@link #clientKeyStorePassword()}
     */
    public Path otherClientKeyStore() {
        return otherClientKeyStore;
    }

    /**
     * Builds a client TLS context that trusts the test CA only.
     *
     * @param presentClientCertificate whether it presents the client certificate of {@link #clientKeyStore()}
     * @return a TLS context
     */
    public SSLContext clientSslContext(boolean presentClientCertificate) {
        return sslContext(trustStore, presentClientCertificate ? clientKeyStore : null);
    }

    /**
     * Builds a TLS context from stores of this class.
     *
     * @param trust a trust store, e.g. {@link #trustStore()} or {@link #otherCaTrustStore()}
     * @param keys  a key store, e.g. {@link #clientKeyStore()}, or {@code null} for none
     * @return a TLS context
     */
    public SSLContext sslContext(Path trust, Path keys) {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(load(trust));
            KeyManagerFactory kmf = null;
            if (keys != null) {
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(load(keys), password.toCharArray());
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS context from " + trust + " and " + keys, e);
        }
    }

    @Override
    public String toString() {
        return "TestCertificates[" + directory + "]";
    }

    private static TestCertificates generate() {
        Path directory;
        try {
            directory = Files.createTempDirectory("msm-test-certificates");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the test certificates", e);
        }
        deleteOnExit(directory);
        TestCertificates certificates = new TestCertificates(directory, randomPassword());
        try {
            certificates.write();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the test certificates to " + directory, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the key stores keytool wrote in " + directory, e);
        }
        return certificates;
    }

    /** Makes the keys with keytool (two parallel rounds), then writes the PEM files and stores from Java. */
    private void write() throws IOException, GeneralSecurityException {
        Path work = Files.createDirectory(directory.resolve("work"));
        Keytool keytool = new Keytool(work, password);
        Path ca = work.resolve("ca.p12");
        Path otherCa = work.resolve("other-ca.p12");
        keytool.runAll(List.of(
                keytool.genkeypair(ca, "ca", CA_DNAME, null, "bc:c", "ku:c=keyCertSign,cRLSign"),
                keytool.genkeypair(otherCa, "ca", "CN=msm unrelated CA,O=msm tests", null, "bc:c",
                        "ku:c=keyCertSign,cRLSign")));
        // -signer needs the CA's key in the same store: one copy per certificate lets the round run in parallel.
        Path serverStore = Files.copy(ca, work.resolve("server.p12"));
        Path wrongStore = Files.copy(ca, work.resolve("wrong-host.p12"));
        Path clientStore = Files.copy(ca, work.resolve("client.p12"));
        Path otherClientStore = Files.copy(otherCa, work.resolve("other-client.p12"));
        String serverExts = "eku=serverAuth";
        String clientExts = "eku=clientAuth";
        keytool.runAll(List.of(
                keytool.genkeypair(serverStore, "leaf", "CN=localhost,O=msm tests", "ca",
                        "san=ip:127.0.0.1,dns:localhost,dns:mc.test", serverExts, "ku=digitalSignature"),
                keytool.genkeypair(wrongStore, "leaf", "CN=wrong-host.invalid,O=msm tests", "ca",
                        "san=dns:wrong-host.invalid", serverExts, "ku=digitalSignature"),
                keytool.genkeypair(clientStore, "leaf", "CN=msm test client,O=msm tests", "ca", clientExts,
                        "ku=digitalSignature"),
                keytool.genkeypair(otherClientStore, "leaf", "CN=msm other client,O=msm tests", "ca", clientExts,
                        "ku=digitalSignature")));

        writeCa(load(ca).getCertificate("ca"), caPem, trustStore, "msm-test-ca");
        writeCa(load(otherCa).getCertificate("ca"), otherCaPem, otherCaTrustStore, "msm-other-ca");
        writePem(load(serverStore), server);
        writePem(load(wrongStore), wrongHost);
        writeKeyStore(load(clientStore), clientKeyStore);
        writeKeyStore(load(serverStore), serverKeyStore);
        writeKeyStore(load(otherClientStore), otherClientKeyStore);
    }

    private void writeCa(Certificate ca, Path pem, Path store, String alias)
            throws IOException, GeneralSecurityException {
        Files.writeString(pem, pem("CERTIFICATE", ca.getEncoded()), StandardCharsets.US_ASCII);
        KeyStore trust = KeyStore.getInstance(STORE_TYPE);
        trust.load(null, null);
        trust.setCertificateEntry(alias, ca);
        save(trust, store);
    }

    private void writePem(KeyStore keytoolStore, CertificateFiles files) throws IOException, GeneralSecurityException {
        StringBuilder chain = new StringBuilder();
        for (Certificate certificate : keytoolStore.getCertificateChain("leaf")) {
            chain.append(pem("CERTIFICATE", certificate.getEncoded()));
        }
        Files.writeString(files.chainPem(), chain, StandardCharsets.US_ASCII);
        Key key = keytoolStore.getKey("leaf", password.toCharArray());
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalStateException("keytool made a " + key.getFormat() + " key, expected PKCS#8");
        }
        Files.writeString(files.keyPem(), pem("PRIVATE KEY", key.getEncoded()), StandardCharsets.US_ASCII);
    }

    /** Copies the client key and its chain, but not the CA's key keytool's store also holds. */
    private void writeKeyStore(KeyStore keytoolStore, Path store) throws IOException, GeneralSecurityException {
        KeyStore keys = KeyStore.getInstance(STORE_TYPE);
        keys.load(null, null);
        keys.setKeyEntry("client", (PrivateKey) keytoolStore.getKey("leaf", password.toCharArray()),
                password.toCharArray(), keytoolStore.getCertificateChain("leaf"));
        save(keys, store);
    }

    private KeyStore load(Path store) throws GeneralSecurityException {
        try (InputStream in = Files.newInputStream(store)) {
            KeyStore keyStore = KeyStore.getInstance(STORE_TYPE);
            keyStore.load(in, password.toCharArray());
            return keyStore;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read key store " + store, e);
        }
    }

    private void save(KeyStore keyStore, Path file) throws IOException, GeneralSecurityException {
        try (OutputStream out = Files.newOutputStream(file)) {
            keyStore.store(out, password.toCharArray());
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static String randomPassword() {
        byte[] bytes = new byte[18];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Deletes the directory tree when the JVM exits; the files hold private keys, if only test ones. */
    private static void deleteOnExit(Path directory) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            List<Path> paths = new ArrayList<>();
            try (Stream<Path> walk = Files.walk(directory)) {
                walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
            } catch (IOException | UncheckedIOException e) {
                return;
            }
            for (Path path : paths) {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    // a leftover in the temporary directory
                }
            }
        }, "msm-test-certificates-cleanup"));
    }
}
