package io.msm.store;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Blocking connections to one memcached node for the calls a request waits for (text protocol): the calling thread
 * writes the command and reads the answer itself. spymemcached hands every operation to its I/O thread and the answer
 * back (a selector wake-up and two thread switches per call). Measured by msm-benchmarks' StoreCallBenchmark (4
 * threads, set + meta get of 2 KB, one memcached on loopback, 2 cores): 12 µs of CPU per call here, 22 µs through
 * spymemcached, 1.7x the calls per second.
 *
 * <p>Every read waits at most until the call's deadline, however the answer trickles in (a socket's own timeout
 * applies to one read at a time); keys travel in UTF-8, as spymemcached sends them.
 *
 * <p>Idle connections are pooled (at most {@link #MAX_IDLE}). A connection that timed out, failed or answered
 * something unexpected is closed, never reused, so a late answer cannot be read as the next call's. A call on a
 * pooled connection that fails before any answer arrived (memcached restarted since) is retried once on a new one:
 * both commands used here are idempotent.
 */
final class DirectConnections implements AutoCloseable {
    static final int MAX_IDLE = 32;
    private static final int BUFFER = 16 * 1024;
    /** Writes up to this size are not guarded: see {@link Conn#writeValue}. */
    private static final int UNGUARDED_WRITE = 8 * 1024;
    private static final byte[] CRLF = {'\r', '\n'};

    private final InetSocketAddress address;
    private final WriteDeadline writeDeadline;
    private final ConcurrentLinkedDeque<Conn> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger idleCount = new AtomicInteger();
    private volatile boolean closed;

    DirectConnections(InetSocketAddress address, WriteDeadline writeDeadline) {
        this.address = address;
        this.writeDeadline = writeDeadline;
    }

    /** A memcached answer this client does not expect; the connection is closed. */
    static final class ProtocolException extends IOException {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }
    }

    /** One exchange on a connection: write the command, read the answer. */
    interface Exchange<T> {
        T run(Conn c) throws IOException;
    }

    /** A blocking connection with buffered streams. */
    static final class Conn {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        private final WriteDeadline writeDeadline;
        /** Larger writes may block (see {@link #writeValue}). */
        private final int unguardedWrite;
        /** Whether any byte of the current answer was read (then a failure is not retried). */
        boolean answered;
        /**
         * Opened because a pooled connection was found closed: memcached may have restarted (empty) since, so a miss
         * on this connection does not show that the key was never there.
         */
        boolean replacesClosed;
        /** When the current exchange must end ({@link System#nanoTime()}). */
        long deadline;

        Conn(Socket socket, WriteDeadline writeDeadline) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(new DeadlineInput(socket.getInputStream()), BUFFER);
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
            WriteDeadline.Guard guard = writeDeadline.guard(socket, deadline);
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

        /** A command line (its CRLF included): UTF-8, the encoding spymemcached gives keys, so a key is one key. */
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

        /** The socket's input: a read waits at most until the exchange's deadline, not a whole timeout per read. */
        private final class DeadlineInput extends FilterInputStream {
            DeadlineInput(InputStream in) {
                super(in);
            }

            @Override
            public int read() throws IOException {
                socket.setSoTimeout(remainingMillis(deadline));
                return super.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                socket.setSoTimeout(remainingMillis(deadline));
                return super.read(b, off, len);
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    /**
     * Runs one exchange within {@code timeoutMillis} (connecting included).
     *
     * @throws SocketTimeoutException memcached did not answer in time
     * @throws IOException the connection failed or memcached answered something unexpected
     */
    <T> T call(long timeoutMillis, Exchange<T> exchange) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Conn c = pooled();
        if (c != null) {
            try {
                return run(c, deadline, exchange);
            } catch (IOException e) {
                if (!closedBeforeAnswering(c, e)) {
                    throw e;
                }
            }
            Conn fresh = open(deadline);
            fresh.replacesClosed = true;
            return run(fresh, deadline, exchange);
        }
        return run(open(deadline), deadline, exchange);
    }

    private Conn pooled() {
        Conn c = idle.pollFirst();
        if (c != null) {
            idleCount.decrementAndGet();
        }
        return c;
    }

    /**
     * A pooled connection memcached closed meanwhile (restart, idle timeout) fails before any answer: the call is
     * made once more on a new connection. A timeout, an unexpected answer or a failure mid-answer is not retried.
     */
    private static boolean closedBeforeAnswering(Conn c, IOException e) {
        return !(e instanceof SocketTimeoutException) && !(e instanceof ProtocolException) && !c.answered;
    }

    /** A command written on a connection whose answer is read later by {@link #receive}. */
    static final class Sent {
        final Conn conn;
        final boolean pooled;
        final Exchange<Void> command;

        Sent(Conn conn, boolean pooled, Exchange<Void> command) {
            this.conn = conn;
            this.pooled = pooled;
            this.command = command;
        }
    }

    /**
     * Writes {@code command} (within {@code timeoutMillis}) without reading its answer, so that one thread can have
     * commands on several nodes under way at once. The caller then calls {@link #receive} or {@link #abandon}.
     */
    Sent send(long timeoutMillis, Exchange<Void> command) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Conn c = pooled();
        if (c != null) {
            try {
                ready(c, deadline);
                command.run(c);
                return new Sent(c, true, command);
            } catch (SocketTimeoutException e) {
                c.close();
                throw e;
            } catch (IOException e) {
                c.close(); // memcached closed it meanwhile: a new one below
            }
        }
        c = open(deadline);
        try {
            ready(c, deadline);
            command.run(c);
            return new Sent(c, false, command);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * Reads the answer of a {@link #send} within {@code timeoutMillis} from now. If a pooled connection turns out
     * closed before any answer came, the command is sent once more on a new connection (the commands sent this way
     * are idempotent).
     */
    <T> T receive(Sent sent, long timeoutMillis, Exchange<T> answer) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        try {
            return run(sent.conn, deadline, answer);
        } catch (IOException e) {
            if (!sent.pooled || !closedBeforeAnswering(sent.conn, e)) {
                throw e;
            }
        }
        return run(open(deadline), deadline, c -> {
            sent.command.run(c);
            return answer.run(c);
        });
    }

    /** Gives up the answer of a {@link #send}: its connection is closed. */
    void abandon(Sent sent) {
        sent.conn.close();
    }

    /** Runs {@code exchange}; the connection goes back to the pool if it succeeded, is closed otherwise. */
    private <T> T run(Conn c, long deadline, Exchange<T> exchange) throws IOException {
        boolean reusable = false;
        try {
            ready(c, deadline);
            T result = exchange.run(c);
            reusable = true;
            return result;
        } finally {
            c.replacesClosed = false; // the next call on it finds it open
            if (reusable) {
                release(c);
            } else {
                c.close();
            }
        }
    }

    /** Starts an exchange on {@code c}: the time left as its read timeout, no answer read yet. */
    private static void ready(Conn c, long deadline) throws IOException {
        c.socket.setSoTimeout(remainingMillis(deadline));
        c.answered = false;
        c.deadline = deadline;
    }

    private Conn open(long deadline) throws IOException {
        if (closed) {
            throw new IOException("the store is closed");
        }
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(address, remainingMillis(deadline));
            return new Conn(s, writeDeadline);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void release(Conn c) {
        if (closed || idleCount.incrementAndGet() > MAX_IDLE) {
            idleCount.decrementAndGet();
            c.close();
            return;
        }
        idle.addFirst(c); // most recently used first: the rest may idle out
    }

    private static int remainingMillis(long deadline) throws SocketTimeoutException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            throw new SocketTimeoutException("no time left");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    /** Closes the idle connections (the busy ones close when their call ends). */
    @Override
    public void close() {
        closed = true;
        Conn c;
        while ((c = idle.pollFirst()) != null) {
            idleCount.decrementAndGet();
            c.close();
        }
    }
}
