package io.msm.config;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The trust and key managers of msm's TLS context when {@code tlsTrustStore} or {@code tlsKeyStore} names a file: they
 * read the files again when they change (a certificate renewed in place, a new version of a mounted Kubernetes
 * secret), so connections made from then on present and check the new certificates without a restart; connections
 * already open keep theirs. A handshake reads the files (a few KB) at most once a {@link #CHECK_INTERVAL_MILLIS} and
 * compares their digests; a file that changed is loaded and checked as at the start, on that handshake's thread.
 * Stores that cannot be used (half written, another password) are reported once, and those read before stay in use.
 */
final class RotatingStores {
    /** How often a handshake looks at the files at most. */
    static final long CHECK_INTERVAL_MILLIS = 1000;

    private static final System.Logger LOG = System.getLogger("io.msm.config");
    private static final String[] ATTRIBUTES = {MsmConfig.TLS_TRUST_STORE, MsmConfig.TLS_TRUST_STORE_PASSWORD,
        MsmConfig.TLS_KEY_STORE, MsmConfig.TLS_KEY_STORE_PASSWORD};

    /** What one read of the stores gave. */
    private static final class Read {
        final int generation;
        final X509ExtendedTrustManager trust;
        /** {@code null}: no {@code tlsKeyStore}, no client certificate. */
        final X509ExtendedKeyManager keys;

        Read(int generation, X509ExtendedTrustManager trust, X509ExtendedKeyManager keys) {
            this.generation = generation;
            this.trust = trust;
            this.keys = keys;
        }
    }

    /** The store attributes as written, to read them again as at the start. */
    private final Map<String, String> raw = new HashMap<>();
    private final List<Path> files = new ArrayList<>();
    private final ReentrantLock checking = new ReentrantLock();
    private volatile Read current;
    /** The read before {@link #current}: a handshake that chose its key under it finishes with it. */
    private volatile Read previous;
    /** What the files looked like when last read (or found unusable); under {@link #checking}. */
    private List<Object> seen;
    private volatile long nextCheckNanos;
    /** {@link #CHECK_INTERVAL_MILLIS}; tests look at every handshake. */
    private volatile long intervalNanos = TimeUnit.MILLISECONDS.toNanos(CHECK_INTERVAL_MILLIS);

    private RotatingStores(Reading r, Read first) {
        for (String a : ATTRIBUTES) {
            raw.put(a, r.raw(a));
        }
        for (String a : new String[] {MsmConfig.TLS_TRUST_STORE, MsmConfig.TLS_KEY_STORE}) {
            String path = r.text(a);
            if (path != null) {
                files.add(Path.of(path));
            }
        }
        this.current = first;
        this.seen = stamps();
        this.nextCheckNanos = System.nanoTime() + intervalNanos;
    }

    /**
     * Stores that follow their files, if {@code tlsTrustStore} or {@code tlsKeyStore} names one (and the JDK's managers
     * are of the kinds a handshake asks, as its own are); else {@code null}: the managers are used as they are.
     */
    static RotatingStores of(Reading r, TrustManagerFactory trust, KeyManager[] keys) {
        Read first = read(0, trust, keys);
        boolean files = r.text(MsmConfig.TLS_TRUST_STORE) != null || r.text(MsmConfig.TLS_KEY_STORE) != null;
        return files && first != null ? new RotatingStores(r, first) : null;
    }

    /** Tests: every handshake looks at the files. */
    RotatingStores lookingEveryTime() {
        intervalNanos = 0;
        nextCheckNanos = System.nanoTime();
        return this;
    }

    /** For {@code SSLContext.init}: {@code null} without a key store (no client certificate). */
    KeyManager[] keyManagers() {
        return current.keys == null ? null : new KeyManager[] {new Keys()};
    }

    TrustManager[] trustManagers() {
        return new TrustManager[] {new Trust()};
    }

    /** The managers the JDK made, if they are of the kinds a handshake asks (the JDK's are); else {@code null}. */
    private static Read read(int generation, TrustManagerFactory trust, KeyManager[] keys) {
        X509ExtendedTrustManager t = null;
        for (TrustManager m : trust.getTrustManagers()) {
            if (m instanceof X509ExtendedTrustManager) {
                t = (X509ExtendedTrustManager) m;
            }
        }
        X509ExtendedKeyManager k = null;
        for (KeyManager m : keys) {
            if (m instanceof X509ExtendedKeyManager) {
                k = (X509ExtendedKeyManager) m;
            }
        }
        return t == null || (keys.length > 0 && k == null) ? null : new Read(generation, t, k);
    }

    /** Reads the stores again if the files changed since they were last read, at most once a check interval. */
    private void check() {
        long now = System.nanoTime();
        if (now - nextCheckNanos < 0 || !checking.tryLock()) {
            return; // another handshake looks now: this one goes on with what is in use
        }
        try {
            if (now - nextCheckNanos < 0) {
                return;
            }
            nextCheckNanos = now + intervalNanos;
            List<Object> stamps = stamps();
            if (stamps.equals(seen)) {
                return;
            }
            seen = stamps;
            readAgain();
        } catch (RuntimeException e) { // a handshake goes on with the stores in use whatever a new file holds
            LOG.log(Level.WARNING, "msm: the TLS stores changed and cannot be used; connections to memcached go on "
                    + "with the certificates read before, until the files change again", e);
        } finally {
            checking.unlock();
        }
    }

    private void readAgain() {
        Reading r = new Reading(raw, null);
        TrustManagerFactory trust = TlsSettings.trust(r);
        KeyManager[] keys = TlsSettings.keys(r);
        Read next = trust == null || keys == null ? null : read(current.generation + 1, trust, keys);
        if (next == null || (next.keys == null) != (current.keys == null)) {
            String why = r.problems.isEmpty() ? "not usable" : String.join("; ", r.problems);
            LOG.log(Level.WARNING, () -> "msm: the TLS stores changed and cannot be used (" + why + "); connections "
                    + "to memcached go on with the certificates read before, until the files change again");
            return;
        }
        previous = current;
        current = next;
        LOG.log(Level.DEBUG, () -> "msm: TLS stores read again (" + files + "); new connections to memcached use them");
    }

    /**
     * Each file's digest: whatever way a new version came (written in place, moved over it, a symbolic link pointed
     * elsewhere, its time kept), within one tick of the file system's clock too.
     */
    private List<Object> stamps() {
        List<Object> stamps = new ArrayList<>();
        for (Path f : files) {
            try {
                stamps.add(Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
                        .digest(Files.readAllBytes(f))));
            } catch (IOException | GeneralSecurityException e) {
                stamps.add("unreadable");
            }
        }
        return stamps;
    }

    /** Server certificates checked by the trust store read last. */
    private final class Trust extends X509ExtendedTrustManager {
        private X509ExtendedTrustManager checked() {
            check();
            return current.trust;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checked().checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checked().checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            checked().checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            current.trust.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            current.trust.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            current.trust.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return current.trust.getAcceptedIssuers();
        }
    }

    /**
     * The client certificate of the key store read last. An alias it gives names its read ({@code <generation>:}
     * before the store's alias), so that a handshake takes the key and the chain of the one read it chose from, also
     * when the stores are read again meanwhile.
     */
    private final class Keys extends X509ExtendedKeyManager {
        private String named(Read r, String alias) {
            return alias == null ? null : r.generation + ":" + alias;
        }

        /** The read an alias names (the last two are kept), or {@code null}. */
        private Read readOf(String alias) {
            int colon = alias == null ? -1 : alias.indexOf(':');
            if (colon > 0) {
                String g = alias.substring(0, colon);
                for (Read r : new Read[] {current, previous}) {
                    if (r != null && r.keys != null && g.equals(Integer.toString(r.generation))) {
                        return r;
                    }
                }
            }
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            check();
            Read r = current;
            return r.keys == null ? null : named(r, r.keys.chooseClientAlias(keyType, issuers, socket));
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            check();
            Read r = current;
            return r.keys == null ? null : named(r, r.keys.chooseEngineClientAlias(keyType, issuers, engine));
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            Read r = current;
            String[] aliases = r.keys == null ? null : r.keys.getClientAliases(keyType, issuers);
            if (aliases == null) {
                return null;
            }
            String[] named = new String[aliases.length];
            for (int i = 0; i < aliases.length; i++) {
                named[i] = named(r, aliases[i]);
            }
            return named;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            Read r = readOf(alias);
            return r == null ? null : r.keys.getCertificateChain(alias.substring(alias.indexOf(':') + 1));
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            Read r = readOf(alias);
            return r == null ? null : r.keys.getPrivateKey(alias.substring(alias.indexOf(':') + 1));
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null; // msm is a client only
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return null;
        }
    }
}
