package io.msm.engine;

import io.msm.config.SessionProtection;
import io.msm.internal.IdentityMemo;
import io.msm.store.MemcachedKeys;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The memcached keys of one webapp's sessions: the primary copy {@code <prefix><name>}, the secondary copy
 * {@code bak:<prefix><name>}, the mark an end leaves beside it {@code gone:<prefix><name>}, the lock
 * {@code lock:<prefix><name>} and the claim on its end {@code end:<prefix><name>}; and the webapp's keys that name no
 * session.
 *
 * <p>Without {@code sessionProtection} the name is the session id, as msm always wrote it. With it, the name is a
 * keyed hash of the id (HMAC-SHA256 under a sub-key of a session key, its first 192 bits in base64url), so that
 * whoever can list memcached's keys learns no session id. A session has one name per configured key: the first
 * key's is the one written; the others are looked in, so that a session written before a key rotation put a new key
 * first is still found (and then moved to the first key's name by its engine).
 *
 * <p>A key memcached cannot take (over 250 bytes of UTF-8, a space or a control character, e.g. from a long or odd
 * prefix) is replaced by {@code msm:} and the SHA-256 of it in base64url: the same on every Tomcat, never refused.
 */
final class StorageKeys {
    /** The label deriving a session key's naming sub-key (independent of the blob sealer's sub-keys). */
    private static final byte[] NAMING_LABEL = "msm key names v1".getBytes(StandardCharsets.US_ASCII);
    /** Bytes of the keyed hash kept in a name: 192 bits, 32 characters of base64url. */
    private static final int NAME_BYTES = 24;
    private static final String PROBE = "msm:probe";
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final String prefix;
    /** One naming sub-key per configured key; empty without protection. */
    private final List<SecretKeySpec> namingKeys;
    /** An initialized HMAC per naming key, cloned per use (cheaper than a new instance). */
    private final List<Mac> namers;
    /*
     * Worked out lately under the first name, found again by identity of the id string only (IdentityMemo): a request
     * keys its session, the same string, several times (its load, its write, the secondary copy), and with protection
     * each name is a keyed hash.
     */
    private final IdentityMemo<String> names = new IdentityMemo<>();
    private final IdentityMemo<String> primaries = new IdentityMemo<>();
    private final IdentityMemo<String> secondaries = new IdentityMemo<>();
    private final Function<String, String> firstName = id -> keyedName(id, 0);
    private final Function<String, String> firstPrimary = id -> primaryKey(id, 0);
    private final Function<String, String> firstSecondary = id -> secondaryKey(id, 0);

    StorageKeys(String prefix, SessionProtection protection, List<byte[]> sessionKeys) {
        this.prefix = prefix;
        List<SecretKeySpec> k = new ArrayList<>();
        List<Mac> m = new ArrayList<>();
        if (protection != SessionProtection.NONE) {
            for (byte[] sessionKey : sessionKeys) {
                SecretKeySpec naming = new SecretKeySpec(hmac(new SecretKeySpec(sessionKey, "HmacSHA256"))
                        .doFinal(NAMING_LABEL), "HmacSHA256");
                if (!k.contains(naming)) { // a key listed twice has one name
                    k.add(naming);
                    m.add(hmac(naming));
                }
            }
        }
        this.namingKeys = List.copyOf(k);
        this.namers = List.copyOf(m);
    }

    /** How many names a session has: one without protection, one per configured key with it. */
    int names() {
        return Math.max(1, namers.size());
    }

    /** The key of the primary copy under name {@code n} (0: the one written). */
    String primary(String id, int n) {
        return n == 0 ? primaries.get(id, firstPrimary) : primaryKey(id, n);
    }

    String secondary(String id, int n) {
        return n == 0 ? secondaries.get(id, firstSecondary) : secondaryKey(id, n);
    }

    private String primaryKey(String id, int n) {
        return fit(prefix + name(id, n));
    }

    private String secondaryKey(String id, int n) {
        return fit(SessionEngine.BAK_PREFIX + prefix + name(id, n));
    }

    /** The key of the mark an end leaves beside the secondary copy under name {@code n} ({@link GoneMarks}). */
    String gone(String id, int n) {
        return fit(GoneMarks.PREFIX + prefix + name(id, n));
    }

    String lock(String id, int n) {
        return fit(SessionEngine.LOCK_PREFIX + prefix + name(id, n));
    }

    /**
     * The lock keys of every name, in one order every configuration agrees on (whatever the order of its keys): a
     * request takes them all, so two Tomcats with different first keys (during a rotation) still exclude each other.
     */
    List<String> locks(String id) {
        List<String> locks = new ArrayList<>(names());
        for (int n = 0; n < names(); n++) {
            locks.add(lock(id, n));
        }
        locks.sort(null);
        return locks;
    }

    /**
     * The keys of the claim on the end of session {@code id} ({@link ExpiryClaims}): one per name, in one order every
     * configuration agrees on, as {@link #locks}: a claim adds them all, so two Tomcats with different first keys
     * (during a rotation) still claim a session's end once between them.
     */
    List<String> claims(String id) {
        List<String> claims = new ArrayList<>(names());
        for (int n = 0; n < names(); n++) {
            claims.add(fit(ExpiryClaims.PREFIX + prefix + name(id, n)));
        }
        claims.sort(null);
        return claims;
    }

    /** A key of this webapp that names no session ({@code name} holds no id), made sendable. */
    String unnamed(String name) {
        return fit(prefix + name);
    }

    /** A key that is read to test a node, never written. */
    String probe() {
        return fit(prefix + PROBE);
    }

    private String name(String id, int n) {
        if (namers.isEmpty()) {
            return id;
        }
        return n == 0 ? names.get(id, firstName) : keyedName(id, n);
    }

    private String keyedName(String id, int n) {
        Mac mac;
        try {
            mac = (Mac) namers.get(n).clone();
        } catch (CloneNotSupportedException e) {
            mac = hmac(namingKeys.get(n));
        }
        byte[] hash = mac.doFinal(id.getBytes(StandardCharsets.UTF_8));
        return BASE64URL.encodeToString(Arrays.copyOf(hash, NAME_BYTES));
    }

    /** {@code key} as it is if memcached takes it, else {@code msm:} and its SHA-256 (see the class comment). */
    static String fit(String key) {
        if (MemcachedKeys.isSendable(key)) {
            return key;
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return "msm:" + BASE64URL.encodeToString(hash);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static Mac hmac(SecretKeySpec key) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HmacSHA256", e);
        }
    }
}
