package io.msm.internal;

import java.io.ObjectStreamConstants;

/**
 * The bytes of a Java serialization stream as {@link JavaStreamScan} walks them: big-endian numbers, lengths, block
 * data and class names read as {@link java.io.ObjectInputStream} reads them; running past the end is refused.
 */
final class StreamBytes {
    private final byte[] b;
    private final int end;
    private int pos;

    StreamBytes(byte[] data, int offset, int length) {
        this.b = data;
        this.pos = offset;
        this.end = offset + length;
    }

    /** {@code true} while bytes are left. */
    boolean more() {
        return pos < end;
    }

    /** The next byte, not read. */
    int peek() {
        need(1);
        return b[pos] & 0xFF;
    }

    /** Steps back over the byte just read. */
    void back() {
        pos--;
    }

    /** The 4-byte int {@code offset} bytes ahead, not read. */
    int intAhead(int offset) {
        need(offset + 4L);
        return ((b[pos + offset] & 0xFF) << 24) | ((b[pos + offset + 1] & 0xFF) << 16)
                | ((b[pos + offset + 2] & 0xFF) << 8) | (b[pos + offset + 3] & 0xFF);
    }

    void skipBlockData() {
        int tc = u1();
        skip(tc == ObjectStreamConstants.TC_BLOCKDATA ? u1() : u4len());
    }

    /** A class name as ObjectInputStream decodes it (modified UTF-8, overlong forms accepted). */
    String utf() {
        int length = u2();
        need(length);
        char[] chars = new char[length];
        int n = 0;
        int limit = pos + length;
        while (pos < limit) {
            int c = b[pos++] & 0xFF;
            if (c < 0x80) {
                chars[n++] = (char) c;
            } else if ((c >> 5) == 0x6 && pos < limit) {
                chars[n++] = (char) (((c & 0x1F) << 6) | (b[pos++] & 0x3F));
            } else if ((c >> 4) == 0xE && pos + 1 < limit) {
                chars[n++] = (char) (((c & 0x0F) << 12) | ((b[pos++] & 0x3F) << 6) | (b[pos++] & 0x3F));
            } else {
                throw bad("malformed modified UTF-8");
            }
        }
        return new String(chars, 0, n);
    }

    int u1() {
        need(1);
        return b[pos++] & 0xFF;
    }

    int u2() {
        need(2);
        int v = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
        pos += 2;
        return v;
    }

    int u4() {
        need(4);
        int v = ((b[pos] & 0xFF) << 24) | ((b[pos + 1] & 0xFF) << 16) | ((b[pos + 2] & 0xFF) << 8)
                | (b[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    int u4len() {
        int v = u4();
        if (v < 0) {
            throw bad("negative length");
        }
        return v;
    }

    long u8() {
        long v = ((long) u4() << 32) | (u4() & 0xFFFFFFFFL);
        if (v < 0) {
            throw bad("negative length");
        }
        return v;
    }

    void skip(long n) {
        need(n);
        pos += (int) n;
    }

    private void need(long n) {
        if (n > end - pos) {
            throw bad("truncated");
        }
    }

    /** The refusal of a stream the walk cannot check, saying {@code why}. */
    static RefusedInputException bad(String why) {
        return new RefusedInputException("refused: the serialization stream cannot be checked before it is read ("
                + why + ")");
    }
}
