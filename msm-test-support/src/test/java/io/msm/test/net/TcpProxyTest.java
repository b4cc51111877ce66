package io.msm.test.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link TcpProxy}'s partition and hold modes, with both ends of one forwarded connection held by the test (a plain loopback
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

    @Test
    void aHeldCommandWaitsWhileAnotherConnectionGoesOnAndArrivesWhole() throws Exception {
        try (ServerSocket target = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                TcpProxy proxy = TcpProxy.to(target.getLocalPort());
                Socket first = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            target.setSoTimeout(READ_TIMEOUT_MILLIS);
            first.setSoTimeout(READ_TIMEOUT_MILLIS);
            try (Socket firstServer = target.accept();
                    Socket second = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
                    Socket secondServer = target.accept()) {
                firstServer.setSoTimeout(READ_TIMEOUT_MILLIS);
                secondServer.setSoTimeout(READ_TIMEOUT_MILLIS);
                CountDownLatch held = proxy.hold("set bak:");
                first.getOutputStream().write("set bak:S 0 0 1\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(held.await(READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), "the command is held");
                assertForwards(second, secondServer, 'x'); // the other connection goes on meanwhile
                assertForwards(secondServer, second, 'y'); // and answers come back
                assertEquals(0, firstServer.getInputStream().available(), "nothing of the held command arrived");
                proxy.release();
                byte[] got = firstServer.getInputStream().readNBytes(17);
                assertEquals("set bak:S 0 0 1\r\n", new String(got, StandardCharsets.US_ASCII));
                assertForwards(first, firstServer, 'z'); // the held connection forwards again, nothing held twice
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
