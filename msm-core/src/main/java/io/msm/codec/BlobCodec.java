package io.msm.codec;

import io.msm.internal.XxHash64;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The stored form of a session (format version 1). Big-endian:
 * <pre>
 *   magic "MSMB" (4) | version u8 (=1) | flags u8 (bit0 signed, bit1 encrypted, bit2 compressed; none yet)
 *   creationTime i64 | lastAccessedTime i64 | thisAccessedTime i64 | state u8 (bit0 new, bit1 valid)
 *   --- content: everything below is covered by {@link #contentHash(byte[])} ---
 *   maxInactiveInterval i32 | id str | authType str | principal bytes
 *   noteCount i32 | noteCount x (name str, value bytes)
 *   attributes bytes
 * </pre>
 * {@code str} and {@code bytes} are an i32 length ({@code -1} = null) followed by UTF-8 or raw bytes. Every length is
 * bounds-checked against the remaining input, and the blob must end exactly after the attributes. The header holds
 * what changes on every request (times, the new flag), so {@link #contentHash(byte[])} changes only when the session
 * really changed.
 */
public final class BlobCodec {
    static final byte[] MAGIC = {'M', 'S', 'M', 'B'};
    static final int VERSION = 1;
    /** Offset of the content section: magic + version + flags + 3 times + state. */
    static final int CONTENT_OFFSET = 4 + 1 + 1 + 8 * 3 + 1;
    private static final int KNOWN_FLAGS = 0;
    private static final int STATE_NEW = 1;
    private static final int STATE_VALID = 2;

    private BlobCodec() {
    }

    public static byte[] encode(SessionData s) {
        byte[] id = utf8(s.id());
        byte[] authType = utf8(s.authType());
        int size = CONTENT_OFFSET + 4 + lenField(id) + lenField(authType) + lenField(s.principal()) + 4;
        byte[][] noteNames = new byte[s.notes().size()][];
        int i = 0;
        for (var e : s.notes().entrySet()) {
            noteNames[i] = utf8(e.getKey());
            size += lenField(noteNames[i]) + lenField(e.getValue());
            i++;
        }
        size += lenField(s.attributes());
        Writer w = new Writer(size);
        w.bytes(MAGIC);
        w.u8(VERSION);
        w.u8(0);
        w.i64(s.creationTime());
        w.i64(s.lastAccessedTime());
        w.i64(s.thisAccessedTime());
        w.u8((s.isNew() ? STATE_NEW : 0) | (s.isValid() ? STATE_VALID : 0));
        w.i32(s.maxInactiveInterval());
        w.field(id);
        w.field(authType);
        w.field(s.principal());
        w.i32(s.notes().size());
        i = 0;
        for (var e : s.notes().entrySet()) {
            w.field(noteNames[i++]);
            w.field(e.getValue());
        }
        w.field(s.attributes());
        if (w.pos != size) {
            throw new IllegalStateException("encoded " + w.pos + " bytes, expected " + size);
        }
        return w.buf;
    }

    /**
     * Reads a blob.
     *
     * @throws UnreadableBlobException saying what is wrong (never any other exception)
     */
    public static SessionData decode(byte[] blob) {
        if (blob == null) {
            throw new UnreadableBlobException("no data");
        }
        Reader r = new Reader(blob);
        if (blob.length < CONTENT_OFFSET || !Arrays.equals(blob, 0, 4, MAGIC, 0, 4)) {
            throw new UnreadableBlobException(blob.length < CONTENT_OFFSET
                    ? "too short for an msm session (" + blob.length + " bytes)"
                    : "not an msm session blob (bad magic bytes)");
        }
        r.pos = 4;
        int version = r.u8();
        if (version != VERSION) {
            throw new UnreadableBlobException("unsupported format version " + version + " (this msm reads " + VERSION + ")");
        }
        int flags = r.u8();
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new UnreadableBlobException("unsupported flags 0x" + Integer.toHexString(flags)
                    + " (signed/encrypted/compressed blobs need a manager configured for them)");
        }
        SessionData.Builder b = SessionData.builder("");
        b.creationTime(r.i64()).lastAccessedTime(r.i64()).thisAccessedTime(r.i64());
        int state = r.u8();
        b.isNew((state & STATE_NEW) != 0).isValid((state & STATE_VALID) != 0);
        b.maxInactiveInterval(r.i32());
        String id = r.string("id");
        if (id == null || id.isEmpty()) {
            throw new UnreadableBlobException("session id missing");
        }
        b.id(id);
        b.authType(r.string("authType"));
        b.principal(r.field("principal"));
        int notes = r.i32();
        if (notes < 0 || notes > r.remaining() / 8) {
            throw new UnreadableBlobException("bad note count " + notes);
        }
        for (int i = 0; i < notes; i++) {
            String name = r.string("note name");
            byte[] value = r.field("note value");
            if (name == null || value == null) {
                throw new UnreadableBlobException("note " + i + " has a null name or value");
            }
            b.note(name, value);
        }
        byte[] attributes = r.field("attributes");
        b.attributes(attributes == null ? new byte[0] : attributes);
        if (r.remaining() != 0) {
            throw new UnreadableBlobException(r.remaining() + " unexpected bytes after the attributes");
        }
        return b.build();
    }

    /**
     * A 64-bit hash of the content section of an encoded blob: equal hashes mean the stored session needs no rewrite.
     */
    public static long contentHash(byte[] blob) {
        return XxHash64.hash(blob, CONTENT_OFFSET, blob.length - CONTENT_OFFSET, 0);
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private static int lenField(byte[] b) {
        return 4 + (b == null ? 0 : b.length);
    }

    private static final class Writer {
        final byte[] buf;
        int pos;

        Writer(int size) {
            buf = new byte[size];
        }

        void u8(int v) {
            buf[pos++] = (byte) v;
        }

        void i32(int v) {
            buf[pos++] = (byte) (v >>> 24);
            buf[pos++] = (byte) (v >>> 16);
            buf[pos++] = (byte) (v >>> 8);
            buf[pos++] = (byte) v;
        }

        void i64(long v) {
            i32((int) (v >>> 32));
            i32((int) v);
        }

        void bytes(byte[] b) {
            System.arraycopy(b, 0, buf, pos, b.length);
            pos += b.length;
        }

        void field(byte[] b) {
            if (b == null) {
                i32(-1);
            } else {
                i32(b.length);
                bytes(b);
            }
        }
    }

    private static final class Reader {
        final byte[] buf;
        int pos;

        Reader(byte[] buf) {
            this.buf = buf;
        }

        int remaining() {
            return buf.length - pos;
        }

        private void need(int n, String what) {
            if (n > remaining()) {
                throw new UnreadableBlobException("truncated: " + what + " needs " + n + " bytes, " + remaining()
                        + " left at offset " + pos);
            }
        }

        int u8() {
            need(1, "a byte");
            return buf[pos++] & 0xFF;
        }

        int i32() {
            need(4, "an int");
            int v = ((buf[pos] & 0xFF) << 24) | ((buf[pos + 1] & 0xFF) << 16) | ((buf[pos + 2] & 0xFF) << 8)
                    | (buf[pos + 3] & 0xFF);
            pos += 4;
            return v;
        }

        long i64() {
            return ((long) i32() << 32) | (i32() & 0xFFFFFFFFL);
        }

        byte[] field(String what) {
            int len = i32();
            if (len == -1) {
                return null;
            }
            if (len < 0) {
                throw new UnreadableBlobException("negative length " + len + " of " + what);
            }
            need(len, what);
            byte[] b = Arrays.copyOfRange(buf, pos, pos + len);
            pos += len;
            return b;
        }

        String string(String what) {
            byte[] b = field(what);
            return b == null ? null : new String(b, StandardCharsets.UTF_8);
        }
    }
}
