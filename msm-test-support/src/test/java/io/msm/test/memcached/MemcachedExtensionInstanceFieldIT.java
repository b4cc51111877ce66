package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Registered on an instance field, every test gets fresh servers that are killed after it. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MemcachedExtensionInstanceFieldIT {

    private static final List<MemcachedServer> SEEN = new ArrayList<>();

    @RegisterExtension
    final MemcachedExtension memcached = MemcachedExtension.servers(1).withArgs("-vv");

    @Test
    @Order(1)
    void first() {
        MemcachedServer server = memcached.server(0);
        SEEN.add(server);
        assertTrue(server.isRunning());
        server.set("k", "v".getBytes(StandardCharsets.UTF_8), 0);
    }

    @Test
    @Order(2)
    void secondGetsAFreshServer() {
        MemcachedServer server = memcached.server(0);
        SEEN.add(server);
        assertFalse(SEEN.get(0).isRunning(), "the first test's server was killed after it");
        assertNull(server.get("k"));
        assertEquals(1, memcached.servers().size());
    }

    @AfterAll
    static void allServersAreGone() {
        assertEquals(2, SEEN.size());
        for (MemcachedServer server : SEEN) {
            assertFalse(server.isRunning(), server + " still running");
        }
    }
}
