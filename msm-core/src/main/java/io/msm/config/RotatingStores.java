package io.msm.config;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
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
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The trust and key managers of msm's TLS context when {@code tlsTrustStore} or {@code tlsKeyStore} names a file: they
 * read the files again when they change (a certificate renewed in place, a new version of a mounted Kubernetes
 * secret), so connections made from then on present and check the new certificates without a restart; connections
 * already open keep theirs. A full handshake reads the files (a few KB) at most once a {@link #CHECK_INTERVAL_MILLIS}
 * and compares their digests; files that changed are loaded and checked as at the start, on that handshake's thread.
 * A resumed handshake asks neither manager, so sessions are resumed for {@link #RESUMED_AT_MOST_SECONDS} at most.
 * Stores that cannot be used (half written, another password) are
 * reported once, and those read before stay in use; they are read again at each check until they can be used.
 */
final class RotatingStores {
    /** How often a handshake looks at the files at most. */
    static final long CHECK_INTERVAL_MILLIS = 1000;
    /** How long a TLS session is resumed at most: a reconnect makes a full handshake at least this often. */
    static final int RESUMED_AT_MOST_SECONDS = 60;
    /** A store file larger than this is not read (a trust store of every public CA is a few hundred KB). */
    static final long MAX_FILE_BYTES = 16L * 1024 * 1024;

    private static final System.Logger LOG = System.getLogger("io.msm.config");
    private static final String[] ATTRIBUTES = {MsmConfig.TLS, MsmConfig.TLS_TRUST_STORE,
        MsmConfig.TLS_TRUST_STORE_PASSWORD, MsmConfig.TLS_KEY_STORE, MsmConfig.TLS_KEY_STORE_PASSWORD};
    private static final String[] FILES = {MsmConfig.TLS_TRUST_STORE, MsmConfig.TLS_KEY_STORE};
    private static final String UNREADABLE = "unreadable";

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
    private final List<Path> files;
    private final ReentrantLock checking = new ReentrantLock();
    private volatile Read current;
    /** The read before {@link #current}: a handshake that chose its key under it finishes with it. */
    private volatile Read previous;
    /** The digests of the files the stores in use were read from (taken before); under {@link #checking}. */
    private List<Object> loaded;
    /** The digests of the files last reported unusable ({@code null}: none is); under {@link #checking}. */
    private List<Object> reported;
    private volatile long nextCheckNanos;
    /** Names the context in the log lines ({@link MsmConfig#nameLogs}); {@code "msm: "} until then. */
    volatile String logPrefix = "msm: ";
    /** {@link #CHECK_INTERVAL_MILLIS}; tests look at every handshake. */
    private volatile long intervalNanos = TimeUnit.MILLISECONDS.toNanos(CHECK_INTERVAL_MILLIS);

    private RotatingStores(Reading r, Read first, List<Object> digests) {
        for (String a : ATTRIBUTES) {
            raw.put(a, r.raw(a));
        }
        this.files = files(r);
        this.current = first;
        this.loaded = digests;
        this.nextCheckNanos = System.nanoTime() + intervalNanos;
    }

    /**
     * Stores that follow their files, if {@code tlsTrustStore} or {@code tlsKeyStore} names one (and the JDK's managers
     * are of the kinds a handshake asks, as its own are); else {@code null}: the managers are used as they are.
     *
     * @param digests {@link #digests(Reading)} taken before {@code trust} and {@code keys} were read (a renewal in
     *     between is seen at the first check)
     */
    static RotatingStores of(Reading r, TrustManagerFactory trust, KeyManager[] keys, List<Object> digests) {
        Read first = read(0, trust, keys);
        return !files(r).isEmpty() && first != null ? new RotatingStores(r, first, digests) : null;
    }

    /** The digests of the store files {@code r} names. */
    static List<Object> digests(Reading r) {
        return digests(files(r));
    }

    private static List<Path> files(Reading r) {
        List<Path> files = new ArrayList<>();
        for (String a : FILES) {
            String path = r.text(a);
            if (path != null) {
                try {
                    files.add(Path.of(path));
                } catch (InvalidPathException e) {
                    // reported by the read of the store
                }
            }
        }
        return files;
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

    /**
     * Bounds how long {@code c}, inited with these managers, resumes a TLS session ({@link #RESUMED_AT_MOST_SECONDS};
     * the JDK's default is a day). The sessions are not ended when the stores are read again: walking the JDK's
     * session cache while a handshake ends an expired session can deadlock both, inside the JDK.
     */
    static void resumedAtMost(SSLContext c) {
        c.getClientSessionContext().setSessionTimeout(RESUMED_AT_MOST_SECONDS);
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

    /** Reads the stores again if the files changed since they were read, at most once a check interval. */
    private void check() {
        long now = System.nanoTime();
        if (now - nextCheckNanos < 0 || !checking.tryLock()) {
            return; // another handshake looks now: this one goes on with what is in use
        }
        List<Object> digests = null;
        try {
            if (now - nextCheckNanos < 0) {
                return;
            }
            nextCheckNanos = now + intervalNanos;
            digests = digests(files);
            if (!digests.equals(loaded)) {
                readAgain(digests);
            }
        } catch (RuntimeException e) { // a handshake goes on with the stores in use whatever a new file holds
            if (digests != null) {
                reportOnce(digests, e.toString(), e);
            }
        } finally {
            checking.unlock();
        }
    }

    /** Reads the stores again from files whose digests were {@code digests} just before. */
    private void readAgain(List<Object> digests) {
        Reading r = new Reading(raw, null);
        TrustManagerFactory trust = TlsSettings.trust(r);
        KeyManager[] keys = TlsSettings.keys(r);
        Read next = trust == null || keys == null ? null : read(current.generation + 1, trust, keys);
        if (next == null) {
            reportOnce(digests, r.problems.isEmpty() ? "not of the kinds the JDK makes" : String.join("; ", r.problems),
                    null);
            return;
        }
        previous = current;
        current = next;
        loaded = digests;
        boolean afterProblem = reported != null;
        reported = null;
        // said at WARNING after a problem was: an operator who read that line learns it is over
        LOG.log(afterProblem ? Level.WARNING : Level.DEBUG, () -> logPrefix + "the TLS stores " + files
                + " are read again; new connections to memcached use them");
    }

    /**
     * Says that files of {@code digests} cannot be used, once per content: a file still being written is read again
     * at the next check, and said again only if it changed.
     */
    private void reportOnce(List<Object> digests, String why, Throwable cause) {
        if (digests.equals(reported)) {
            return;
        }
        reported = digests;
        LOG.log(Level.WARNING, logPrefix + "the TLS stores changed and cannot be used (" + why + "); connections to "
                + "memcached go on with the certificates read before", cause);
    }

    /**
     * Each file's SHA-256: whatever way a new version came (written in place, moved over it, a symbolic link pointed
     * elsewhere, its time kept), within one tick of the file system's clock too. Only a regular file of at most
     * {@link #MAX_FILE_BYTES} is read (a device or a pipe put there would never end); another is {@link #UNREADABLE},
     * and the read of the stores says why.
     */
    private static List<Object> digests(List<Path> files) {
        List<Object> digests = new ArrayList<>();
        for (Path f : files) {
            try {
                if (!Files.isRegularFile(f) || Files.size(f) > MAX_FILE_BYTES) {
                    digests.add(UNREADABLE);
                    continue;
                }
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                byte[] buffer = new byte[8192];
                long left = MAX_FILE_BYTES; // it may grow meanwhile
                try (InputStream in = Files.newInputStream(f)) {
                    for (int n; left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0; ) {
                        d.update(buffer, 0, n);
                        left -= n;
                    }
                }
                digests.add(Base64.getEncoder().encodeToString(d.digest()));
            } catch (IOException | GeneralSecurityException e) {
                digests.add(UNREADABLE);
            }
        }
        return digests;
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
