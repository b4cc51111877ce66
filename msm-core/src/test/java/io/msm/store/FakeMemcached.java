package io.msm.store;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for memcached on 127.0.0.1 for answers a real one does not give: it keeps items in a map and answers
 * {@code set}, {@code get}, {@code gets}, {@code mg} and {@code stats settings} as memcached does, unless
 * {@link #odd} answers a command otherwise.
 */
final class FakeMemcached implements AutoCloseable {
    /** Answers one command in its own way. */
    interface OddAnswer {
        /**
         * @param command the command line, without its CRLF (a storage command's value is already read and stored)
         * @param normal what memcached would answer
         * @return {@code false} to send {@code normal}
         */
        boolean answer(String command, byte[] normal, OutputStream out) throws IOException;
    }

    final Map<String, byte[]> items = new ConcurrentHashMap<>();
    volatile int itemSizeMax = 1024 * 1024;
    volatile OddAnswer odd = (command, normal, out) -> false;
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger ended = new java.util.concurrent.atomic.AtomicInteger();

    FakeMemcached() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "fake-memcached");
        accept.setDaemon(true);
        accept.start();
    }

    /**
     * Connections the client ended so far (seen as an end of stream, so one ended just now may not be counted yet).
     * Unlike the connections accepted, not changed by the connections the store's watch opens in the background.
     */
    int connectionsEnded() {
        return ended.get();
    }

    /** {@code n1:127.0.0.1:<port>}. */
    String nodes() {
        return "n1:127.0.0.1:" + listener.getLocalPort();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "fake-memcached-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            for (String line; (line = readLine(in)) != null; ) {
                byte[] normal = answer(line, in);
                if (!odd.answer(line, normal, out)) {
                    out.write(normal);
                    out.flush();
                }
            }
            ended.incrementAndGet();
        } catch (IOException e) {
            ended.incrementAndGet(); // the client closed the connection
        }
    }

    private byte[] answer(String line, InputStream in) throws IOException {
        String[] p = line.split(" ");
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        switch (p[0]) {
            case "set":
                items.put(p[1], in.readNBytes(Integer.parseInt(p[4]) + 2));
                a.writeBytes(ascii("STORED\r\n"));
                break;
            case "get":
            case "gets":
                byte[] v = items.get(p[1]);
                if (v != null) {
                    String cas = p[0].equals("gets") ? " 1" : "";
                    a.writeBytes(ascii("VALUE " + p[1] + " 0 " + (v.length - 2) + cas + "\r\n"));
                    a.writeBytes(v);
                }
                a.writeBytes(ascii("END\r\n"));
                break;
            case "mg":
                byte[] m = items.get(p[1]);
                if (m == null) {
                    a.writeBytes(ascii("EN\r\n"));
                } else {
                    a.writeBytes(ascii("VA " + (m.length - 2) + " t-1 c1\r\n"));
                    a.writeBytes(m);
                }
                break;
            case "stats":
                a.writeBytes(ascii("STAT item_size_max " + itemSizeMax + "\r\nEND\r\n"));
                break;
            default:
                a.writeBytes(ascii("ERROR\r\n"));
        }
        return a.toByteArray();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) >= 0; ) {
            if (b == '\n') {
                return sb.toString();
            }
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
