package io.msm.it;

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
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
