package io.msm.serializer.java;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * An {@link ObjectOutputStream} kept for the next write: each write ends with {@link ObjectOutputStream#reset()}
 * (every object handle forgotten, so a kept stream references no object it wrote) and the reset's one-byte marker is
 * cut from the next write's output, so a write's bytes are exactly those of a new stream that writes the same
 * objects. Reuse saves the stream's construction, the growth of its handle table and the growth and locking of a
 * {@code ByteArrayOutputStream}: about a fifth of a typical session's serialization (BENCHMARKS.md, "Reused object
 * streams"). A stream whose write failed is not reused, nor one whose buffer grew past {@link #MAX_KEPT_BYTES}.
 */
final class ReusableObjectOutput {
    /** A stream whose output grew larger than this is dropped after use rather than kept with its buffers. */
    static final int MAX_KEPT_BYTES = 64 * 1024;
    private static final int FIRST_BUFFER = 8192;
    private static final byte TC_RESET = 0x79;

    /** What a write puts in the stream. */
    interface Body {
        void writeTo(ObjectOutputStream out) throws IOException;
    }

    private final Bytes bytes = new Bytes();
    private final ObjectOutputStream out;
    /** The stream header's length: every write's bytes start with it. */
    private final int headerLength;
    private boolean failed;

    ReusableObjectOutput() throws IOException {
        out = new ObjectOutputStream(bytes);
        out.flush();
        headerLength = bytes.count;
    }

    /**
     * The stream header and what {@code body} writes; if it throws, this stream must not be used again.
     *
     * @throws IllegalStateException if this stream failed before
     */
    byte[] write(Body body) throws IOException {
        if (failed) {
            throw new IllegalStateException("a stream whose write failed is not reused");
        }
        failed = true; // until this write completes
        bytes.count = headerLength; // after the last write's reset marker: cut
        body.writeTo(out);
        out.flush();
        byte[] written = Arrays.copyOf(bytes.buf, bytes.count);
        int end = bytes.count;
        out.reset(); // now, not at the next write: a kept stream holds no object of the session it wrote
        if (bytes.count != end + 1 || bytes.buf[end] != TC_RESET) {
            throw new IllegalStateException("the stream's reset wrote " + (bytes.count - end) + " bytes");
        }
        failed = false;
        return written;
    }

    /** Whether this stream may serve another write: its last one completed and its buffer is not too large. */
    boolean reusable() {
        return !failed && bytes.buf.length <= MAX_KEPT_BYTES;
    }

    /** A growable byte array, unsynchronized (one thread uses a stream at a time). */
    private static final class Bytes extends OutputStream {
        byte[] buf = new byte[FIRST_BUFFER];
        int count;

        @Override
        public void write(int b) {
            ensure(1);
            buf[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, buf, count, len);
            count += len;
        }

        private void ensure(int more) {
            if (more > buf.length - count) {
                long needed = (long) count + more;
                if (needed > Integer.MAX_VALUE - 8) {
                    throw new OutOfMemoryError("a serialized session over 2 GB");
                }
                buf = Arrays.copyOf(buf, (int) Math.max(needed, Math.min(2L * buf.length, Integer.MAX_VALUE - 8)));
            }
        }
    }
}
