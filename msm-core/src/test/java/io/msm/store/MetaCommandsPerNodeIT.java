package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.testing.TestTranscoderFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node that does not know memcached's meta commands (before 1.6, or a proxy in front of it) answers {@code ERROR}
 * to the meta get: reads on that node fall back to {@code gets}, and only on that node. The meta get is what reports
 * the time to live and what tells a miss after a reconnect from a clean one.
 */
class MetaCommandsPerNodeIT {
    private static final int KEEP = SessionStore.KEEP_EXPIRATION;

    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(1);

    /** Answers {@code ERROR} to {@code mg}, a miss ({@code END}) to {@code get}/{@code gets}, {@code ERROR} else. */
    private static final class NoMetaCommandsServer implements AutoCloseable {
        volatile ServerSocket listener;
        final List<Socket> sockets = new CopyOnWriteArrayList<>();
        final AtomicInteger metaGets = new AtomicInteger();
        final AtomicInteger gets = new AtomicInteger();

        NoMetaCommandsServer() throws IOException {
            listen(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        }

        private void listen(ServerSocket l) {
            listener = l;
            Thread accept = new Thread(() -> accept(l), "no-meta-server");
            accept.setDaemon(true);
            accept.start();
        }

        /** Listens again on its port after {@link #stop()}. */
        void restart() throws IOException {
            ServerSocket l = new ServerSocket();
            l.setReuseAddress(true);
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port()), 50);
            listen(l);
        }

        private void accept(ServerSocket l) {
            while (!l.isClosed()) {
                try {
                    Socket s = l.accept();
                    sockets.add(s);
                    Thread t = new Thread(() -> serve(s), "no-meta-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.ISO_8859_1)); OutputStream out = s.getOutputStream()) {
                for (String line; (line = in.readLine()) != null; ) {
                    String answer = "ERROR\r\n";
                    if (line.startsWith("mg ")) {
                        metaGets.incrementAndGet();
                    } else if (line.startsWith("get ") || line.startsWith("gets ")) {
                        gets.incrementAndGet();
                        answer = "END\r\n";
                    }
                    out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
            } catch (IOException e) {
                // the client closed the connection
            }
        }

        int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            stop();
        }

        /** Closes every connection and refuses new ones. */
        void stop() throws IOException {
            listener.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /** A store on the node "old" (the server) and "n2" (a real memcached), once it reported both connected. */
    private static SessionStore open(NoMetaCommandsServer old) throws Exception {
        String nodes = "old:127.0.0.1:" + old.port() + "," + MEMCACHED.nodesAttribute("n2");
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, nodes)
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(MetaCommandsPerNodeIT.class.getClassLoader());
        SessionStore s = MemcachedSessionStore.open(config, MemcachedSessionStore.ConnectionListener.NONE);
        // a node's (re)connection lets it try the meta get again: both connected before any read
        awaitConnected(s, "old", true);
        awaitConnected(s, "n2", true);
        return s;
    }

    private static void awaitConnected(SessionStore s, String nodeId, boolean connected) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (s.isConnected(nodeId) != connected && System.nanoTime() < deadline) {
            Thread.sleep(5); // polls the store's state; orders nothing
        }
        assertEquals(connected, s.isConnected(nodeId), nodeId + " connected");
    }

    @Test
    void aNodeAnsweringErrorToTheMetaGetFallsBackAloneAndTheOtherNodesKeepIt() throws Exception {
        try (NoMetaCommandsServer old = new NoMetaCommandsServer()) {
            try (SessionStore s = open(old)) {
                byte[] value = {1, 2, 3};
                s.set("n2", "k", 100, value, 1000);

                assertNull(s.getWithTtl("old", "k", KEEP, 1000).value(), "the old node's gets answers a miss");
                assertEquals(1, old.metaGets.get());
                assertEquals(1, old.gets.get());
                assertNull(s.getWithTtl("old", "k", KEEP, 1000).value());
                assertEquals(1, old.metaGets.get(), "the old node is not asked the meta get again");
                assertEquals(2, old.gets.get());

                StoredValue onN2 = s.getWithTtl("n2", "k", KEEP, 1000);
                assertArrayEquals(value, onN2.value());
                assertTrue(onN2.ttlSeconds() >= 98 && onN2.ttlSeconds() <= 100,
                        "n2 still gets the meta get, which reports the time to live (gets does not): "
                                + onN2.ttlSeconds());
            }
        }
    }

    /** A node that reconnects may have been upgraded meanwhile (or moved behind another proxy): asked again. */
    @Test
    void aNodeThatReconnectedIsAskedTheMetaGetAgain() throws Exception {
        try (NoMetaCommandsServer old = new NoMetaCommandsServer(); SessionStore s = open(old)) {
            assertNull(s.getWithTtl("old", "k", KEEP, 1000).value());
            assertNull(s.getWithTtl("old", "k", KEEP, 1000).value());
            assertEquals(1, old.metaGets.get());
            old.stop();
            awaitConnected(s, "old", false);
            old.restart();
            awaitConnected(s, "old", true);
            assertNull(s.getWithTtl("old", "k", KEEP, 1000).value());
            assertEquals(2, old.metaGets.get(), "asked once more after the reconnect");
        }
    }
}
