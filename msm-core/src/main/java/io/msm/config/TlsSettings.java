package io.msm.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The value of {@code tls}, read together with {@code tlsTrustStore}, {@code tlsTrustStorePassword},
 * {@code tlsKeyStore} and {@code tlsKeyStorePassword}: whether connections to memcached use TLS and, if so, the
 * {@link SSLContext} they use, built at start so that a store that cannot be read stops the start naming its attribute
 * (never the first request). Problems never show a password. Store files renewed while running are read again
 * ({@link RotatingStores}).
 */
final class TlsSettings {
    /** {@code tls="false"}: plain TCP. */
    static final TlsSettings OFF = new TlsSettings(null, null);
    private static final String PEM_HEAD = "-----BEGIN";

    /** {@code null}: TLS off. */
    final SSLContext context;
    /** {@code null}: no store file to follow. */
    final RotatingStores files;

    private TlsSettings(SSLContext context, RotatingStores files) {
        this.context = context;
        this.files = files;
    }

    @Override
    public String toString() {
        return String.valueOf(context != null);
    }

    /** Reads {@code tls} ({@code text}; {@code null} if not set) and the attributes that go with it. */
    static TlsSettings read(String text, Reading r) {
        boolean on;
        if (text == null || text.equalsIgnoreCase("false")) {
            on = false;
        } else if (text.equalsIgnoreCase("true")) {
            on = true;
        } else {
            r.problem(MsmConfig.TLS, "expected true or false");
            return null;
        }
        if (!on) {
            for (String a : new String[] {MsmConfig.TLS_TRUST_STORE, MsmConfig.TLS_TRUST_STORE_PASSWORD,
                MsmConfig.TLS_KEY_STORE, MsmConfig.TLS_KEY_STORE_PASSWORD}) {
                if (r.raw(a) != null && !r.raw(a).isEmpty()) {
                    r.problems.add(shown(a, r) + ": only used with TLS, and " + MsmConfig.TLS + " is not \"true\": set "
                            + MsmConfig.TLS + "=\"true\" (or remove it)");
                }
            }
            return OFF;
        }
        if (r.value(Attributes.MEMCACHED_PROTOCOL) == MemcachedProtocol.BINARY) {
            r.problem(MsmConfig.TLS, "needs memcachedProtocol=\"text\" (the binary protocol's client, spymemcached, "
                    + "has no TLS; SASL, which needs it, is not available with TLS)");
            return null;
        }
        List<Object> digests = RotatingStores.digests(r); // before reading them: a renewal meanwhile is seen
        TrustManagerFactory trust = trust(r);
        KeyManager[] keys = keys(r);
        if (trust == null || keys == null) {
            return null;
        }
        try {
            SSLContext c = SSLContext.getInstance("TLS");
            // a renewed certificate is taken without a restart
            RotatingStores files = RotatingStores.of(r, trust, keys, digests);
            if (files != null) {
                c.init(files.keyManagers(), files.trustManagers(), null);
                RotatingStores.resumedAtMost(c);
            } else {
                c.init(keys.length == 0 ? null : keys, trust.getTrustManagers(), null);
            }
            return new TlsSettings(c, files);
        } catch (GeneralSecurityException e) {
            r.problem(MsmConfig.TLS, "this JVM cannot make a TLS context: " + e);
            return null;
        }
    }

    /** Server certificates are checked against {@code tlsTrustStore}, or the JVM's own trust store. */
    static TrustManagerFactory trust(Reading r) {
        String path = r.text(MsmConfig.TLS_TRUST_STORE);
        String password = r.raw(MsmConfig.TLS_TRUST_STORE_PASSWORD);
        try {
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (path == null) {
                if (password != null && !password.isEmpty()) {
                    r.problems.add(shown(MsmConfig.TLS_TRUST_STORE_PASSWORD, r) + ": there is no "
                            + MsmConfig.TLS_TRUST_STORE + " to open with it");
                    return null;
                }
                f.init((KeyStore) null); // the JVM's trust store (javax.net.ssl.trustStore, or its cacerts)
                if (!trustsAnyIssuer(f)) { // a slim image without cacerts: every handshake would fail
                    r.problem(MsmConfig.TLS, "the JVM's trust store (javax.net.ssl.trustStore, or the JDK's cacerts)"
                            + " holds no certificate to trust: set " + MsmConfig.TLS_TRUST_STORE);
                    return null;
                }
                return f;
            }
            KeyStore store = load(MsmConfig.TLS_TRUST_STORE, path, MsmConfig.TLS_TRUST_STORE_PASSWORD, password, true, r);
            if (store == null) {
                return null;
            }
            if (!holds(store, false)) {
                r.problem(MsmConfig.TLS_TRUST_STORE, password == null || password.isEmpty()
                        ? "holds no certificate that can be read without a password: set "
                                + MsmConfig.TLS_TRUST_STORE_PASSWORD + " (keytool encrypts a PKCS12 store's certificates)"
                        : "holds no certificate to trust");
                return null;
            }
            f.init(store);
            return f;
        } catch (GeneralSecurityException e) {
            r.problem(MsmConfig.TLS_TRUST_STORE, "cannot be used: " + e.getMessage());
            return null;
        }
    }

    /** The client certificate of {@code tlsKeyStore} (none if not set: an empty array). */
    static KeyManager[] keys(Reading r) {
        String path = r.text(MsmConfig.TLS_KEY_STORE);
        String password = r.raw(MsmConfig.TLS_KEY_STORE_PASSWORD);
        if (path == null) {
            if (password != null && !password.isEmpty()) {
                r.problems.add(shown(MsmConfig.TLS_KEY_STORE_PASSWORD, r) + ": there is no " + MsmConfig.TLS_KEY_STORE
                        + " to open with it");
                return null;
            }
            return new KeyManager[0];
        }
        KeyStore store = load(MsmConfig.TLS_KEY_STORE, path, MsmConfig.TLS_KEY_STORE_PASSWORD, password, false, r);
        if (store == null) {
            return null;
        }
        try {
            if (!holds(store, true)) {
                r.problem(MsmConfig.TLS_KEY_STORE, "holds no private key with its certificate (the client "
                        + "certificate memcached asks for)");
                return null;
            }
            KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            f.init(store, chars(password));
            return f.getKeyManagers();
        } catch (UnrecoverableKeyException e) {
            r.problems.add(shown(MsmConfig.TLS_KEY_STORE_PASSWORD, r) + ": opens " + MsmConfig.TLS_KEY_STORE + "=\""
                    + path + "\" but not its private key (msm opens the key with the store's password)");
            return null;
        } catch (GeneralSecurityException e) {
            r.problem(MsmConfig.TLS_KEY_STORE, "cannot be used: " + e.getMessage());
            return null;
        }
    }

    /**
     * Reads a PKCS12 or JKS key store, or (a trust store only) a PEM file of certificates.
     *
     * @return {@code null} after reporting the problem
     */
    private static KeyStore load(String attribute, String path, String passwordAttribute, String password,
            boolean pemAllowed, Reading r) {
        Path file;
        try {
            file = Path.of(path);
        } catch (InvalidPathException e) {
            r.problem(attribute, "not a file path: " + e.getReason());
            return null;
        }
        if (Files.isDirectory(file)) {
            r.problem(attribute, "a directory, not a file (" + file.toAbsolutePath() + ")");
            return null;
        }
        if (!Files.isRegularFile(file)) {
            r.problem(attribute, "no such file (" + file.toAbsolutePath() + ")");
            return null;
        }
        if (!Files.isReadable(file)) {
            r.problem(attribute, "this process may not read it (" + file.toAbsolutePath() + ")");
            return null;
        }
        try {
            if (Files.size(file) > RotatingStores.MAX_FILE_BYTES) {
                r.problem(attribute, "larger than " + RotatingStores.MAX_FILE_BYTES / (1024 * 1024) + " MB: no key "
                        + "store or file of certificates is");
                return null;
            }
            if (isPem(file)) {
                if (!pemAllowed) {
                    r.problem(attribute, "a PEM file; msm reads the client certificate and key from a PKCS12 or JKS "
                            + "key store, e.g. made by `openssl pkcs12 -export -in client.crt -inkey client.key -out "
                            + "client.p12`");
                    return null;
                }
                return pemCertificates(file, attribute, r);
            }
            return KeyStore.getInstance(file.toFile(), chars(password));
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                r.problems.add(shown(passwordAttribute, r) + ": does not open " + attribute + "=\"" + path
                        + "\" (wrong password)");
            } else {
                r.problem(attribute, "cannot be read: " + e.getMessage());
            }
            return null;
        } catch (KeyStoreException e) {
            r.problem(attribute, "not a PKCS12 or JKS key store" + (pemAllowed ? " nor a PEM file of certificates" : "")
                    + " (" + e.getMessage() + ")");
            return null;
        } catch (GeneralSecurityException e) {
            r.problem(attribute, "cannot be read: " + e.getMessage());
            return null;
        }
    }

    /**
     * Whether {@code file} is PEM text: a {@code -----BEGIN} line within its first 64 KB, after comments if any (the
     * CA bundles of Linux distributions and curl's {@code cacert.pem} start with comment lines).
     */
    private static boolean isPem(Path file) throws IOException {
        byte[] head = new byte[64 * 1024];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        return new String(head, 0, n, StandardCharsets.ISO_8859_1).contains(PEM_HEAD);
    }

    private static KeyStore pemCertificates(Path file, String attribute, Reading r)
            throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(file)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (java.security.cert.CertificateException e) {
            r.problem(attribute, "a PEM file, but not of certificates: " + e.getMessage());
            return null;
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (Certificate c : certificates) {
            store.setCertificateEntry("pem-" + i++, c);
        }
        return store;
    }

    private static boolean trustsAnyIssuer(TrustManagerFactory f) {
        for (javax.net.ssl.TrustManager tm : f.getTrustManagers()) {
            if (tm instanceof javax.net.ssl.X509TrustManager
                    && ((javax.net.ssl.X509TrustManager) tm).getAcceptedIssuers().length > 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code store} holds a private key entry ({@code keys}) or a certificate to trust. */
    private static boolean holds(KeyStore store, boolean keys) throws KeyStoreException {
        for (String alias : Collections.list(store.aliases())) {
            if (keys ? store.isKeyEntry(alias) : store.isCertificateEntry(alias) || store.isKeyEntry(alias)) {
                return true;
            }
        }
        return false;
    }

    private static char[] chars(String password) {
        return password == null ? null : password.toCharArray();
    }

    /** An attribute as a problem names it; a password's value is never shown. */
    private static String shown(String attribute, Reading r) {
        if (attribute.toLowerCase(Locale.ROOT).endsWith("password")) {
            return attribute + " (value not shown)";
        }
        return attribute + "=\"" + r.raw(attribute) + "\"";
    }
}
