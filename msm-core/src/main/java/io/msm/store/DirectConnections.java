package io.msm.store;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pooled blocking connections to one memcached node over which every text-protocol call is made: the calling
 * thread writes the command and reads the answer itself ({@link TextCommands}). spymemcached hands every operation to
 * its I/O thread and the answer back (a selector wake-up and two thread switches per call). Measured by
 * msm-benchmarks' StoreCallBenchmark (4 threads, set + meta get of 2 KB, one memcached on loopback, 2 cores): 12 µs
 * of CPU per call here, 22 µs through spymemcached, 1.7x the calls per second.
 *
 * <p>Every read waits at most until the call's deadline, however the answer trickles in (a socket's own timeout
 * applies to one read at a time); keys travel in UTF-8.
 *
 * <p>Idle connections are pooled (at most {@link #MAX_IDLE}). A connection that timed out, failed, answered
 * something unexpected or sent more than the answer is closed, never reused, so a late answer cannot be read as the
 * next call's. A call on a pooled connection that fails before any answer arrived (memcached closed it: restarted,
 * or an idle timeout) is made once more on a new one: a memcached that closed the connection did not run the command
 * (one that crashed in between restarts empty).
 *
 * <p>The same pool tells whether the node is there ({@link #watchIdle}, {@link NodeWatch}).
 *
 * <p>With {@code tls="true"} each connection makes its TLS handshake ({@link TlsLayer}) right after connecting, within
 * the same deadline; everything else is the same over TLS.
 *
 * <p>Connects go to the {@link NodeAddress} resolved last; the {@link NodeWatch} resolves it again while the node is
 * down ({@link #resolve}).
 */
final class DirectConnections implements AutoCloseable {
    static final int MAX_IDLE = 32;

    private final NodeAddress address;
    private final WriteDeadline writeDeadline;
    /** {@code null}: no TLS. */
    private final TlsLayer tls;
    /** The last TLS handshake with the node failed (it was logged). */
    private final AtomicBoolean handshakeFailing = new AtomicBoolean();
    private final ConcurrentLinkedDeque<TextConnection> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger idleCount = new AtomicInteger();
    /** Connections open (idle or in a call). */
    private final AtomicInteger openCount = new AtomicInteger();
    /**
     * memcached closed one of these connections before answering on it: it may have restarted empty since, so the
     * next exchange's miss proves nothing ({@link TextConnection#replacesClosed}).
     */
    private final AtomicBoolean peerClosed = new AtomicBoolean();
    /** The sockets of the connections open or opening (idle or in a call): {@link #close()} closes them all. */
    private final Set<DeadlineSocket> sockets = ConcurrentHashMap.newKeySet();
    /** The same, for the {@link NodeWatch} to ask which process answers now ({@link #takeClosedByPeer}). */
    private final AtomicBoolean watchClosedByPeer = new AtomicBoolean();
    private volatile boolean closed;
    /** The {@link NodeWatch}'s read on an idle connection ({@link #watchIdle}). */
    private final WatchedRead watch = new WatchedRead();

    /**
     * A pool to the node at {@code host}, resolved now and by {@link #resolve} again.
     *
     * @param host the node's host as written in {@code memcachedNodes}: a name, or an IP literal (never resolved)
     * @param tls makes each connection's TLS handshake; {@code null}: plain TCP
     * @param context the context's name, for the line logged when the name resolves to another address
     */
    DirectConnections(String host, int port, WriteDeadline writeDeadline, TlsLayer tls, String context) {
        this(NodeAddress.of(host, port, context), writeDeadline, tls);
    }

    /**
     * A pool to a fixed address, never resolved again.
     *
     * @param tls makes each connection's TLS handshake; {@code null}: plain TCP
     */
    DirectConnections(InetSocketAddress address, WriteDeadline writeDeadline, TlsLayer tls) {
        this(NodeAddress.fixed(address), writeDeadline, tls);
    }

    private DirectConnections(NodeAddress address, WriteDeadline writeDeadline, TlsLayer tls) {
        this.address = address;
        this.writeDeadline = writeDeadline;
        this.tls = tls;
    }

    /**
     * Resolves the node's host name again ({@link NodeAddress#resolve}): the next connects go where it points now.
     * Blocks as long as the resolver takes: for the watch's thread, never a request's.
     *
     * @return whether the address changed
     */
    boolean resolve() {
        return address.resolve();
    }

    /** One exchange on a connection: write the command, read the answer. */
    interface Exchange<T> {
        T run(TextConnection c) throws IOException;
    }

    /**
     * Runs one exchange within {@code timeoutMillis} (connecting included).
     *
     * @throws SocketTimeoutException memcached did not answer in time
     * @throws IOException the connection failed or memcached answered something unexpected
     */
    <T> T call(long timeoutMillis, Exchange<T> exchange) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        TextConnection c = pooled();
        if (c != null) {
            try {
                return run(c, deadline, exchange);
            } catch (IOException e) {
                if (!closedBeforeAnswering(c, e)) {
                    throw e;
                }
            }
            closedByPeer();
            return run(open(deadline), deadline, exchange);
        }
        return run(open(deadline), deadline, exchange);
    }

    private TextConnection pooled() {
        TextConnection c = idle.pollFirst();
        if (c != null) {
            idleCount.decrementAndGet();
        }
        return c;
    }

    /**
     * A pooled connection memcached closed meanwhile (restart, idle timeout) fails before any answer: the call is
     * made once more on a new connection. A timeout, an unexpected answer or a failure mid-answer is not retried.
     */
    private static boolean closedBeforeAnswering(TextConnection c, IOException e) {
        return !(e instanceof SocketTimeoutException) && !(e instanceof ProtocolException) && !c.answered;
    }

    /**
     * Writes {@code command} (within {@code timeoutMillis}) without reading its answer, so that one thread can have
     * commands on several nodes under way at once. The caller then calls {@link #receive} or {@link #abandon}.
     */
    SentCommand send(long timeoutMillis, Exchange<Void> command) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        TextConnection c = pooled();
        if (c != null) {
            try {
                ready(c, deadline);
                command.run(c);
                return new SentCommand(c, true, command);
            } catch (SocketTimeoutException e) {
                c.close();
                throw e;
            } catch (IOException e) {
                c.close(); // memcached closed it meanwhile: a new one below
                closedByPeer();
            } catch (RuntimeException e) {
                c.close(); // e.g. the write guard refused while the store closes: its state is unknown
                throw e;
            }
        }
        c = open(deadline);
        try {
            ready(c, deadline);
            command.run(c);
            return new SentCommand(c, false, command);
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
    <T> T receive(SentCommand sent, long timeoutMillis, Exchange<T> answer) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        try {
            return run(sent.conn, deadline, answer);
        } catch (IOException e) {
            if (!sent.pooled || !closedBeforeAnswering(sent.conn, e)) {
                throw e;
            }
        }
        closedByPeer();
        return run(open(deadline), deadline, c -> {
            sent.command.run(c);
            return answer.run(c);
        });
    }

    /** Gives up the answer of a {@link #send}: its connection is closed. */
    void abandon(SentCommand sent) {
        sent.conn.close();
    }

    /**
     * Runs {@code exchange}; the connection goes back to the pool if it succeeded and nothing more came on it, is
     * closed otherwise.
     */
    private <T> T run(TextConnection c, long deadline, Exchange<T> exchange) throws IOException {
        boolean reusable = false;
        try {
            c.replacesClosed = peerClosed.getAndSet(false);
            ready(c, deadline);
            T result = exchange.run(c);
            reusable = true;
            if (c.unconfirmed) {
                firstAnswer(c, null);
            }
            return result;
        } catch (IOException e) {
            if (c.unconfirmed && !c.answered && !(e instanceof SocketTimeoutException)) {
                firstAnswer(c, e);
            }
            throw e;
        } finally {
            c.replacesClosed = false; // the next call on it finds it open
            if (reusable && nothingMore(c)) {
                release(c);
            } else {
                c.close();
            }
        }
    }

    /**
     * Whether no byte is waiting on {@code c} after a complete answer. memcached sends nothing but answers, so a
     * byte more is out of step (a broken server or proxy): the next call on the connection would read it as its
     * own answer.
     */
    private static boolean nothingMore(TextConnection c) {
        try {
            return c.in.available() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Starts an exchange on {@code c}: the time left as its read timeout, no answer read yet. */
    static void ready(TextConnection c, long deadline) throws IOException {
        remainingMillis(deadline); // none left: fails now
        c.answered = false;
        c.deadline(deadline);
    }

    private void closedByPeer() {
        peerClosed.set(true);
        if (!watchClosedByPeer.getAndSet(true)) {
            watch.cut(); // the watch asks which process answers now, without waiting out its read
        }
    }

    /** Whether memcached closed a connection of this pool since the last time this was asked. */
    boolean takeClosedByPeer() {
        return watchClosedByPeer.getAndSet(false);
    }

    private TextConnection open(long deadline) throws IOException {
        return open(new DeadlineSocket(), deadline);
    }

    /** Connects {@code s} (and makes the TLS handshake on it) by {@code deadline}. */
    TextConnection open(DeadlineSocket s, long deadline) throws IOException {
        sockets.add(s); // before the check: a close() from now on closes it
        try {
            if (closed) {
                throw new IOException("the store is closed");
            }
            s.setTcpNoDelay(true);
            InetSocketAddress to = address.now(); // one address for the connect and the handshake's name check
            s.connect(to, remainingMillis(deadline));
            s.deadline = deadline;
            Socket io = tls == null ? s : tls.handshake(s, to, handshakeFailing);
            TextConnection c = new TextConnection(s, io, writeDeadline, () -> {
                openCount.decrementAndGet();
                sockets.remove(s);
            });
            c.unconfirmed = tls != null;
            openCount.incrementAndGet();
            return c;
        } catch (IOException | RuntimeException e) {
            sockets.remove(s);
            s.close();
            throw e;
        }
    }

    /**
     * Watches the least recently used idle connection for {@code millis} ({@link WatchedRead#read}). Meanwhile no call
     * can take that connection.
     *
     * @return {@code true} if the node answers (the connection goes back to the pool if it stayed open), {@code false}
     *     if memcached closed it, {@code null} if there was no idle connection to watch or the read was cut
     */
    Boolean watchIdle(long millis) {
        TextConnection c = idle.pollLast();
        if (c == null) {
            return null;
        }
        idleCount.decrementAndGet();
        if (closed) {
            c.close();
            return null;
        }
        switch (watch.read(c, millis, watchClosedByPeer)) {
            case QUIET:
                releaseOldest(c);
                return true;
            case ALIVE:
                return true;
            case PEER_CLOSED:
                if (closed) {
                    return null; // closed here, not by memcached
                }
                closedByPeer();
                return false;
            case NEWS_FIRST: // the watch acts on the news first
                releaseOldest(c);
                return null;
            default:
                return null;
        }
    }

    /** Puts {@code c} back as the least recently used, or closes it if the pool is full or closed. */
    private void releaseOldest(TextConnection c) {
        if (admit(c)) {
            idle.addLast(c);
            unlessClosed(c);
        }
    }

    /** Ends a {@link #watchIdle} under way at once, and any later one (the watch is closing). */
    void endWatch() {
        watch.end();
    }

    /**
     * The first exchange on a new TLS connection ended: answered ({@code failure} null), or failed before any answer
     * (memcached refused the client certificate, see {@link TextConnection#unconfirmed}).
     */
    void firstAnswer(TextConnection c, IOException failure) {
        c.unconfirmed = false;
        if (failure == null) {
            tls.answered(address(), handshakeFailing);
        } else {
            tls.refusedAfterHandshake(address(), handshakeFailing, failure);
        }
    }

    /** Whether the last TLS handshake with the node failed. */
    boolean handshakeFailing() {
        return handshakeFailing.get();
    }

    /** Connections open now, idle or in a call. */
    int openConnections() {
        return openCount.get();
    }

    /** Idle connections in the pool now. */
    int idleConnections() {
        return idleCount.get();
    }

    /** The node's address in use now (host name and the IP it resolved to). */
    InetSocketAddress address() {
        return address.now();
    }

    /** Puts {@code c} back into the pool (the most recently used), or closes it if the pool is full or closed. */
    void release(TextConnection c) {
        if (admit(c)) {
            idle.addFirst(c); // most recently used first: the rest may idle out
            unlessClosed(c);
        }
    }

    /**
     * A {@link #close()} that began after {@link #admit} looked may have emptied the pool before {@code c} went in:
     * it is taken out and closed again here. ({@code close} sets the flag before it empties the pool, and this looks
     * after the add, so one of the two always finds it.)
     */
    private void unlessClosed(TextConnection c) {
        if (closed && idle.remove(c)) {
            idleCount.decrementAndGet();
            c.close();
        }
    }

    /** Counts {@code c} in as idle, or closes it if the pool is full or closed. */
    private boolean admit(TextConnection c) {
        if (closed) {
            c.close();
            return false;
        }
        if (idleCount.incrementAndGet() > MAX_IDLE) {
            idleCount.decrementAndGet();
            c.close();
            return false;
        }
        return true;
    }

    static int remainingMillis(long deadline) throws SocketTimeoutException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            throw new SocketTimeoutException("no time left");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    /**
     * Closes every connection, idle or in a call: a call still under way fails at once (a read or connect blocked on
     * a node that stopped answering returns when its socket is closed, not when its thread is interrupted), and no
     * connection opens after.
     */
    @Override
    public void close() {
        closed = true;
        TextConnection c;
        while ((c = idle.pollFirst()) != null) {
            idleCount.decrementAndGet();
            c.close();
        }
        for (DeadlineSocket s : sockets) {
            try {
                s.close(); // its call's thread closes its connection
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
