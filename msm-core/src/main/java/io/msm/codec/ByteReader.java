package io.msm.codec;

/** Big-endian fields out of untrusted bytes: each read first checks that the bytes are there. */
class ByteReader {
    final byte[] buf;
    int pos;

    ByteReader(byte[] buf) {
        this.buf = buf;
    }

    final int remaining() {
        return buf.length - pos;
    }

    /** @throws UnreadableBlobException if fewer than {@code n} bytes are left */
    final void need(int n, String what) {
        if (n > remaining()) {
            throw new UnreadableBlobException("truncated: " + what + " needs " + n + " bytes, " + remaining()
                    + " left at offset " + pos);
        }
    }

    final int u8() {
        need(1, "a byte");
        return buf[pos++] & 0xFF;
    }

    final int i16() {
        need(2, "a short");
        int v = ((buf[pos] & 0xFF) << 8) | (buf[pos + 1] & 0xFF);
        pos += 2;
        return v;
    }

    final int i32() {
        need(4, "an int");
        int v = ((buf[pos] & 0xFF) << 24) | ((buf[pos + 1] & 0xFF) << 16) | ((buf[pos + 2] & 0xFF) << 8)
                | (buf[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    final long i64() {
        return ((long) i32() << 32) | (i32() & 0xFFFFFFFFL);
    }
}
