package io.msm.test.memcached;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for an AWS ElastiCache (or Google Memorystore) configuration endpoint on a free 127.0.0.1 port, for
 * tests of auto discovery. It answers {@code config get cluster} (and {@code get AmazonElastiCache:cluster}, as
 * engines before 1.4.14 do) with the node list the test sets ({@link #nodes}), framed as AWS documents it: {@code
 * CONFIG cluster 0 <bytes>\r\n<version>\n<nodes>\n\r\nEND\r\n}, the version raised by every change. {@link #answerRaw}
 * answers bytes of the test's choosing instead, {@link #answerNothing} nothing at all. {@code version} is answered as
 * memcached does, {@code quit} closes the connection, anything else is {@code ERROR}.
 *
 * <p>Several connections are served at once, each on its own thread. {@link #stop} closes the port and every
 * connection and ends every thread; {@link #restart} listens on the same port again: the endpoint goes away and
 * returns. {@link #questions} counts the configuration questions asked.
 */
public final class ConfigEndpointServer implements AutoCloseable {
    /** The longest command line read; memcached's own limit is 2048. */
    private static final int MAX_LINE = 2048;
    private static final long JOIN_MILLIS = 5000;

    /** What to answer to a configuration question; replaced whole, never changed. */
    private static final class Answer {
        final byte[] config;
        final byte[] legacy;
        /** Close the connection after answering (raw bytes). */
        final boolean thenClose;
        /** Answer nothing at all. */
        final boolean silent;

        Answer(byte[] config, byte[] legacy, boolean thenClose, boolean silent) {
            this.config = config;
            this.legacy = legacy;
            this.thenClose = thenClose;
            this.silent = silent;
        }
    }

    private final int port;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicInteger questions = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile Answer answer;
    private volatile ServerSocket listener;
    private long version;

    private ConfigEndpointServer() throws IOException {
        byte[] none = "SERVER_ERROR no node list set by the test\r\n".getBytes(StandardCharsets.US_ASCII);
        this.answer = new Answer(none, none, false, false);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.port = listener.getLocalPort();
        listen(listener);
    }

    /** An endpoint listening on a free 127.0.0.1 port; it has no node list until {@link #nodes} sets one. */
    public static ConfigEndpointServer start() {
        try {
            return new ConfigEndpointServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    /**
     * From now on answers these nodes, each {@code hostname|ip|port} as written (not checked: a test may set a list
     * a client must refuse), under the next version.
     *
     * @return the new version: 1 for the first list, one more for each later one
     */
    public synchronized long nodes(String... nodes) {
        version++;
        answer = new Answer(reply("CONFIG cluster", version, nodes), reply("VALUE AmazonElastiCache:cluster", version,
                nodes), false, false);
        return version;
    }

    /** {@link #nodes} with {@code localhost|127.0.0.1|<port>} for each port (memcached servers of the test). */
    public long nodesAt(int... ports) {
        String[] nodes = new String[ports.length];
        for (int i = 0; i < ports.length; i++) {
            nodes[i] = "localhost|127.0.0.1|" + ports[i];
        }
        return nodes(nodes);
    }

    /** The version of the node list last set (0 before the first). */
    public synchronized long version() {
        return version;
    }

    /**
     * From now on answers a configuration question with exactly {@code bytes}, then closes that connection, as a
     * broken endpoint might: a client reading a cut answer sees its end rather than waiting for its timeout.
     */
    public void answerRaw(byte[] bytes) {
        byte[] copy = bytes.clone();
        answer = new Answer(copy, copy, true, false);
    }

    /** From now on reads every command and answers none: an endpoint that hangs, for clients' timeouts. */
    public void answerNothing() {
        answer = new Answer(new byte[0], new byte[0], false, true);
    }

    /** The configuration questions asked so far, on any connection ({@code config get cluster} and the legacy get). */
    public int questions() {
        return questions.get();
    }

    /** The connections accepted so far. */
    public int connections() {
        return accepted.get();
    }

    /**
     * The answer AWS documents for a node list: {@code <first> 0 <bytes>\r\n<version>\n<nodes>\n\r\nEND\r\n}, where
     * {@code <bytes>} counts the version line and the node line with their LFs.
     *
     * @param first {@code CONFIG cluster}, or {@code VALUE AmazonElastiCache:cluster} for the legacy get
     */
    public static byte[] reply(String first, long version, String... nodes) {
        byte[] data = (version + "\n" + String.join(" ", nodes) + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((first + " 0 " + data.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(data);
        out.writeBytes("\r\nEND\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /**
     * Closes the port and every connection, and waits for every thread of this endpoint to end. A client connecting
     * now is refused; {@link #restart} listens again.
     *
     * @throws IllegalStateException a thread did not end within 5 s
     */
    public synchronized void stop() {
        ServerSocket l = listener;
        listener = null;
        if (l != null) {
            closeQuietly(l);
        }
        connections.forEach(ConfigEndpointServer::closeQuietly);
        long deadline = System.nanoTime() + JOIN_MILLIS * 1_000_000;
        List<Thread> joined;
        do { // once the accept thread has ended no thread is added; until then one may be, after a snapshot
            joined = new ArrayList<>(threads);
            for (Thread t : joined) {
                try {
                    t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while stopping the configuration endpoint", e);
                }
            }
        } while (threads.size() > joined.size() && System.nanoTime() < deadline);
        List<String> alive = new ArrayList<>();
        for (Thread t : threads) {
            if (t.isAlive()) {
                alive.add(t.getName());
            }
        }
        if (!alive.isEmpty()) {
            throw new IllegalStateException("threads of the configuration endpoint still run: " + alive);
        }
        threads.clear();
        connections.clear();
    }

    /**
     * Listens on the same port again, with the same node list (or answer) as before {@link #stop}.
     *
     * @throws UncheckedIOException the port was taken in between
     */
    public synchronized void restart() {
        if (listener != null) {
            throw new IllegalStateException("the configuration endpoint on port " + port + " is running");
        }
        try {
            ServerSocket l = new ServerSocket();
            l.setReuseAddress(true);
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            listener = l;
            listen(l);
        } catch (IOException e) {
            throw new UncheckedIOException("port " + port + " could not be listened on again", e);
        }
    }

    /** Whether the endpoint listens (between start or {@link #restart} and {@link #stop}). */
    public boolean isRunning() {
        return listener != null;
    }

    /** {@link #stop}. */
    @Override
    public void close() {
        stop();
    }

    private void listen(ServerSocket l) {
        Thread t = new Thread(() -> acceptLoop(l), "config-endpoint-" + port);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private void acceptLoop(ServerSocket l) {
        while (!l.isClosed()) {
            Socket s;
            try {
                s = l.accept();
            } catch (IOException e) {
                return; // closed by stop()
            }
            accepted.incrementAndGet();
            connections.add(s);
            Thread t = new Thread(() -> serve(s), "config-endpoint-" + port + "-connection");
            t.setDaemon(true);
            threads.add(t);
            t.start();
            if (l.isClosed()) { // stop() ran between accept and here: it may have missed this socket
                closeQuietly(s);
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            for (String line; (line = readLine(in)) != null; ) {
                if (!answer(line, out)) {
                    return;
                }
            }
        } catch (IOException e) {
            // the client closed, or stop() did
        }
    }

    /** Answers one command line; {@code false} to close the connection. */
    private boolean answer(String line, OutputStream out) throws IOException {
        Answer a = answer;
        boolean config = line.equals("config get cluster");
        boolean legacy = line.equals("get AmazonElastiCache:cluster");
        if (config || legacy) {
            questions.incrementAndGet();
        }
        if (a.silent) {
            return true;
        }
        if (config || legacy) {
            out.write(config ? a.config : a.legacy);
            out.flush();
            return !a.thenClose;
        }
        if (line.equals("quit")) {
            return false;
        }
        if (line.length() > MAX_LINE) {
            out.write("CLIENT_ERROR line too long\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return false;
        }
        out.write((line.equals("version") ? "VERSION 1.6.18\r\n" : "ERROR\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return true;
    }

    /** A line without its (CR)LF, {@code null} at the end; a line past {@link #MAX_LINE} is cut there. */
    private static String readLine(InputStream in) throws IOException {
        byte[] line = new byte[MAX_LINE + 1];
        int n = 0;
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                return null;
            }
            if (n == line.length) {
                return new String(line, StandardCharsets.ISO_8859_1);
            }
            line[n++] = (byte) b;
        }
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        return new String(Arrays.copyOf(line, n), StandardCharsets.ISO_8859_1);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing anyway
        }
    }
}
