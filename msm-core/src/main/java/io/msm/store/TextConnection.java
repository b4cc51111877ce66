package io.msm.store;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A blocking connection to memcached with buffered streams, one exchange at a time ({@link DirectConnections}): over
 * its TCP socket ({@link #transport}), or over TLS layered on it ({@link #socket}).
 */
final class TextConnection {
    private static final int BUFFER = 16 * 1024;
    /** Writes up to this size are not guarded: see {@link #writeValue}. */
    private static final int UNGUARDED_WRITE = 8 * 1024;
    private static final byte[] CRLF = {'\r', '\n'};

    /** The TCP socket: its reads wait until the exchange's deadline; closing it ends the connection at once. */
    final DeadlineSocket transport;
    /** What commands are written to and answers read from: {@link #transport}, or TLS over it. */
    final Socket socket;
    final InputStream in;
    final OutputStream out;
    private final WriteDeadline writeDeadline;
    /** Larger writes may block (see {@link #writeValue}). */
    private final int unguardedWrite;
    /** Whether any byte of the current answer was read (then a failure is not retried). */
    boolean answered;
    /**
     * The current exchange is the first since memcached was found to have closed a connection of this pool: it
     * may have restarted (empty) since, so a miss now does not show that the key was never there.
     */
    boolean replacesClosed;
    /**
     * A TLS connection nothing was answered on yet: under TLS 1.3 memcached refuses a client certificate only after
     * the handshake returned here, on the first exchange ({@link DirectConnections#firstAnswer}).
     */
    boolean unconfirmed;
    /** Run once when this connection closes. */
    private final Runnable onClose;
    private final AtomicBoolean open = new AtomicBoolean(true);

    TextConnection(DeadlineSocket transport, Socket socket, WriteDeadline writeDeadline, Runnable onClose)
            throws IOException {
        this.transport = transport;
        this.socket = socket;
        this.onClose = onClose;
        this.in = new BufferedInputStream(socket.getInputStream(), BUFFER);
        this.out = new BufferedOutputStream(socket.getOutputStream(), BUFFER);
        this.writeDeadline = writeDeadline;
        this.unguardedWrite = Math.min(UNGUARDED_WRITE, socket.getSendBufferSize() / 2);
    }

    /**
     * Writes {@code value}, the CRLF after it, and flushes, within the exchange's deadline. A connection is only
     * written to once memcached answered everything sent on it before, so a write that fits in half the socket's
     * send buffer is taken by the kernel at once; a larger one blocks while memcached does not read (socket
     * writes have no timeout), so it is guarded: at the deadline the socket is closed, which ends the write.
     *
     * @throws SocketTimeoutException the deadline passed (the connection is closed)
     */
    void writeValue(byte[] value) throws IOException {
        if (value.length <= unguardedWrite) {
            out.write(value);
            out.write(CRLF);
            out.flush();
            return;
        }
        WriteDeadline.Guard guard = writeDeadline.guard(transport, transport.deadline);
        try {
            out.write(value);
            out.write(CRLF);
            out.flush();
        } catch (IOException e) {
            if (!guard.end()) {
                throw timedOutWriting(value.length);
            }
            throw e;
        }
        if (!guard.end()) {
            throw timedOutWriting(value.length);
        }
    }

    private static SocketTimeoutException timedOutWriting(int size) {
        return new SocketTimeoutException("memcached did not take a value of " + size + " bytes in time");
    }

    /** A command line (its CRLF included), in UTF-8: the one encoding of keys on every path. */
    void writeCommand(String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A line of the answer without its CRLF; at most 1 KB. */
    String readLine() throws IOException {
        StringBuilder sb = new StringBuilder(32);
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("memcached closed the connection");
            }
            answered = true;
            if (b == '\n') {
                int len = sb.length();
                return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
            }
            if (sb.length() >= 1024) {
                throw new ProtocolException("answer line longer than 1 KB");
            }
            sb.append((char) b);
        }
    }

    /** {@code size} bytes of data and the CRLF after them. */
    byte[] readData(int size) throws IOException {
        byte[] data = in.readNBytes(size);
        if (data.length < size || in.read() != '\r' || in.read() != '\n') {
            throw new EOFException("memcached closed the connection within a value");
        }
        return data;
    }

    /** When the current exchange must end ({@link System#nanoTime()}): every read and guarded write ends by then. */
    void deadline(long deadline) {
        transport.deadline = deadline;
    }

    /**
     * Closes the TCP socket (never through TLS: an {@code SSLSocket}'s close waits for a write blocked on a peer that
     * does not read, to send its close_notify after it; memcached needs none).
     */
    void close() {
        if (open.compareAndSet(true, false)) {
            onClose.run();
        }
        try {
            transport.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
