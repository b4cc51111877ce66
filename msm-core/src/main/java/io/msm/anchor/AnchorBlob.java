package io.msm.anchor;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A session as memcached-session-manager 2.x stored it (its {@code TranscoderService} format, versions 1 and 2): the
 * fields of its header and the bytes of its parts, parsed with every length checked. The attribute bytes are the
 * old manager's transcoder's (Java serialization: see {@link AnchorAttributes}); the principal and the saved FORM
 * request are Java serialization streams of Tomcat classes, read by the Tomcat adapter.
 *
 * <p>Layout (big-endian): version (2 bytes, 1 or 2), header length L (2), creation time (8), last accessed time (8),
 * max inactive interval (4), isNew and isValid (one ASCII '1'/'0' each), this accessed time (8), last backup time (8),
 * id length (2) and the id in UTF-8, auth type id (2), principal length (2) and bytes, and in version 2 the saved FORM
 * request and the saved FORM principal (length (2) and bytes each); the attributes from offset L to the end. Every
 * length is a signed 16-bit number, as the old manager reads it.
 */
public final class AnchorBlob {
    /** The auth types the old manager can write, by the id it writes: 0 none, then BASIC, CLIENT_CERT, DIGEST, FORM. */
    private static final String[] AUTH_TYPES = {null, "BASIC", "CLIENT_CERT", "DIGEST", "FORM"};
    private static final int FIXED = 44;

    private final int version;
    private final long creationTime;
    private final long lastAccessedTime;
    private final int maxInactiveInterval;
    private final boolean isNew;
    private final boolean isValid;
    private final long thisAccessedTime;
    private final long lastBackupTime;
    private final String id;
    private final String authType;
    private final byte[] principal;
    private final byte[] savedRequest;
    private final byte[] savedPrincipal;
    private final byte[] attributes;

    private AnchorBlob(Reader r, byte[] data) {
        version = r.u16();
        int headerLength = r.length("header length");
        creationTime = r.i64();
        lastAccessedTime = r.i64();
        maxInactiveInterval = r.i32();
        isNew = r.flag("isNew");
        isValid = r.flag("isValid");
        thisAccessedTime = r.i64();
        lastBackupTime = r.i64();
        id = new String(r.bytes(r.length("id length")), StandardCharsets.UTF_8);
        int auth = r.u16();
        if (auth >= AUTH_TYPES.length) {
            throw new AnchorFormatException("unknown auth type id " + auth);
        }
        authType = AUTH_TYPES[auth];
        principal = r.bytes(r.length("principal length"));
        if (version == 2) {
            savedRequest = r.bytes(r.length("saved request length"));
            savedPrincipal = r.bytes(r.length("saved principal length"));
        } else {
            savedRequest = new byte[0];
            savedPrincipal = new byte[0];
        }
        if (headerLength != r.position()) {
            throw new AnchorFormatException("header length " + headerLength + ", its fields end at " + r.position());
        }
        attributes = Arrays.copyOfRange(data, headerLength, data.length);
    }

    /** Whether {@code data} starts as a blob of the old manager (version 1 or 2, a header length that fits). */
    public static boolean looksLikeOne(byte[] data) {
        if (data == null || data.length < FIXED + 2) {
            return false;
        }
        int version = ((data[0] & 0xff) << 8) | (data[1] & 0xff);
        int headerLength = (short) (((data[2] & 0xff) << 8) | (data[3] & 0xff));
        return (version == 1 || version == 2) && headerLength >= FIXED + 2 && headerLength <= data.length;
    }

    /**
     * Parses {@code data}.
     *
     * @throws AnchorFormatException if it is not such a blob, or a length points outside it
     */
    public static AnchorBlob parse(byte[] data) {
        if (!looksLikeOne(data)) {
            throw new AnchorFormatException("not a memcached-session-manager session (" + (data == null ? "null"
                    : data.length + " bytes") + ")");
        }
        return new AnchorBlob(new Reader(data), data);
    }

    /** Where the last backup time is written: the one field that changes with every write of the same session. */
    public static final int LAST_BACKUP_TIME_OFFSET = 34;

    /**
     * A blob the old manager reads (version 2), as it wrote one: the fields of {@code data}, the given parts.
     *
     * @param principal the principal's Java serialization stream, empty if none
     * @param savedRequest a FORM login in progress: the saved request's stream, empty if none
     * @param attributes its Java transcoder's attribute stream
     * @throws AnchorFormatException if the old manager could not read it: an auth type it does not know, or a part
     *         (id, principal, saved request, the header) of 32768 bytes or more (it reads lengths as signed 16-bit)
     */
    public static byte[] encode(io.msm.codec.SessionData data, long lastBackupTime, byte[] principal,
            byte[] savedRequest, byte[] attributes) {
        int auth = Arrays.asList(AUTH_TYPES).indexOf(data.authType());
        if (auth < 0) {
            throw new AnchorFormatException("auth type " + data.authType() + " is not one memcached-session-manager "
                    + "stores");
        }
        byte[] id = data.id().getBytes(StandardCharsets.UTF_8);
        int header = FIXED + id.length + 2 + 2 + principal.length + 2 + savedRequest.length + 2;
        for (int n : new int[] {id.length, principal.length, savedRequest.length, header}) {
            if (n > Short.MAX_VALUE) {
                throw new AnchorFormatException("a part of " + n + " bytes: memcached-session-manager reads at most "
                        + Short.MAX_VALUE);
            }
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(header + attributes.length);
        b.putShort((short) 2).putShort((short) header).putLong(data.creationTime()).putLong(data.lastAccessedTime())
                .putInt(data.maxInactiveInterval()).put((byte) (data.isNew() ? '1' : '0'))
                .put((byte) (data.isValid() ? '1' : '0')).putLong(data.thisAccessedTime()).putLong(lastBackupTime)
                .putShort((short) id.length).put(id).putShort((short) auth)
                .putShort((short) principal.length).put(principal)
                .putShort((short) savedRequest.length).put(savedRequest)
                .putShort((short) 0) // no saved FORM principal: Tomcat 9 keeps none while a login is in progress
                .put(attributes);
        return b.array();
    }

    public int version() {
        return version;
    }

    public long creationTime() {
        return creationTime;
    }

    public long lastAccessedTime() {
        return lastAccessedTime;
    }

    public int maxInactiveInterval() {
        return maxInactiveInterval;
    }

    public boolean isNew() {
        return isNew;
    }

    public boolean isValid() {
        return isValid;
    }

    public long thisAccessedTime() {
        return thisAccessedTime;
    }

    public long lastBackupTime() {
        return lastBackupTime;
    }

    /** The session id as the old manager wrote it ({@code <random>-<nodeId>[.<jvmRoute>]}). */
    public String id() {
        return id;
    }

    /** {@code BASIC}, {@code CLIENT_CERT}, {@code DIGEST}, {@code FORM}, or null. */
    public String authType() {
        return authType;
    }

    /** The logged-in principal's Java serialization stream, empty if none. */
    public byte[] principal() {
        return principal.clone();
    }

    /** A FORM login in progress: the saved request's stream, empty if none (always empty in version 1). */
    public byte[] savedRequest() {
        return savedRequest.clone();
    }

    /** A FORM login in progress: the saved principal's stream, empty if none (always empty in version 1). */
    public byte[] savedPrincipal() {
        return savedPrincipal.clone();
    }

    /** The transcoder's bytes of the attributes. */
    public byte[] attributes() {
        return attributes.clone();
    }

    /** Reads big-endian fields, each within the data. */
    private static final class Reader {
        private final byte[] data;
        private int pos;

        Reader(byte[] data) {
            this.data = data;
        }

        int position() {
            return pos;
        }

        private void need(int n, String what) {
            if (n < 0 || pos + n > data.length) {
                throw new AnchorFormatException(what + " at offset " + pos + " needs " + n + " bytes, "
                        + (data.length - pos) + " left");
            }
        }

        private long read(int n, String what) {
            need(n, what);
            long v = 0;
            for (int i = 0; i < n; i++) {
                v = (v << 8) | (data[pos++] & 0xff);
            }
            return v;
        }

        int u16() {
            return (int) read(2, "a 16-bit field");
        }

        /** A signed 16-bit length, as the old manager reads it: negative is refused. */
        int length(String what) {
            int n = (short) read(2, what);
            if (n < 0) {
                throw new AnchorFormatException(what + " " + n + " at offset " + (pos - 2));
            }
            return n;
        }

        int i32() {
            return (int) read(4, "a 32-bit field");
        }

        long i64() {
            return read(8, "a 64-bit field");
        }

        boolean flag(String what) {
            int b = (int) read(1, what);
            if (b != '0' && b != '1') {
                throw new AnchorFormatException(what + " is 0x" + Integer.toHexString(b) + ", not '0' or '1'");
            }
            return b == '1';
        }

        byte[] bytes(int n) {
            need(n, "a field of " + n + " bytes");
            byte[] b = Arrays.copyOfRange(data, pos, pos + n);
            pos += n;
            return b;
        }
    }
}
