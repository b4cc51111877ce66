package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ConfigEndpointServerTest {
    /** A text connection to the endpoint, reads time out after 5 s. */
    private static final class Client implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;
        final Writer out;

        Client(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(5000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            out = new java.io.OutputStreamWriter(socket.getOutputStream(), StandardCharsets.US_ASCII);
        }

        String ask(String line) throws IOException {
            out.write(line + "\r\n");
            out.flush();
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static List<Thread> threadsOf(ConfigEndpointServer endpoint) {
        String prefix = "config-endpoint-" + endpoint.port();
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix))
                .collect(Collectors.toList());
    }

    @Test
    void answersOtherCommandsAsMemcachedDoes() throws IOException {
        try (ConfigEndpointServer endpoint = ConfigEndpointServer.start(); Client c = new Client(endpoint.port())) {
            assertEquals("SERVER_ERROR no node list set by the test", c.ask("config get cluster"));
            assertEquals("VERSION 1.6.18", c.ask("version"));
            assertEquals("ERROR", c.ask("get somekey"));
            assertEquals("ERROR", c.ask(""));
            assertEquals("CLIENT_ERROR line too long", c.ask("x".repeat(3000)));
            assertEquals(null, c.in.readLine(), "closed after a line too long");
            assertEquals(1, endpoint.questions());
        }
    }

    @Test
    void answersTheDocumentedFraming() throws IOException {
        try (ConfigEndpointServer endpoint = ConfigEndpointServer.start(); Client c = new Client(endpoint.port())) {
            endpoint.nodes("a.example|10.0.0.1|11211");
            assertEquals("CONFIG cluster 0 27", c.ask("config get cluster"));
            assertEquals("1", c.in.readLine());
            assertEquals("a.example|10.0.0.1|11211", c.in.readLine());
            assertEquals("", c.in.readLine());
            assertEquals("END", c.in.readLine());
            assertEquals("VALUE AmazonElastiCache:cluster 0 27", c.ask("get AmazonElastiCache:cluster"));
            c.in.readLine();
            c.in.readLine();
            c.in.readLine();
            assertEquals("END", c.in.readLine());
            c.ask("quit");
            assertEquals(null, c.in.readLine(), "quit closes the connection");
        }
    }

    @Test
    void stopEndsEveryThreadAndRestartListensOnTheSamePort() throws IOException {
        ConfigEndpointServer endpoint = ConfigEndpointServer.start();
        try (Client a = new Client(endpoint.port()); Client b = new Client(endpoint.port())) {
            assertEquals("VERSION 1.6.18", a.ask("version"));
            assertEquals("VERSION 1.6.18", b.ask("version"));
            assertEquals(3, threadsOf(endpoint).size(), "accept + two connections: " + threadsOf(endpoint));
            endpoint.stop();
            assertEquals(List.of(), threadsOf(endpoint));
            assertFalse(endpoint.isRunning());
            assertEquals(null, a.in.readLine());
        }
        endpoint.restart();
        assertTrue(endpoint.isRunning());
        assertThrows(IllegalStateException.class, endpoint::restart);
        try (Client c = new Client(endpoint.port())) {
            assertEquals("VERSION 1.6.18", c.ask("version"));
        }
        assertEquals(3, endpoint.connections());
        endpoint.close();
        assertEquals(List.of(), threadsOf(endpoint));
    }
}
