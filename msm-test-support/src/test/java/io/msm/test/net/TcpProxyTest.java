package io.msm.test.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link TcpProxy}'s partition mode, with both ends of one forwarded connection held by the test (a plain loopback
 * server stands for memcached): what is sent while partitioned never arrives, and the connection forwards again after
 * the heal.
 */
class TcpProxyTest {
    private static final int READ_TIMEOUT_MILLIS = 5000;

    @Test
    void whatEitherSideSendsWhilePartitionedIsDroppedAndTheConnectionForwardsAgainAfterTheHeal() throws Exception {
        try (ServerSocket target = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                TcpProxy proxy = TcpProxy.to(target.getLocalPort());
                Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            target.setSoTimeout(READ_TIMEOUT_MILLIS);
            client.setSoTimeout(READ_TIMEOUT_MILLIS);
            try (Socket server = target.accept()) {
                server.setSoTimeout(READ_TIMEOUT_MILLIS);
                assertForwards(client, server, 'a');
                assertForwards(server, client, 'b');

                proxy.partition();
                client.getOutputStream().write('c');
                server.getOutputStream().write('d');
                awaitDropped(proxy, 2);
                proxy.heal();

                // had 'c' or 'd' been forwarded, it would be read here first
                assertForwards(client, server, 'e');
                assertForwards(server, client, 'f');
                assertEquals(2, proxy.dropped(), "bytes dropped");
            }
        }
    }

    private static void assertForwards(Socket from, Socket to, char c) throws IOException {
        from.getOutputStream().write(c);
        from.getOutputStream().flush();
        assertEquals(c, (char) to.getInputStream().read(), "the byte read after sending '" + c + "'");
    }

    private static void awaitDropped(TcpProxy proxy, long bytes) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READ_TIMEOUT_MILLIS);
        while (proxy.dropped() < bytes) {
            assertTrue(System.nanoTime() < deadline,
                    "not " + bytes + " bytes dropped within " + READ_TIMEOUT_MILLIS + " ms: " + proxy.dropped());
            Thread.sleep(10);
        }
    }
}
