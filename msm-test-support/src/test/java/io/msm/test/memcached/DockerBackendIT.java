package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Testcontainers fallback, forced with {@code memcached.backend=docker}. Runs only where a Docker engine is
 * usable; skipped otherwise. The tests run in any order; only {@link ResetBetweenTests} orders its two.
 */
@EnabledIf("dockerAvailable")
class DockerBackendIT {

    @RegisterExtension
    static final MemcachedExtension memcached = MemcachedExtension.servers(2)
            .withBackendEnvironment(MemcachedBackend.Environment.of(
                    name -> name.equals(MemcachedBackend.BACKEND_PROPERTY) ? "docker" : System.getProperty(name),
                    System::getenv, path -> false, DockerBackendIT::dockerAvailable));

    private static int port0;

    static boolean dockerAvailable() {
        try {
            return DockerMemcachedServer.isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    @BeforeAll
    static void rememberPort() {
        port0 = memcached.server(0).port();
    }

    @Test
    void serversRunInContainersOnLoopbackPorts() {
        assertEquals(port0, memcached.server(0).port());
        assertNotEquals(port0, memcached.server(1).port());
        for (MemcachedServer server : memcached.servers()) {
            assertTrue(server instanceof DockerMemcachedServer, server.getClass().getName());
            assertEquals("127.0.0.1", server.host());
            assertTrue(server.version().startsWith("1.6"), server.version());
        }
        memcached.server(0).set("k", bytes("v"), 0);
        assertArrayEquals(bytes("v"), memcached.server(0).get("k"));
        assertEquals(1, memcached.server(0).stat("cmd_set"));
    }

    @Test
    void killThenStartGivesAnEmptyServerOnTheSamePort() {
        MemcachedServer server = memcached.server(0);
        server.set("k", bytes("v"), 0);
        server.kill();
        assertFalse(server.isRunning());
        assertThrows(ConnectException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port0), 1_000);
                // with Docker's userland proxy a connect may succeed and be closed at once
                socket.setSoTimeout(1_000);
                if (socket.getInputStream().read() < 0) {
                    throw new ConnectException("closed by the proxy");
                }
            }
        });
        server.start();
        assertEquals(port0, server.port());
        assertNull(server.get("k"));
    }

    @Test
    void pauseAndResume() throws IOException {
        MemcachedServer server = memcached.server(1);
        server.pause();
        assertTrue(server.isPaused());
        try (Socket socket = new Socket()) {
            socket.connect(server.address(), 1_000);
            socket.setSoTimeout(500);
            socket.getOutputStream().write(bytes("version\r\n"));
            InputStream in = socket.getInputStream();
            assertThrows(SocketTimeoutException.class, in::read);
        }
        server.resume();
        assertTrue(server.version().startsWith("1.6"));
    }

    /** What one test leaves broken, the next finds running and empty: ordered, it is the subject. */
    @Nested
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    class ResetBetweenTests {
        @Test
        @Order(1)
        void leaveThemBroken() {
            memcached.server(0).set("left", bytes("x"), 0);
            memcached.server(0).stop();
            memcached.server(1).pause();
        }

        @Test
        @Order(2)
        void theNextTestFindsThemRunningAndEmpty() {
            assertEquals(port0, memcached.server(0).port());
            for (MemcachedServer server : memcached.servers()) {
                assertTrue(server.isRunning());
                assertFalse(server.isPaused());
                assertNull(server.get("left"));
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
