package io.msm.test.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on a free 127.0.0.1 port in front of a local server, delaying every chunk sent to the server by a fixed
 * time (answers pass at once): a slow network path from one client, e.g. one Tomcat's connection to a memcached node.
 * Order within a connection is kept.
 */
public final class DelayingProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int targetPort;
    private final long delayMillis;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private DelayingProxy(int targetPort, long delayMillis) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        this.delayMillis = delayMillis;
        Thread accept = new Thread(this::accept, "delaying-proxy-" + listener.getLocalPort());
        accept.setDaemon(true);
        accept.start();
    }

    /** Starts a proxy to {@code 127.0.0.1:targetPort} that delays client-to-server data by {@code delayMillis}. */
    public static DelayingProxy to(int targetPort, long delayMillis) {
        try {
            return new DelayingProxy(targetPort, delayMillis);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The port clients connect to. */
    public int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                pump(client, server, delayMillis, "up");
                pump(server, client, 0, "down");
            } catch (IOException e) {
                if (!closed) {
                    continue; // the target refused one connection: the client sees its connection closed
                }
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, long delay, String direction) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    if (delay > 0) {
                        Thread.sleep(delay);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // either side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "delaying-proxy-" + port() + "-" + direction);
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() {
        closed = true;
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
