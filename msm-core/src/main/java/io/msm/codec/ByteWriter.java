package io.msm.codec;

/** Big-endian fields into an array of the size worked out beforehand. */
class ByteWriter {
    final byte[] buf;
    int pos;

    ByteWriter(int size) {
        buf = new byte[size];
    }

    final void u8(int v) {
        buf[pos++] = (byte) v;
    }

    final void i16(int v) {
        buf[pos++] = (byte) (v >>> 8);
        buf[pos++] = (byte) v;
    }

    final void i32(int v) {
        buf[pos++] = (byte) (v >>> 24);
        buf[pos++] = (byte) (v >>> 16);
        buf[pos++] = (byte) (v >>> 8);
        buf[pos++] = (byte) v;
    }

    final void i64(long v) {
        i32((int) (v >>> 32));
        i32((int) v);
    }
}
