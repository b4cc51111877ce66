package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
}
