package io.msm.engine;

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
 * A TCP proxy on a free 127.0.0.1 port in front of a memcached, for one Tomcat's view of a node: while
 * {@link #partition() partitioned}, whatever either side sends is dropped and the connections stay open, as in a
 * network partition that lasts longer than TCP's retransmissions (what was sent meanwhile never arrives, unlike a
 * paused memcached, which reads what waited in its socket when it resumes); {@link #heal()} forwards again. A call
 * that timed out meanwhile has its connection closed by the client, which closes both sides here.
 */
final class PartitionProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean partitioned;
    private volatile boolean closed;

    private PartitionProxy(int targetPort) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        Thread accept = new Thread(this::accept, "partition-proxy-" + listener.getLocalPort());
        accept.setDaemon(true);
        accept.start();
    }

    /** A proxy to the memcached on {@code 127.0.0.1:targetPort}, forwarding. */
    static PartitionProxy to(int targetPort) {
        try {
            return new PartitionProxy(targetPort);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The port clients connect to. */
    int port() {
        return listener.getLocalPort();
    }

    /** From now on, what either side sends is dropped. */
    void partition() {
        partitioned = true;
    }

    /** From now on, what either side sends is forwarded again. */
    void heal() {
        partitioned = false;
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
                    if (!partitioned) {
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // either side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "partition-proxy-" + port() + "-" + direction);
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
