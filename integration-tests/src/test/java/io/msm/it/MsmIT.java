package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import io.msm.tomcat.MemcachedSessionManager;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Base of the integration tests: two real memcached nodes (n1, n2) and Tomcats closed after each test. */
abstract class MsmIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private final List<EmbeddedTomcat> tomcats = new ArrayList<>();

    /** {@code n1:127.0.0.1:p1,n2:127.0.0.1:p2}. */
    static String nodes() {
        return MEMCACHED.nodesAttribute("n1", "n2");
    }

    /** The memcached server of a node id. */
    static MemcachedServer server(String nodeId) {
        switch (nodeId) {
            case "n1": return MEMCACHED.server(0);
            case "n2": return MEMCACHED.server(1);
            default: throw new IllegalArgumentException(nodeId);
        }
    }

    /** The node id in an msm session id {@code <random>-<node>.<route>}. */
    static String nodeOf(String sessionId) {
        String base = sessionId.split("\\.", 2)[0];
        return base.substring(base.lastIndexOf('-') + 1);
    }

    static String routeOf(String sessionId) {
        return sessionId.split("\\.", 2)[1];
    }

    static String randomOf(String sessionId) {
        String base = sessionId.split("\\.", 2)[0];
        return base.substring(0, base.lastIndexOf('-'));
    }

    /** A Tomcat with msm on both memcached nodes, closed after the test. */
    EmbeddedTomcat tomcat(String route, String... attributes) {
        EmbeddedTomcat.Builder b = EmbeddedTomcat.on(route).with("memcachedNodes", nodes());
        for (int i = 0; i < attributes.length; i += 2) {
            b.with(attributes[i], attributes[i + 1]);
        }
        return track(b.start());
    }

    EmbeddedTomcat track(EmbeddedTomcat t) {
        tomcats.add(t);
        return t;
    }

    @AfterEach
    void stopTomcats() {
        for (EmbeddedTomcat t : tomcats) {
            t.close();
        }
        tomcats.clear();
    }

    /** The large item {@link #startLargeSession} puts in the cart. */
    static final String LARGE_ITEM = "x".repeat(3000);

    /**
     * Starts a session large enough to be stored in chunks: a 40,000-character {@code history} set on {@code first},
     * then a cart (a list changed in place) holding {@link #LARGE_ITEM}, from {@code second}.
     */
    static void startLargeSession(Browser b, EmbeddedTomcat first, EmbeddedTomcat second) {
        assertEquals(200, b.get(first.url("/big?name=history&size=40000")).status);
        assertEquals(200, b.get(second.url("/cart?add=" + LARGE_ITEM)).status);
    }

    /** Asserts that the session is stored in chunks and that {@code t} reads it with this cart and counter. */
    static void assertLargeSession(Browser b, EmbeddedTomcat t, String cart, int count) {
        String id = b.sessionId();
        assertEquals(2, server(nodeOf(id)).get(id)[4], "stored in chunks (format version 2)");
        String dump = b.get(t.url("/dump")).body;
        assertTrue(dump.contains("cart:[" + cart + "],count:" + count + ",history:" + "a".repeat(40000) + " "),
                dump.length() > 300 ? dump.substring(0, 300) : dump);
    }

    /**
     * Asserts that {@code value} is a tombstone ("MSMX", never a blob): what non-sticky mode leaves under the key of a
     * session that ended (invalidated, timed out, expired by id), until any copy of it would have expired, so a
     * request of it ending later on any Tomcat cannot store it again (its conditional write finds the tombstone).
     */
    static void assertTombstone(byte[] value, String what) {
        assertEquals("MSMX", value == null ? null : new String(value, java.nio.charset.StandardCharsets.ISO_8859_1),
                what);
    }

    /** Waits until the manager's backup threads are done, so memcached holds what the last request changed. */
    static void awaitBackups(EmbeddedTomcat t) {
        MemcachedSessionManager m = t.manager();
        assertTrue(m.engine().awaitIdle(5000), "backups of " + t.route() + " still running");
    }

    static void await(String what, long maxMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + maxMillis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + maxMillis + " ms waiting for " + what);
            }
            try {
                Thread.sleep(20); // poll interval of a wait bounded by its deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
