package io.msm.codec;

import io.msm.internal.XxHash64;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The stored form of a session. Big-endian:
 * <pre>
 *   magic "MSMB" (4) | version u8 (1, 2 or 3) | flags u8 (bit0 signed, bit1 encrypted, bit2 compressed; none yet)
 *   creationTime i64 | lastAccessedTime i64 | thisAccessedTime i64 | state u8 (bit0 new, bit1 valid)
 *   --- content: everything below is covered by {@link #contentHash(byte[])} ---
 *   maxInactiveInterval i32 | id str | authType str | principal bytes
 *   noteCount i32 | noteCount x (name str, value bytes)
 *   version 1: attributes bytes
 *   version 2: chunkCount i32 (at least 1) | chunkCount x (name str | chunk bytes)
 *   version 3: chunkCount i32 (at least 1) | plainChunk i32 | chunkCount x (name str | chunk bytes)
 * </pre>
 * A session written whole is written as version 1. Version 2 holds attributes in chunks:
 * each chunk is the transcoder's bytes of some of them, with the name of the attribute if it holds exactly that one
 * ({@code null} if it holds any number). Version 3 is version 2 with one chunk, at index {@code plainChunk}, in msm's
 * own form ({@link PlainValues}) instead of the transcoder's; it is written only when there is such a chunk.
 * {@code str} and {@code bytes} are an i32 length ({@code -1} = null) followed by UTF-8 or raw bytes. Every length is
 * bounds-checked against the remaining input, and the blob must end exactly after the attributes. The header holds
 * what changes on every request (times, the new flag), so {@link #contentHash(byte[])} changes only when the session
 * really changed.
 */
public final class BlobCodec {
    static final byte[] MAGIC = {'M', 'S', 'M', 'B'};
    static final int VERSION = 1;
    static final int VERSION_CHUNKED = 2;
    static final int VERSION_PLAIN = 3;
    /** The most chunks a blob may claim: more than any session has attributes worth a chunk of their own. */
    static final int MAX_CHUNKS = 65_536;
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
        Map<String, byte[]> notes = s.notesAsBuilt(); // iterated without the unmodifiable view's entry objects
        byte[][] noteNames = new byte[notes.size()][];
        byte[][] noteValues = new byte[notes.size()][];
        int i = 0;
        for (Map.Entry<String, byte[]> e : notes.entrySet()) {
            noteNames[i] = utf8(e.getKey());
            noteValues[i] = e.getValue();
            size += lenField(noteNames[i]) + lenField(noteValues[i]);
            i++;
        }
        List<byte[]> chunks = s.attributeChunks();
        List<String> names = s.attributeChunkNames();
        boolean chunked = s.isChunked();
        byte[][] nameBytes = new byte[chunks.size()][];
        boolean plain = s.plainChunk() >= 0;
        size += chunked ? (plain ? 8 : 4) : 0;
        for (int c = 0; c < chunks.size(); c++) {
            if (chunked) {
                nameBytes[c] = utf8(names.get(c));
                size += lenField(nameBytes[c]);
            }
            size += lenField(chunks.get(c));
        }
        Writer w = new Writer(size);
        w.bytes(MAGIC);
        w.u8(!chunked ? VERSION : plain ? VERSION_PLAIN : VERSION_CHUNKED);
        w.u8(0);
        w.i64(s.creationTime());
        w.i64(s.lastAccessedTime());
        w.i64(s.thisAccessedTime());
        w.u8((s.isNew() ? STATE_NEW : 0) | (s.isValid() ? STATE_VALID : 0));
        w.i32(s.maxInactiveInterval());
        w.field(id);
        w.field(authType);
        w.field(s.principal());
        w.i32(noteNames.length);
        for (i = 0; i < noteNames.length; i++) {
            w.field(noteNames[i]);
            w.field(noteValues[i]);
        }
        if (chunked) {
            w.i32(chunks.size());
        }
        if (plain) {
            w.i32(s.plainChunk());
        }
        for (int c = 0; c < chunks.size(); c++) {
            if (chunked) {
                w.field(nameBytes[c]);
            }
            w.field(chunks.get(c));
        }
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
        int version = header(r);
        SessionData.Builder b = SessionData.builder("");
        b.times(r.i64(), r.i64(), r.i64());
        int state = r.u8();
        b.state((state & STATE_NEW) != 0, (state & STATE_VALID) != 0);
        b.maxInactiveInterval(r.i32());
        String id = r.string("id");
        if (id == null || id.isEmpty()) {
            throw new UnreadableBlobException("session id missing");
        }
        b.id(id);
        b.authType(r.string("authType"));
        b.principal(r.field("principal"));
        readNotes(r, b);
        if (version == VERSION) {
            byte[] attributes = r.field("attributes");
            b.attributes(attributes == null ? new byte[0] : attributes);
        } else {
            readChunks(r, b, version == VERSION_PLAIN);
        }
        if (r.remaining() != 0) {
            throw new UnreadableBlobException(r.remaining() + " unexpected bytes after the attributes");
        }
        return b.build();
    }

    /** Checks the magic bytes, version and flags; returns the version, {@code r} just after the flags. */
    private static int header(Reader r) {
        byte[] blob = r.buf;
        if (blob.length < CONTENT_OFFSET || !Arrays.equals(blob, 0, 4, MAGIC, 0, 4)) {
            throw new UnreadableBlobException(blob.length < CONTENT_OFFSET
                    ? "too short for an msm session (" + blob.length + " bytes)"
                    : "not an msm session blob (bad magic bytes)");
        }
        r.pos = 4;
        int version = r.u8();
        if (version != VERSION && version != VERSION_CHUNKED && version != VERSION_PLAIN) {
            throw new UnreadableBlobException("unsupported format version " + version + " (this msm reads " + VERSION
                    + " to " + VERSION_PLAIN + ")");
        }
        int flags = r.u8();
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new UnreadableBlobException("unsupported flags 0x" + Integer.toHexString(flags)
                    + " (signed/encrypted/compressed blobs need a manager configured for them)");
        }
        return version;
    }

    /** The session's notes: a count, then a name and a value each. */
    private static void readNotes(Reader r, SessionData.Builder b) {
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
    }

    /**
     * The attributes of a chunked blob (version {@link #VERSION_CHUNKED} or {@link #VERSION_PLAIN}): a count, the plain
     * chunk's index (version 3), then a name and bytes each.
     */
    private static void readChunks(Reader r, SessionData.Builder b, boolean withPlain) {
        int count = r.i32();
        if (count < 1 || count > MAX_CHUNKS || count > r.remaining() / 8) {
            throw new UnreadableBlobException("bad attribute chunk count " + count);
        }
        int plain = withPlain ? r.i32() : -1;
        if (withPlain && (plain < 0 || plain >= count)) {
            throw new UnreadableBlobException("bad plain chunk " + plain + " of " + count);
        }
        List<byte[]> chunks = new ArrayList<>(count);
        List<String> names = new ArrayList<>(count);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < count; i++) {
            String name = r.string("attribute chunk name");
            if (name != null && !seen.add(name)) {
                throw new UnreadableBlobException("two attribute chunks named " + name);
            }
            byte[] c = r.field("attribute chunk " + i);
            if (c == null) {
                throw new UnreadableBlobException("attribute chunk " + i + " is null");
            }
            if (i == plain && name != null) {
                throw new UnreadableBlobException("the plain chunk is named " + name);
            }
            names.add(name);
            chunks.add(c);
        }
        b.attributeChunks(chunks, names, plain);
    }

    /**
     * The hash of a blob's attribute bytes alone: each chunk's bytes in turn, every chunk's hash the seed of the next
     * (a blob written whole has one chunk; absent attributes are an empty one). Reads the blob in place.
     *
     * @throws UnreadableBlobException if {@code blob} is not a blob {@link #encode} wrote
     */
    public static long attributesHash(byte[] blob) {
        Reader r = new Reader(blob);
        int version = header(r);
        boolean chunked = version != VERSION;
        r.pos = CONTENT_OFFSET;
        r.i32(); // maxInactiveInterval
        r.skip("id");
        r.skip("authType");
        r.skip("principal");
        int notes = r.count("note");
        for (int i = 0; i < notes; i++) {
            r.skip("note name");
            r.skip("note value");
        }
        int chunks = chunked ? r.count("attribute chunk") : 1;
        if (version == VERSION_PLAIN) {
            r.i32(); // the plain chunk: hashed as any other
        }
        long hash = 0;
        for (int i = 0; i < chunks; i++) {
            if (chunked) {
                r.skip("attribute chunk name");
            }
            int len = r.i32();
            len = len == -1 && !chunked ? 0 : len; // no attributes: hashed as an empty chunk, as decode reads them
            if (len < 0) {
                throw new UnreadableBlobException("bad length " + len + " of attribute chunk " + i);
            }
            r.need(len, "attribute chunk " + i);
            hash = XxHash64.hash(blob, r.pos, len, hash);
            r.pos += len;
        }
        if (r.remaining() != 0) {
            throw new UnreadableBlobException(r.remaining() + " unexpected bytes after the attributes");
        }
        return hash;
    }

    /**
     * A hash of the whole blob, times included: it tells one stored copy from another even when the session did not
     * change between them (takeover notices name copies by it).
     */
    public static long copyHash(byte[] blob) {
        return XxHash64.hash(blob, 0, blob.length, 0);
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

    private static final class Writer extends ByteWriter {
        Writer(int size) {
            super(size);
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

    private static final class Reader extends ByteReader {
        Reader(byte[] buf) {
            super(buf);
        }

        /** Passes over a {@code str} or {@code bytes} field. */
        void skip(String what) {
            int len = i32();
            if (len < -1) {
                throw new UnreadableBlobException("negative length " + len + " of " + what);
            }
            if (len > 0) {
                need(len, what);
                pos += len;
            }
        }

        /** A count of fields that follow, each at least 4 bytes. */
        int count(String what) {
            int n = i32();
            if (n < 0 || n > remaining() / 4) {
                throw new UnreadableBlobException("bad " + what + " count " + n);
            }
            return n;
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
