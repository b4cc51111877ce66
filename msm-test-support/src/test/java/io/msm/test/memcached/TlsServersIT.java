package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.tls.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Servers started {@link MemcachedExtension#withTls with TLS}: what a TLS client sees on the main port (the right
 * certificate, the wrong-host one refused by hostname verification, client certificates required), and that the
 * extension's own work goes through the plain-text port, across restarts too.
 */
class TlsServersIT {

    private static final int TIMEOUT_MILLIS = 2_000;

    @RegisterExtension
    static final MemcachedExtension tls = MemcachedExtension.servers(1).withTls(MemcachedTls.serverCertificate());

    @RegisterExtension
    static final MemcachedExtension wrongHost = MemcachedExtension.servers(1).withTls(MemcachedTls.wrongHost());

    @RegisterExtension
    static final MemcachedExtension mutual = MemcachedExtension.servers(1)
            .withTls(MemcachedTls.serverCertificate().requireClientCertificate());

    private final TestCertificates certs = TestCertificates.get();

    @Test
    void tlsPortAnswersAClientThatTrustsTheTestCaAndVerifiesTheHostName() throws IOException {
        MemcachedServer server = tls.server(0);
        assertTrue(server.isTls());
        assertNotEquals(server.port(), server.plainPort());
        try (SSLSocket socket = connectTls(certs.clientSslContext(false), server.port(), true)) {
            assertEquals("VERSION " + server.version(), exchange(socket, "version"));
            assertEquals("CN=localhost,O=msm tests", socket.getSession().getPeerPrincipal().getName());
        }
        try (Socket plain = connectPlain(server.plainPort())) {
            assertEquals("VERSION " + server.version(), exchange(plain, "version"));
        }
        assertTrue(tls.nodesAttribute("n1").endsWith(":127.0.0.1:" + server.port()), tls.nodesAttribute("n1"));
    }

    @Test
    void dataWrittenOverTlsIsSeenByTheAccessors() throws IOException {
        MemcachedServer server = tls.server(0);
        try (SSLSocket socket = connectTls(certs.clientSslContext(false), server.port(), true)) {
            assertEquals("STORED", exchange(socket, "set k 0 0 2\r\nhi"));
        }
        assertEquals("hi", new String(server.get("k"), StandardCharsets.US_ASCII));
        assertTrue(server.keys().contains("k"));
    }

    @Test
    void theTlsPortSpeaksNoPlainText() throws IOException {
        try (Socket plain = connectPlain(tls.server(0).port())) {
            String answer;
            try {
                answer = exchange(plain, "version");
            } catch (IOException e) {
                answer = e.toString(); // memcached may close the connection: also not an answer
            }
            assertFalse(answer.startsWith("VERSION"), answer);
        }
    }

    @Test
    void aClientTrustingAnotherCaRefusesTheServer() {
        SSLContext other = certs.sslContext(certs.otherCaTrustStore(), null);
        SSLHandshakeException e = assertThrows(SSLHandshakeException.class,
                () -> connectTls(other, tls.server(0).port(), true).close());
        assertTrue(String.valueOf(e.getMessage()).contains("PKIX"), e.toString());
    }

    @Test
    void wrongHostCertificateFailsHostnameVerificationOnly() throws IOException {
        int port = wrongHost.server(0).port();
        SSLHandshakeException e = assertThrows(SSLHandshakeException.class,
                () -> connectTls(certs.clientSslContext(false), port, true).close());
        assertTrue(hasCause(e, CertificateException.class) && e.getMessage().contains("127.0.0.1"), e.toString());
        // the same client without hostname verification accepts it: the issuer is trusted, only the name is wrong
        try (SSLSocket socket = connectTls(certs.clientSslContext(false), port, false)) {
            assertEquals("CN=wrong-host.invalid,O=msm tests", socket.getSession().getPeerPrincipal().getName());
            assertTrue(exchange(socket, "version").startsWith("VERSION "));
        }
    }

    @Test
    void aServerRequiringClientCertificatesRefusesClientsWithoutOneAndAcceptsTheTestClient() throws IOException {
        int port = mutual.server(0).port();
        assertRefused(certs.clientSslContext(false), port);
        // the JDK's key manager offers no certificate of an issuer the server did not name, so this one sends none
        assertRefused(certs.sslContext(certs.trustStore(), certs.otherClientKeyStore()), port);
        assertTrue(versionOverTls(certs.clientSslContext(true), port).startsWith("VERSION "));
        // the plain port is for the test support itself and needs no certificate
        assertTrue(mutual.server(0).version().startsWith("1."));
    }

    @Test
    void killStopAndPauseKeepBothPortsAndTls() throws IOException {
        MemcachedServer server = tls.server(0);
        int port = server.port();
        int plainPort = server.plainPort();
        server.kill();
        server.start();
        assertEquals(port, server.port());
        assertEquals(plainPort, server.plainPort());
        assertTrue(versionOverTls(certs.clientSslContext(false), port).startsWith("VERSION "));
        server.stop();
        server.start();
        assertTrue(versionOverTls(certs.clientSslContext(false), port).startsWith("VERSION "));
        server.pause();
        server.resume();
        assertTrue(versionOverTls(certs.clientSslContext(false), port).startsWith("VERSION "));
        try (Socket plain = connectPlain(plainPort)) {
            assertTrue(exchange(plain, "version").startsWith("VERSION "));
        }
    }

    @Test
    void theResetBeforeEachTestRestartsAKilledServerWithTls() throws IOException {
        MemcachedServer server = mutual.server(0);
        int port = server.port();
        server.kill();
        ((AbstractMemcachedServer) server).prepareForTest();
        assertTrue(server.isRunning());
        assertEquals(port, server.port());
        assertRefused(certs.clientSslContext(false), port);
        assertTrue(versionOverTls(certs.clientSslContext(true), port).startsWith("VERSION "));
    }

    @Test
    void openTlsConnectionsCountAsClientConnections() throws IOException {
        MemcachedServer server = tls.server(0);
        try (SSLSocket socket = connectTls(certs.clientSslContext(false), server.port(), true)) {
            assertTrue(exchange(socket, "version").startsWith("VERSION "));
            assertEquals(MemcachedServer.IDLE_CONNECTIONS + 1, server.currentConnections());
            assertThrows(AssertionError.class, () -> tls.assertNoClientConnections(Duration.ofMillis(100)));
        }
        tls.assertNoClientConnections(Duration.ofSeconds(2));
    }

    @Test
    void commandLineHasATlsAndAPlainListener() {
        ProcessMemcachedServer server = new ProcessMemcachedServer(0, java.nio.file.Path.of("/bin/memcached"),
                java.util.List.of("-o", "ssl_min_version=3"), MemcachedTls.serverCertificate(),
                java.nio.file.Path.of("logs"));
        String command = String.join(" ", server.command(1000, 1001));
        assertTrue(command.startsWith("/bin/memcached -l 127.0.0.1:1000 -l notls:127.0.0.1:1001 -p 1000 "), command);
        assertTrue(command.contains(" -Z -o ssl_chain_cert=" + certs.server().chainPem().toAbsolutePath()
                + ",ssl_key=" + certs.server().keyPem().toAbsolutePath() + " "), command);
        assertTrue(command.endsWith(" -o ssl_min_version=3"), command);
        assertFalse(command.contains("ssl_verify_mode"), command);
    }

    /**
     * With TLS 1.3 the client's handshake is done before the server checks the client's certificate, so the refusal
     * comes later: as the server's alert ({@code certificate_required}) on the first read, or, when the server has
     * closed the connection before the client writes, as a broken pipe or reset. Never an answer or a timeout.
     */
    private static void assertRefused(SSLContext context, int port) {
        IOException e = assertThrows(IOException.class, () -> versionOverTls(context, port));
        assertFalse(hasCause(e, SocketTimeoutException.class), e.toString());
        assertTrue(e instanceof SSLException || e instanceof SocketException, e.toString());
    }

    private static String versionOverTls(SSLContext context, int port) throws IOException {
        try (SSLSocket socket = connectTls(context, port, true)) {
            return exchange(socket, "version");
        }
    }

    /** A TLS connection to 127.0.0.1, handshake done; with {@code verifyHost} the JDK checks the name as HTTPS does. */
    private static SSLSocket connectTls(SSLContext context, int port, boolean verifyHost) throws IOException {
        Socket plain = connectPlain(port);
        try {
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, "127.0.0.1", port, true);
            if (verifyHost) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
            }
            socket.startHandshake();
            return socket;
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    private static Socket connectPlain(int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends one command and reads the first line of the answer (bounded by the read timeout and 1 KiB). */
    private static String exchange(Socket socket, String command) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int i = 0; i < 1024; i++) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after '" + line.toString(StandardCharsets.US_ASCII) + "'");
            }
            if (b == '\n') {
                break;
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII).strip();
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }
}
