package io.msm.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

/**
 * The TCP socket of a memcached connection, whose every read waits at most until {@link #deadline}: a socket's own
 * timeout applies to one read at a time, so an answer (or a TLS record) trickled in byte by byte would otherwise
 * stretch an exchange far past its timeout. TLS reads through this socket's input too (an {@code SSLSocket} layered
 * over it reads its records from {@link #getInputStream()}), so one deadline bounds a handshake and every exchange,
 * encrypted or not.
 */
final class DeadlineSocket extends Socket {
    /** When the current exchange (or wait) must end ({@link System#nanoTime()}). */
    volatile long deadline = System.nanoTime(); // no time: set before the first read
    private InputStream in;
    /** The first bytes read from the peer (to tell a plain-text answer to a TLS handshake, {@link #firstBytes}). */
    private final byte[] first = new byte[48];
    private int firstCount;

    @Override
    public synchronized InputStream getInputStream() throws IOException {
        if (in == null) {
            in = new DeadlineInput(super.getInputStream());
        }
        return in;
    }

    private final class DeadlineInput extends FilterInputStream {
        DeadlineInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            setSoTimeout(DirectConnections.remainingMillis(deadline));
            int b = super.read();
            if (b >= 0 && firstCount < first.length) {
                first[firstCount++] = (byte) b;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            setSoTimeout(DirectConnections.remainingMillis(deadline));
            int n = super.read(b, off, len);
            if (n > 0 && firstCount < first.length) {
                int copy = Math.min(n, first.length - firstCount);
                System.arraycopy(b, off, first, firstCount, copy);
                firstCount += copy;
            }
            return n;
        }
    }

    /** Up to the first 48 bytes the peer sent (read by the reader thread; asked by the same thread). */
    byte[] firstBytes() {
        return java.util.Arrays.copyOf(first, firstCount);
    }
}
