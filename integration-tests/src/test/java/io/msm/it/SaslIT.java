package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SASL against a memcached that requires it ({@code memcached -S}, Cyrus SASL with a sasldb made by
 * {@code saslpasswd2}, which {@code .ci/run} installs with the {@code sasl2-bin} package). Skipped, with the reason,
 * where {@code saslpasswd2} is missing.
 */
class SaslIT {
    private static final String USER = "tomcat";
    private static final String PASSWORD = "s3cret-sasl-pw";
    private static Path dir;
    private static Process memcached;
    private static int port;

    @BeforeAll
    static void startSaslMemcached() throws Exception {
        Path saslpasswd2 = List.of(Path.of("/usr/sbin/saslpasswd2"), Path.of("/usr/bin/saslpasswd2")).stream()
                .filter(Files::isExecutable).findFirst().orElse(null);
        Assumptions.assumeTrue(saslpasswd2 != null, "saslpasswd2 not installed (apt-get install sasl2-bin)");
        dir = Files.createTempDirectory("msm-sasl");
        Path db = dir.resolve("sasldb2");
        Process p = new ProcessBuilder(saslpasswd2.toString(), "-p", "-a", "memcached", "-c", "-f", db.toString(), USER)
                .redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(PASSWORD.getBytes(StandardCharsets.US_ASCII));
        }
        assertEquals(0, p.waitFor(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        Files.writeString(dir.resolve("memcached.conf"), "mech_list: plain\nsasldb_path: " + db + "\n");
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of(System.getenv().getOrDefault("MEMCACHED_BIN", "memcached"),
                "-S", "-l", "127.0.0.1", "-p", String.valueOf(port), "-U", "0", "-m", "16"));
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("-u", "root"));
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("memcached.log").toFile());
        pb.environment().put("SASL_CONF_PATH", dir.toString());
        memcached = pb.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            try (Binary c = new Binary()) {
                if (c.authenticate(PASSWORD) == 0) {
                    break;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline || !memcached.isAlive()) {
                throw new AssertionError("SASL memcached did not start: " + Files.readString(dir.resolve("memcached.log")));
            }
            Thread.sleep(50); // poll interval of a wait bounded by the deadline above
        }
    }

    @AfterAll
    static void stopSaslMemcached() throws Exception {
        if (memcached != null) {
            memcached.destroyForcibly().waitFor();
        }
    }

    private static EmbeddedTomcat tomcat(String route, String password) {
        return EmbeddedTomcat.on(route).with("memcachedNodes", "s1:127.0.0.1:" + port)
                .with("memcachedProtocol", "binary").with("username", USER).with("password", password).start();
    }

    @Test
    void sessionsAreStoredAndReadThroughSaslAndNothingWithoutIt() throws Exception {
        Browser b = new Browser();
        String id;
        EmbeddedTomcat tc1 = tomcat("tc1", PASSWORD);
        try {
            b.get(tc1.url("/counter"));
            assertEquals(2, b.get(tc1.url("/counter")).count());
            id = b.sessionId();
            assertTrue(tc1.manager().engine().awaitIdle(5000));
        } finally {
            tc1.close();
        }
        try (Binary anonymous = new Binary()) {
            assertEquals(Binary.AUTH_ERROR, anonymous.get(id).status, "memcached refuses clients without SASL");
        }
        try (Binary authenticated = new Binary()) {
            assertEquals(0, authenticated.authenticate(PASSWORD));
            Binary.Response r = authenticated.get(id);
            assertEquals(0, r.status, "msm stored the session through SASL");
            assertNotNull(r.value);
        }
        EmbeddedTomcat tc2 = tomcat("tc2", PASSWORD);
        try {
            assertEquals(3, b.get(tc2.url("/counter")).count(), "another Tomcat reads it through SASL");
        } finally {
            tc2.close();
        }
    }

    @Test
    void wrongPasswordNeverFailsARequestAndIsNeverLogged() throws Exception {
        String wrong = "not-the-password-4711";
        try (LogCapture log = LogCapture.of("")) {
            EmbeddedTomcat tc3 = tomcat("tc3", wrong);
            try {
                Browser b = new Browser();
                Browser.Page p = b.get(tc3.url("/counter"));
                assertEquals(200, p.status);
                assertEquals(2, b.get(tc3.url("/counter")).count(), "served from memory");
                tc3.manager().engine().awaitIdle(5000);
                try (Binary authenticated = new Binary()) {
                    assertEquals(0, authenticated.authenticate(PASSWORD));
                    assertNull(authenticated.get(b.sessionId()).value, "nothing stored without valid credentials");
                }
            } finally {
                tc3.close();
            }
            assertTrue(log.containing(wrong).isEmpty(), "the password is never logged: " + log.containing(wrong));
        }
    }

    /** A minimal memcached binary-protocol client: SASL PLAIN and get. */
    private static final class Binary implements AutoCloseable {
        static final int AUTH_ERROR = 0x20;
        private final Socket socket = new Socket("127.0.0.1", port);
        private final DataInputStream in;

        Binary() throws IOException {
            socket.setSoTimeout(5000);
            in = new DataInputStream(socket.getInputStream());
        }

        static final class Response {
            final int status;
            final byte[] value;

            Response(int status, byte[] value) {
                this.status = status;
                this.value = value;
            }
        }

        int authenticate(String password) throws IOException {
            byte[] plain = ("\0" + USER + "\0" + password).getBytes(StandardCharsets.US_ASCII);
            return send(0x21, "PLAIN", plain).status;
        }

        Response get(String key) throws IOException {
            return send(0x00, key, new byte[0]);
        }

        private Response send(int opcode, String key, byte[] value) throws IOException {
            byte[] k = key.getBytes(StandardCharsets.US_ASCII);
            ByteBuffer req = ByteBuffer.allocate(24 + k.length + value.length);
            req.put((byte) 0x80).put((byte) opcode).putShort((short) k.length).put((byte) 0).put((byte) 0)
                    .putShort((short) 0).putInt(k.length + value.length).putInt(0).putLong(0).put(k).put(value);
            socket.getOutputStream().write(req.array());
            byte[] header = new byte[24];
            in.readFully(header);
            ByteBuffer h = ByteBuffer.wrap(header);
            int extras = h.get(4) & 0xFF;
            int keyLength = h.getShort(2) & 0xFFFF;
            int status = h.getShort(6) & 0xFFFF;
            byte[] body = new byte[h.getInt(8)];
            in.readFully(body);
            byte[] v = status == 0 && opcode == 0x00
                    ? java.util.Arrays.copyOfRange(body, extras + keyLength, body.length) : null;
            return new Response(status, v);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
