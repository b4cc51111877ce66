package io.msm.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy on a free 127.0.0.1 port in front of a memcached, for one Tomcat's view of a node, that holds one
 * command on its way ({@link #hold}): the first chunk sent to memcached that contains a given text waits until
 * {@link #release()}, and its connection with it (order within a connection is kept); every other connection goes on.
 * A write queued behind a slow one, or slow on its own path, is applied by memcached after later calls made over other
 * connections.
 */
final class HoldingProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    /** The text whose first chunk is held; {@code null}: none (any more). */
    private volatile String marker;
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile boolean closed;

    private HoldingProxy(int targetPort) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        Thread accept = new Thread(this::accept, "holding-proxy-" + listener.getLocalPort());
        accept.setDaemon(true);
        accept.start();
    }

    /** A proxy to the memcached on {@code 127.0.0.1:targetPort}, forwarding everything until told to hold. */
    static HoldingProxy to(int targetPort) {
        try {
            return new HoldingProxy(targetPort);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The port clients connect to. */
    int port() {
        return listener.getLocalPort();
    }

    /** Holds the next chunk sent to memcached that contains {@code text} (ASCII), until {@link #release()}. */
    void hold(String text) {
        marker = text;
    }

    /** Counted down once the chunk is held. */
    CountDownLatch held() {
        return held;
    }

    /** The held chunk goes on to memcached. */
    void release() {
        released.countDown();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                Socket server;
                try {
                    server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                } catch (IOException refused) {
                    client.close();
                    continue;
                }
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                pump(client, server, "up");
                pump(server, client, "down");
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to, String direction) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    String m = marker;
                    if (direction.equals("up") && m != null
                            && new String(buffer, 0, n, StandardCharsets.ISO_8859_1).contains(m)) {
                        marker = null;
                        held.countDown();
                        released.await(10, TimeUnit.SECONDS);
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
        }, "holding-proxy-" + port() + "-" + direction);
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() {
        closed = true;
        released.countDown();
        closeQuietly(listener);
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            // closing anyway
        }
    }
}
