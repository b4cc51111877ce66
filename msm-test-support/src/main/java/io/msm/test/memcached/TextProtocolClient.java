package io.msm.test.memcached;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A minimal memcached text-protocol client on one raw socket, for test assertions only. Every read is bounded by
 * the socket timeout given to {@link #connect}.
 */
final class TextProtocolClient implements Closeable {

    private static final byte[] CRLF = {'\r', '\n'};
    private static final int MAX_LINE = 64 * 1024;
    private static final int MAX_KEY_BYTES = 250;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private TextProtocolClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /**
     * Connects to a server.
     *
     * @param address       the server
     * @param timeoutMillis connect timeout and read timeout
     * @return a connected client; close it
     * @throws IOException if the connection fails
     */
    static TextProtocolClient connect(InetSocketAddress address, int timeoutMillis) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(address, timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            return new TextProtocolClient(socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends {@code version}; returns the version string. */
    String version() throws IOException {
        String line = request("version");
        if (!line.startsWith("VERSION ")) {
            throw unexpected("version", line);
        }
        return line.substring("VERSION ".length());
    }

    /** Sends {@code stats} (or {@code stats <group>}); returns name to value. */
    Map<String, String> stats(String group) throws IOException {
        String command = group == null ? "stats" : "stats " + group;
        writeLine(command);
        Map<String, String> stats = new LinkedHashMap<>();
        for (String line = readLine(); !line.equals("END"); line = readLine()) {
            if (!line.startsWith("STAT ")) {
                throw unexpected(command, line);
            }
            int space = line.indexOf(' ', 5);
            if (space < 0) {
                stats.put(line.substring(5), "");
            } else {
                stats.put(line.substring(5, space), line.substring(space + 1));
            }
        }
        return stats;
    }

    /** Sends {@code stats reset}. */
    void resetStats() throws IOException {
        expect("stats reset", "RESET");
    }

    /** Sends {@code flush_all}. */
    void flushAll() throws IOException {
        expect("flush_all", "OK");
    }

    /** Sends {@code get <key>}; returns the value or {@code null}. */
    byte[] get(String key) throws IOException {
        checkKey(key);
        String command = "get " + key;
        writeLine(command);
        String line = readLine();
        if (line.equals("END")) {
            return null;
        }
        String[] header = line.split(" ");
        if (header.length < 4 || !header[0].equals("VALUE")) {
            throw unexpected(command, line);
        }
        int length;
        try {
            length = Integer.parseInt(header[3]);
        } catch (NumberFormatException e) {
            throw unexpected(command, line);
        }
        byte[] value = in.readNBytes(length);
        if (value.length != length) {
            throw new EOFException("connection closed while reading the value of " + key);
        }
        readCrlf(command);
        String end = readLine();
        if (!end.equals("END")) {
            throw unexpected(command, end);
        }
        return value;
    }

    /** Sends {@code set <key> 0 <exptime> <length>} and the value. */
    void set(String key, byte[] value, int exptimeSeconds) throws IOException {
        checkKey(key);
        String command = "set " + key + " 0 " + exptimeSeconds + " " + value.length;
        out.write((command + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.write(value);
        out.write(CRLF);
        out.flush();
        String line = readLine();
        if (!line.equals("STORED")) {
            throw unexpected(command, line);
        }
    }

    /** Sends {@code lru_crawler metadump all}; returns the decoded keys. */
    Set<String> metadumpKeys() throws IOException {
        String command = "lru_crawler metadump all";
        writeLine(command);
        Set<String> keys = new LinkedHashSet<>();
        for (String line = readLine(); !line.equals("END"); line = readLine()) {
            if (!line.startsWith("key=")) {
                // e.g. "BUSY currently processing crawler request" or "ERROR ..."
                throw unexpected(command, line);
            }
            int space = line.indexOf(' ');
            String encoded = space < 0 ? line.substring(4) : line.substring(4, space);
            // memcached percent-encodes every byte outside [A-Za-z0-9._~-], so a literal '+' never appears.
            keys.add(URLDecoder.decode(encoded, StandardCharsets.UTF_8));
        }
        return keys;
    }

    /** Sends one command line and reads the response lines up to {@code END} (not included). */
    java.util.List<String> lines(String command) throws IOException {
        writeLine(command);
        java.util.List<String> lines = new java.util.ArrayList<>();
        for (String line = readLine(); !line.equals("END"); line = readLine()) {
            lines.add(line);
        }
        return lines;
    }

    /** Sends one command line and reads one response line. */
    String request(String command) throws IOException {
        writeLine(command);
        return readLine();
    }

    private void expect(String command, String response) throws IOException {
        String line = request(command);
        if (!line.equals(response)) {
            throw unexpected(command, line);
        }
    }

    private void writeLine(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /**
     * Reads one response line. Lines normally end with CRLF, but {@code lru_crawler metadump} ends its item lines
     * with a bare LF, so LF terminates a line and a preceding CR is dropped.
     */
    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed by memcached");
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, length, StandardCharsets.UTF_8);
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("response line longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
    }

    private void readCrlf(String command) throws IOException {
        int cr = in.read();
        int lf = in.read();
        if (cr != '\r' || lf != '\n') {
            throw new IOException("missing CRLF after the data block of: " + command);
        }
    }

    private static IOException unexpected(String command, String line) {
        return new IOException("unexpected memcached response to '" + command + "': " + line);
    }

    /**
     * Rejects keys memcached's text protocol cannot carry, so that a bad key cannot inject commands.
     *
     * @param key the key
     * @throws IllegalArgumentException if the key is invalid
     */
    static void checkKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("memcached key must not be empty");
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("memcached key longer than " + MAX_KEY_BYTES + " bytes: " + key);
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                throw new IllegalArgumentException("memcached key contains whitespace or a control character: "
                        + key);
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
