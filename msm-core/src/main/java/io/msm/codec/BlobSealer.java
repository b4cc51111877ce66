package io.msm.codec;

import io.msm.config.SessionProtection;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Wraps an encoded blob ({@link BlobCodec}) for memcached: signs it (HMAC-SHA256) or encrypts it (AES-256-GCM), and
 * deflates it when it is large. Without protection and compression the blob is stored as it is. A wrapped blob
 * (big-endian):
 * <pre>
 *   magic "MSMB" (4) | version u8 (=1) | flags u8 (bit0 signed, bit1 encrypted, bit2 compressed)
 *   [key id (4)]        signed or encrypted: which configured key wrote it
 *   [nonce (12)]        encrypted
 *   [inflated size i32] compressed: the size of the inner blob, at most {@link #MAX_INFLATED_SIZE}
 *   body                the inner blob (flags 0), deflated if compressed, AES-GCM ciphertext + 16-byte tag if encrypted
 *   [HMAC-SHA256 (32)]  signed: over everything before it
 * </pre>
 * The header is the GCM additional data, so nothing in it can be changed either. Each configured key yields
 * independent sub-keys (HMAC-SHA256 of a fixed label): a key id, an HMAC key and an AES key. The first key writes;
 * every key reads, so keys can be rotated without dropping sessions.
 *
 * <p>Reading checks the signature or the GCM tag before anything else is parsed or inflated: with protection on, no
 * byte of a blob that was not written with one of the keys reaches the serializer.
 */
public final class BlobSealer {
    static final int FLAG_SIGNED = 1;
    static final int FLAG_ENCRYPTED = 2;
    static final int FLAG_COMPRESSED = 4;
    /** The smallest key: 32 bytes (256 bits). */
    public static final int MIN_KEY_BYTES = 32;
    /** The largest inner blob a compressed blob may declare; anything larger is refused before allocating. */
    public static final int MAX_INFLATED_SIZE = 32 << 20;
    private static final int HEADER = 6;
    private static final int KEY_ID = 4;
    private static final int NONCE = 12;
    private static final int TAG = 16;
    private static final int MAC = 32;

    private final SessionProtection mode;
    private final List<SealKey> keys;
    private final int compressionThreshold;
    private final SecureRandom random = new SecureRandom();
    private long noncePrefix;
    private int nonceCounter;

    private BlobSealer(SessionProtection mode, List<SealKey> keys, int compressionThreshold) {
        this.mode = mode;
        this.keys = keys;
        this.compressionThreshold = compressionThreshold;
        this.noncePrefix = random.nextLong();
    }

    /**
     * @param mode                 what protects written blobs and what read blobs must carry
     * @param keys                 raw keys of at least {@link #MIN_KEY_BYTES}, the first writes; required unless
     *                             {@code mode} is {@link SessionProtection#NONE}
     * @param compressionThreshold blobs of at least this many bytes are deflated (if that makes them smaller); 0 = never
     */
    public static BlobSealer create(SessionProtection mode, List<byte[]> keys, int compressionThreshold) {
        if (mode != SessionProtection.NONE && keys.isEmpty()) {
            throw new IllegalArgumentException("sessionProtection " + mode + " needs a key");
        }
        List<SealKey> derived = new ArrayList<>();
        for (byte[] k : keys) {
            if (k.length < MIN_KEY_BYTES) {
                throw new IllegalArgumentException("a key of " + k.length + " bytes; at least " + MIN_KEY_BYTES
                        + " are needed");
            }
            derived.add(new SealKey(k));
        }
        return new BlobSealer(mode, List.copyOf(derived), Math.max(0, compressionThreshold));
    }

    /** The stored form of an encoded blob. */
    public byte[] seal(byte[] blob) {
        byte[] body = blob;
        int inflated = -1;
        if (compressionThreshold > 0 && blob.length >= compressionThreshold) {
            byte[] deflated = deflate(blob);
            if (deflated != null) {
                body = deflated;
                inflated = blob.length;
            }
        }
        if (mode == SessionProtection.NONE && inflated < 0) {
            return blob;
        }
        boolean encrypt = mode == SessionProtection.ENCRYPT;
        boolean sign = mode == SessionProtection.SIGN;
        SealKey key = mode == SessionProtection.NONE ? null : keys.get(0);
        int headerLength = HEADER + (key != null ? KEY_ID : 0) + (encrypt ? NONCE : 0) + (inflated >= 0 ? 4 : 0);
        int bodyLength = body.length + (encrypt ? TAG : 0);
        byte[] out = new byte[headerLength + bodyLength + (sign ? MAC : 0)];
        System.arraycopy(BlobCodec.MAGIC, 0, out, 0, 4);
        out[4] = (byte) BlobCodec.VERSION;
        out[5] = (byte) ((sign ? FLAG_SIGNED : 0) | (encrypt ? FLAG_ENCRYPTED : 0) | (inflated >= 0 ? FLAG_COMPRESSED : 0));
        int pos = HEADER;
        if (key != null) {
            putInt(out, pos, key.id);
            pos += KEY_ID;
        }
        byte[] nonce = null;
        if (encrypt) {
            nonce = nextNonce();
            System.arraycopy(nonce, 0, out, pos, NONCE);
            pos += NONCE;
        }
        if (inflated >= 0) {
            putInt(out, pos, inflated);
        }
        try {
            if (encrypt) {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, key.aes, new GCMParameterSpec(TAG * 8, nonce));
                c.updateAAD(out, 0, headerLength);
                c.doFinal(body, 0, body.length, out, headerLength);
            } else {
                System.arraycopy(body, 0, out, headerLength, body.length);
            }
            if (sign) {
                Mac m = key.mac();
                m.update(out, 0, headerLength + bodyLength);
                m.doFinal(out, headerLength + bodyLength);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot " + (encrypt ? "encrypt with AES-GCM" : "sign with HMAC-SHA256"), e);
        }
        return out;
    }

    /**
     * The encoded blob inside a stored one.
     *
     * @throws UntrustedBlobException  if protection is on and the blob is not signed or encrypted with one of the keys,
     *                                 or was altered
     * @throws UnreadableBlobException for any other malformed input (never any other exception)
     */
    public byte[] open(byte[] stored) {
        if (stored == null || stored.length < HEADER || !Arrays.equals(stored, 0, 4, BlobCodec.MAGIC, 0, 4)
                || (stored[4] & 0xFF) != BlobCodec.VERSION) {
            if (mode != SessionProtection.NONE) {
                throw new UntrustedBlobException("not a signed or encrypted msm blob (sessionProtection="
                        + name(mode) + ")");
            }
            return stored; // BlobCodec says what is wrong with it
        }
        int flags = stored[5] & 0xFF;
        checkFlags(flags);
        if (flags == 0) {
            return stored; // a plain blob (only reached without protection)
        }
        boolean signed = (flags & FLAG_SIGNED) != 0;
        boolean encrypted = (flags & FLAG_ENCRYPTED) != 0;
        boolean compressed = (flags & FLAG_COMPRESSED) != 0;
        int pos = HEADER;
        SealKey key = null;
        if (signed || encrypted) {
            need(stored, pos + KEY_ID + (encrypted ? NONCE + TAG : MAC));
            key = keyOf(getInt(stored, pos));
            pos += KEY_ID;
        }
        int noncePos = pos;
        if (encrypted) {
            pos += NONCE;
        }
        int inflated = -1;
        if (compressed) {
            need(stored, pos + 4);
            inflated = getInt(stored, pos);
            pos += 4;
        }
        int headerLength = pos;
        need(stored, headerLength + (signed ? MAC : 0) + (encrypted ? TAG : 0));
        byte[] body = body(stored, flags, key, noncePos, headerLength);
        if (!compressed) {
            return body;
        }
        if (inflated <= 0 || inflated > MAX_INFLATED_SIZE) {
            throw new UnreadableBlobException("declared inflated size " + inflated + " is not in 1.." + MAX_INFLATED_SIZE);
        }
        return inflate(body, inflated);
    }

    /** Refuses flags this version does not know, and a blob whose protection is not the configured one. */
    private void checkFlags(int flags) {
        boolean signed = (flags & FLAG_SIGNED) != 0;
        boolean encrypted = (flags & FLAG_ENCRYPTED) != 0;
        if ((flags & ~(FLAG_SIGNED | FLAG_ENCRYPTED | FLAG_COMPRESSED)) != 0 || (signed && encrypted)) {
            throw new UnreadableBlobException("unsupported flags 0x" + Integer.toHexString(flags));
        }
        if (mode == SessionProtection.NONE && (signed || encrypted)) {
            throw new UnreadableBlobException("the blob is " + (signed ? "signed" : "encrypted")
                    + " but this manager has sessionProtection=none and no keys");
        }
        if (mode != SessionProtection.NONE && !signed && !encrypted) {
            throw new UntrustedBlobException("the blob is neither signed nor encrypted (sessionProtection="
                    + name(mode) + ")");
        }
    }

    /** The configured key with key id {@code id}. */
    private SealKey keyOf(int id) {
        for (SealKey k : keys) {
            if (k.id == id) {
                return k;
            }
        }
        throw new UntrustedBlobException("written with a key this manager does not have (key id "
                + String.format("%08x", id) + ")");
    }

    /**
     * The body of a wrapped blob whose header ends at {@code headerLength}: its signature checked, or decrypted (the
     * GCM tag checked), or as it is.
     */
    private static byte[] body(byte[] stored, int flags, SealKey key, int noncePos, int headerLength) {
        boolean signed = (flags & FLAG_SIGNED) != 0;
        boolean encrypted = (flags & FLAG_ENCRYPTED) != 0;
        int end = stored.length - (signed ? MAC : 0);
        try {
            if (signed) {
                Mac m = key.mac();
                m.update(stored, 0, end);
                if (!MessageDigest.isEqual(m.doFinal(), Arrays.copyOfRange(stored, end, stored.length))) {
                    throw new UntrustedBlobException("bad signature (altered, or signed with another key of the "
                            + "same id)");
                }
                return Arrays.copyOfRange(stored, headerLength, end);
            } else if (encrypted) {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, key.aes, new GCMParameterSpec(TAG * 8, stored, noncePos, NONCE));
                c.updateAAD(stored, 0, headerLength);
                return c.doFinal(stored, headerLength, end - headerLength);
            } else {
                return Arrays.copyOfRange(stored, headerLength, end);
            }
        } catch (AEADBadTagException e) {
            throw new UntrustedBlobException("fails AES-GCM authentication (altered, or encrypted with another key)");
        } catch (GeneralSecurityException e) {
            throw new UnreadableBlobException("cannot decrypt: " + e);
        }
    }

    /** Whether blobs must be signed or encrypted with one of this sealer's keys to be read. */
    public SessionProtection mode() {
        return mode;
    }

    private static String name(SessionProtection mode) {
        return mode.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** 8 random bytes per 2^32 messages, then a counter: nonces never repeat within a process. */
    private synchronized byte[] nextNonce() {
        if (nonceCounter == -1) {
            noncePrefix = random.nextLong();
        }
        nonceCounter++;
        byte[] n = new byte[NONCE];
        putInt(n, 0, (int) (noncePrefix >>> 32));
        putInt(n, 4, (int) noncePrefix);
        putInt(n, 8, nonceCounter);
        return n;
    }

    /** The deflated bytes, or {@code null} if they would not be smaller. */
    private static byte[] deflate(byte[] blob) {
        Deflater d = new Deflater(Deflater.BEST_SPEED);
        try {
            d.setInput(blob);
            d.finish();
            byte[] out = new byte[blob.length];
            int n = 0;
            while (!d.finished() && n < out.length) {
                n += d.deflate(out, n, out.length - n);
            }
            return d.finished() && n < blob.length ? Arrays.copyOf(out, n) : null;
        } finally {
            d.end();
        }
    }

    private static byte[] inflate(byte[] body, int size) {
        Inflater inf = new Inflater();
        try {
            inf.setInput(body);
            // grown as bytes really come out: a small blob declaring a huge size allocates little
            byte[] out = new byte[(int) Math.min(size, Math.max(4096L, body.length * 4L))];
            int n = 0;
            while (n < size) {
                if (n == out.length) {
                    out = Arrays.copyOf(out, (int) Math.min(size, out.length * 2L));
                }
                int got = inf.inflate(out, n, out.length - n);
                if (got == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) {
                    break;
                }
                n += got;
            }
            if (n != size || !inf.finished() || inf.getRemaining() != 0) {
                throw new UnreadableBlobException("compressed data does not inflate to the declared " + size + " bytes");
            }
            return out;
        } catch (DataFormatException e) {
            throw new UnreadableBlobException("corrupt compressed data: " + e.getMessage());
        } finally {
            inf.end();
        }
    }

    private static void need(byte[] b, int length) {
        if (b.length < length) {
            throw new UnreadableBlobException("truncated: " + b.length + " bytes, the header needs " + length);
        }
    }

    private static void putInt(byte[] b, int pos, int v) {
        b[pos] = (byte) (v >>> 24);
        b[pos + 1] = (byte) (v >>> 16);
        b[pos + 2] = (byte) (v >>> 8);
        b[pos + 3] = (byte) v;
    }

    private static int getInt(byte[] b, int pos) {
        return ((b[pos] & 0xFF) << 24) | ((b[pos + 1] & 0xFF) << 16) | ((b[pos + 2] & 0xFF) << 8) | (b[pos + 3] & 0xFF);
    }

    /** One configured key and what is derived from it; the raw key is not kept. */
    private static final class SealKey {
        final int id;
        final SecretKeySpec hmac;
        final SecretKeySpec aes;

        SealKey(byte[] raw) {
            byte[] idBytes = derive(raw, "msm blob key id v1");
            this.id = getInt(idBytes, 0);
            this.hmac = new SecretKeySpec(derive(raw, "msm blob hmac-sha256 v1"), "HmacSHA256");
            this.aes = new SecretKeySpec(derive(raw, "msm blob aes-256-gcm v1"), "AES");
        }

        Mac mac() throws GeneralSecurityException {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(hmac);
            return m;
        }

        private static byte[] derive(byte[] key, String label) {
            try {
                Mac m = Mac.getInstance("HmacSHA256");
                m.init(new SecretKeySpec(key, "HmacSHA256"));
                return m.doFinal(label.getBytes(StandardCharsets.US_ASCII));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK has no HmacSHA256", e);
            }
        }
    }
}
