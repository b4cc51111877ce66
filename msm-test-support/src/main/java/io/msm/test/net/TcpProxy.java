package io.msm.test.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on a free 127.0.0.1 port in front of a real memcached, for the network events a process cannot make on
 * cue: memcached replaced by another process with no moment in between where a connect is refused
 * ({@link #retarget}), and a listener whose accept backlog is full while the established connections keep answering
 * ({@link #stopAccepting}), one command held on its way while others pass it ({@link #hold}), and a network partition that lasts longer than TCP's retransmissions ({@link #partition}).
 * {@link #blackhole()} is a port whose connects time out.
 */
public final class TcpProxy implements AutoCloseable {
    /** How long {@link #hold} holds a chunk at most if the test never releases it. */
    static final int MAX_HOLD_SECONDS = 10;
    /** Connect timeout of the connections that fill the backlog: the kernel's SYN retry comes after 1 s. */
    private static final int FILL_CONNECT_MILLIS = 200;

    private final ServerSocket listener;
    /** The client and server side of each forwarded connection, in the order they were accepted. */
    private final List<Socket[]> pairs = new CopyOnWriteArrayList<>();
    /** Connections accepted while not accepting, and those filling the backlog: never answered. */
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    /** Connections accepted (forwarded, closed at once or held), the backlog's fillers excepted. */
    private final AtomicInteger accepted = new AtomicInteger();
    /** Connections still to close though their memcached accepts ({@link #closeNextForwardable}). */
    private final AtomicInteger closeNext = new AtomicInteger();
    /** Bytes read and not forwarded because the proxy was partitioned, both directions together. */
    private final AtomicLong dropped = new AtomicLong();
    private volatile int targetPort;
    private volatile boolean accepting = true;
    private volatile boolean partitioned;
    /** The command to hold on its way to memcached ({@link #hold}); {@code null}: none. */
    private volatile Hold hold;
    private volatile boolean closed;

    private TcpProxy(int targetPort, boolean forwards) throws IOException {
        // backlog 1: two connections wait to be accepted, the kernel drops the SYN of any further one
        this.listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        if (forwards) {
            Thread t = new Thread(this::acceptLoop, "tcp-proxy-" + listener.getLocalPort());
            t.setDaemon(true);
            t.start();
        }
    }

    /** A proxy to the memcached on {@code 127.0.0.1:targetPort}. */
    public static TcpProxy to(int targetPort) {
        try {
            return new TcpProxy(targetPort, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A port that never accepts and whose backlog is full: every connect to it times out. */
    public static TcpProxy blackhole() {
        try {
            TcpProxy p = new TcpProxy(-1, false);
            p.fillBacklog();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    /**
     * How many connections clients opened through the proxy so far: forwarded, closed at once because its memcached
     * refused, or held while not accepting ({@link #stopAccepting}'s own fillers excepted).
     */
    public int accepted() {
        return accepted.get();
    }

    /**
     * From now on forwards to {@code 127.0.0.1:port}, and closes every connection forwarded so far: to its clients, as
     * if memcached restarted, with no connect refused in between.
     */
    public void retarget(int port) {
        targetPort = port;
        for (Socket[] pair : pairs) {
            closeQuietly(pair[0]);
            closeQuietly(pair[1]);
        }
    }

    /**
     * Closes the next {@code n} connections it could forward (its memcached accepts) once their client sent its first
     * bytes (at most 1 s later), unanswered, as if its memcached were not there yet; connections its memcached refuses
     * are closed as ever and not counted.
     */
    public void closeNextForwardable(int n) {
        closeNext.set(n);
    }

    /** Closes the first forwarded connection still open, as memcached closing one idle connection. */
    public void closeFirstForwarded() {
        for (Socket[] pair : pairs) {
            if (!pair[0].isClosed()) {
                closeQuietly(pair[0]);
                closeQuietly(pair[1]);
                return;
            }
        }
        throw new IllegalStateException("no forwarded connection open");
    }

    /** Stops accepting and fills the backlog: a new connect times out, the forwarded connections keep working. */
    public void stopAccepting() throws IOException {
        accepting = false;
        fillBacklog();
    }

    /** Accepts again (the waiting connections first, forwarded like any other). */
    public void startAccepting() {
        synchronized (gate) {
            accepting = true;
            gate.notifyAll();
        }
    }

    /**
     * From now on, what either side of any connection sends is read and dropped, and the connections stay open (new
     * ones are still accepted and forwarded, and dropped the same way): unlike a paused memcached, which reads what
     * waited in its socket when it resumes, what is sent meanwhile never arrives. A client whose call timed out closes
     * its connection, which closes both sides here.
     */
    public void partition() {
        partitioned = true;
    }

    /** From now on, what either side sends is forwarded again (what was dropped stays lost). */
    public void heal() {
        partitioned = false;
    }

    /**
     * Holds the next chunk a client sends toward memcached that contains {@code text} (ASCII), and with it the rest of
     * that connection (order within a connection is kept), until {@link #release()}; every other connection goes on.
     * So a write sent before another, over another connection, is applied by memcached after it.
     *
     * @return counted down once a chunk is held
     */
    public CountDownLatch hold(String text) {
        Hold h = new Hold(text);
        Hold before = hold;
        hold = h;
        if (before != null) {
            before.released.countDown();
        }
        return h.held;
    }

    /** The held chunk (or the next one, if none is held yet) goes on to memcached at once. */
    public void release() {
        Hold h = hold;
        if (h != null) {
            h.released.countDown();
        }
    }

    /** One {@link #hold}: the first upstream chunk containing its text is held, at most for {@link #MAX_HOLD_SECONDS}. */
    private static final class Hold {
        final String text;
        final AtomicBoolean taken = new AtomicBoolean();
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch released = new CountDownLatch(1);

        Hold(String text) {
            this.text = text;
        }

        /** Waits if this chunk is the one to hold. */
        void pass(byte[] chunk, int length) throws InterruptedException {
            if (!taken.get() && new String(chunk, 0, length, StandardCharsets.ISO_8859_1).contains(text)
                    && taken.compareAndSet(false, true)) {
                held.countDown();
                released.await(MAX_HOLD_SECONDS, TimeUnit.SECONDS);
            }
        }
    }

    /** How many bytes were dropped so far while {@link #partition partitioned}, both directions together. */
    public long dropped() {
        return dropped.get();
    }

    private void fillBacklog() throws IOException {
        for (int i = 0; i < 8; i++) {
            Socket s = new Socket();
            try {
                s.connect(listener.getLocalSocketAddress(), FILL_CONNECT_MILLIS);
                held.add(s);
            } catch (SocketTimeoutException full) {
                s.close();
                return;
            }
        }
        throw new IllegalStateException("the backlog of port " + port() + " did not fill up");
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                synchronized (gate) {
                    while (!accepting && !closed) {
                        gate.wait();
                    }
                }
                Socket client = listener.accept();
                if (!isFiller(client)) {
                    accepted.incrementAndGet();
                }
                if (!accepting) { // accepted by the accept() that was waiting when it stopped
                    held.add(client);
                    continue;
                }
                forward(client);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Whether {@code accepted} is one of the connections {@link #fillBacklog} opened (by its client port). */
    private boolean isFiller(Socket accepted) {
        for (Socket s : held) {
            if (s.getLocalPort() == accepted.getPort() && s.getPort() == port()) {
                return true;
            }
        }
        return false;
    }

    private void forward(Socket client) throws IOException {
        Socket server = new Socket();
        try {
            server.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 1000);
        } catch (IOException refused) { // memcached is not there: the client sees its connection closed
            closeQuietly(client);
            closeQuietly(server);
            return;
        }
        if (closeNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            closeQuietly(server);
            // after the client's first command (as a forwarder does once it learns memcached is not there), on a
            // thread of its own: the accept loop goes on meanwhile
            Thread t = new Thread(() -> {
                try {
                    client.setSoTimeout(1000);
                    client.getInputStream().read(new byte[512]);
                } catch (IOException e) {
                    // closed or silent: closed below either way
                } finally {
                    closeQuietly(client);
                }
            }, "tcp-proxy-close-next");
            t.setDaemon(true);
            t.start();
            return;
        }
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        pairs.add(new Socket[] {client, server});
        pump(client, server, true);
        pump(server, client, false);
    }

    private void pump(Socket from, Socket to, boolean upstream) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buffer)) > 0; ) {
                    if (partitioned) {
                        dropped.addAndGet(n);
                        continue;
                    }
                    Hold h = upstream ? hold : null;
                    if (h != null) {
                        h.pass(buffer, n);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // either side closed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        release();
        synchronized (gate) {
            gate.notifyAll();
        }
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        held.forEach(TcpProxy::closeQuietly);
        for (Socket[] pair : pairs) {
            closeQuietly(pair[0]);
            closeQuietly(pair[1]);
        }
    }
}
