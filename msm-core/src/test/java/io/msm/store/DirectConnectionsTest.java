package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link DirectConnections}' count of open connections, which the node watch relies on: a connection is either back
 * in the pool or closed when a call ends, however the call ends. The peer is a listening socket that never answers
 * (the kernel completes the connects); the commands here fail before they write anything.
 */
class DirectConnectionsTest {

    private static DirectConnections pool(ServerSocket peer, WriteDeadline deadline) {
        return new DirectConnections(new InetSocketAddress(InetAddress.getLoopbackAddress(), peer.getLocalPort()),
                deadline, null);
    }

    private static Void refuse(TextConnection c) {
        throw new IllegalStateException("refused (as a write guard does while the store closes)");
    }

    @Test
    void aSendWhoseCommandThrowsAnUncheckedExceptionClosesItsPooledConnection() throws Exception {
        try (ServerSocket peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                WriteDeadline deadline = new WriteDeadline("test-write-deadline");
                DirectConnections pool = pool(peer, deadline)) {
            new WatchConnects(pool).openIdle(1000, false);
            assertEquals(1, pool.openConnections());
            assertThrows(IllegalStateException.class, () -> pool.send(1000, DirectConnectionsTest::refuse));
            assertEquals(0, pool.idleConnections(), "not back in the pool: its state is unknown");
            assertEquals(0, pool.openConnections(), "neither pooled nor closed: counted open for good");
        }
    }

    @Test
    void aSendWhoseCommandThrowsAnUncheckedExceptionClosesItsNewConnection() throws Exception {
        try (ServerSocket peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                WriteDeadline deadline = new WriteDeadline("test-write-deadline");
                DirectConnections pool = pool(peer, deadline)) {
            assertThrows(IllegalStateException.class, () -> pool.send(1000, DirectConnectionsTest::refuse));
            assertEquals(0, pool.openConnections());
        }
    }

    @Test
    void aCallWhoseExchangeThrowsAnUncheckedExceptionClosesItsPooledConnection() throws Exception {
        try (ServerSocket peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                WriteDeadline deadline = new WriteDeadline("test-write-deadline");
                DirectConnections pool = pool(peer, deadline)) {
            new WatchConnects(pool).openIdle(1000, false);
            assertThrows(IllegalStateException.class, () -> pool.call(1000, DirectConnectionsTest::refuse));
            assertEquals(0, pool.openConnections());
        }
    }

    /**
     * A call that finds a pooled connection closed by memcached ends the watch's read on another connection at once
     * (it returns {@code null}: no verdict), so the watch asks which process answers now instead of after its read.
     * The peer closes each connection once a command arrives on it: the watched one, asked nothing, stays open.
     */
    @Test
    void aCallThatFindsAConnectionClosedByMemcachedEndsAWatchedReadAtOnce() throws Exception {
        try (ServerSocket peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                WriteDeadline deadline = new WriteDeadline("test-write-deadline");
                DirectConnections pool = pool(peer, deadline)) {
            twoIdleOn(peer, pool);
            CompletableFuture<Boolean> watch = new CompletableFuture<>();
            Thread watcher = new Thread(() -> watch.complete(pool.watchIdle(60_000)), "test-watch");
            watcher.setDaemon(true);
            watcher.start();
            WatchedStore.awaitMillis(2000, "the watch took a connection", () -> pool.idleConnections() == 1);
            assertThrows(EOFException.class, () -> pool.call(1000, DirectConnectionsTest::ask));
            assertNull(watch.get(5, TimeUnit.SECONDS), "cut, not closed by memcached: no verdict");
            assertEquals(true, pool.takeClosedByPeer(), "what the watch acts on next");
        }
    }

    /** The same news before the watch starts its read (the call came between two passes): no read at all. */
    @Test
    void aWatchThatStartsAfterACallFoundAConnectionClosedByMemcachedDoesNotRead() throws Exception {
        try (ServerSocket peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                WriteDeadline deadline = new WriteDeadline("test-write-deadline");
                DirectConnections pool = pool(peer, deadline)) {
            twoIdleOn(peer, pool);
            assertThrows(EOFException.class, () -> pool.call(1000, DirectConnectionsTest::ask));
            long start = System.nanoTime();
            assertNull(pool.watchIdle(60_000), "the news first");
            assertEquals(true, (System.nanoTime() - start) < TimeUnit.SECONDS.toNanos(5), "without a read");
            assertEquals(1, pool.idleConnections(), "the connection it took is back");
            assertEquals(true, pool.takeClosedByPeer());
        }
    }

    /**
     * A call that ends after the store closed hands its connection back: it is closed, and the count of idle
     * connections stays at zero (it went below zero once, counting down a connection it never counted in).
     */
    @Test
    void aConnectionHandedBackAfterTheStoreClosedIsClosedAndNotCounted() throws Exception {
        try (ServerSocket peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                WriteDeadline deadline = new WriteDeadline("test-write-deadline")) {
            DirectConnections pool = pool(peer, deadline);
            new WatchConnects(pool).openIdle(1000, false);
            SentCommand sent = pool.send(1000, c -> null);
            pool.close();
            pool.release(sent.conn);
            assertEquals(0, pool.idleConnections());
            assertEquals(0, pool.openConnections());
        }
    }

    /**
     * The same hand-back at the same moment as the close, many times: the connection ends closed and uncounted
     * whichever comes first (a hand-back that checked the pool open just before the close emptied it was left in
     * the pool, counted idle and open for good).
     */
    @Test
    void aConnectionHandedBackWhileTheStoreClosesIsNeverLeftCounted() throws Exception {
        try (ServerSocket peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                WriteDeadline deadline = new WriteDeadline("test-write-deadline")) {
            Thread acceptor = new Thread(() -> acceptAndDrop(peer), "test-peer");
            acceptor.setDaemon(true);
            acceptor.start();
            for (int i = 0; i < ROUNDS; i++) {
                DirectConnections pool = pool(peer, deadline);
                new WatchConnects(pool).openIdle(1000, false);
                SentCommand sent = pool.send(1000, c -> null);
                CyclicBarrier together = new CyclicBarrier(2);
                Thread handBack = new Thread(() -> {
                    awaitQuietly(together);
                    pool.release(sent.conn);
                }, "test-hand-back");
                handBack.start();
                awaitQuietly(together);
                pool.close();
                handBack.join(5000);
                assertEquals(0, pool.idleConnections(), "round " + i);
                assertEquals(0, pool.openConnections(), "round " + i);
            }
        }
    }

    private static final int ROUNDS = 2000;

    private static void awaitQuietly(CyclicBarrier barrier) {
        try {
            barrier.await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void acceptAndDrop(ServerSocket peer) {
        while (!peer.isClosed()) {
            try {
                peer.accept().close();
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Two idle connections to {@code peer}, which closes each connection once a command arrives on it. */
    private static void twoIdleOn(ServerSocket peer, DirectConnections pool) throws IOException {
        Thread acceptor = new Thread(() -> closeOnFirstByte(peer), "test-peer");
        acceptor.setDaemon(true);
        acceptor.start();
        new WatchConnects(pool).openIdle(1000, false);
        new WatchConnects(pool).openIdle(1000, false);
    }

    private static Void ask(TextConnection c) throws IOException {
        c.out.write("version\r\n".getBytes(StandardCharsets.US_ASCII));
        c.out.flush();
        if (c.in.read() < 0) {
            throw new EOFException("closed by the peer");
        }
        return null;
    }

    private static void closeOnFirstByte(ServerSocket peer) {
        while (!peer.isClosed()) {
            try {
                Socket s = peer.accept();
                Thread t = new Thread(() -> {
                    try (Socket in = s) {
                        in.getInputStream().read();
                    } catch (IOException e) {
                        // closed either way
                    }
                }, "test-peer-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }
}
