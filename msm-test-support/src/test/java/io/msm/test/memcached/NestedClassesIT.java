package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestClassOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A static extension keeps its servers (and ports) through {@code @Nested} classes. */
@TestClassOrder(ClassOrderer.OrderAnnotation.class)
class NestedClassesIT {

    @RegisterExtension
    static final MemcachedExtension memcached = MemcachedExtension.servers(1);

    private static int port;

    @BeforeAll
    static void rememberPort() {
        port = memcached.server(0).port();
    }

    @Test
    void outer() {
        memcached.server(0).set("outer", "1".getBytes(StandardCharsets.UTF_8), 0);
        assertEquals(port, memcached.server(0).port());
    }

    @Nested
    @Order(1)
    class Inner {
        @Test
        void innerSeesTheSameRunningCleanServer() {
            MemcachedServer server = memcached.server(0);
            assertEquals(port, server.port());
            assertTrue(server.isRunning());
            assertNull(server.get("outer"));
            server.kill();
        }
    }

    @Nested
    @Order(2)
    class AfterInner {
        @Test
        void serversSurviveTheEndOfANestedClass() {
            MemcachedServer server = memcached.server(0);
            assertEquals(port, server.port());
            assertTrue(server.isRunning(), "restarted after Inner killed it, and not shut down when Inner ended");
        }
    }
}
