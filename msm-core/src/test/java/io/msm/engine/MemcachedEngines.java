package io.msm.engine;

import static io.msm.test.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.testing.TestTranscoderFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Engines on real memcached as the ITs of ended sessions' deletes start them (the counterpart of {@link FakeEngine}):
 * nodes n1 and n2 are the extension's servers 0 and 1, the key prefix is {@code p_} for every engine (Tomcats serving
 * the same sessions), and the operation timeout is the default, so a paused node is given up on after one call.
 */
final class MemcachedEngines {
    /** The default: a paused node is given up on after it, once. */
    static final int OPERATION_TIMEOUT = 1000;
    private final MemcachedExtension memcached;
    private final AtomicInteger ids = new AtomicInteger();

    MemcachedEngines(MemcachedExtension memcached) {
        this.memcached = memcached;
    }

    /** An engine of webapp {@code name} on n1 and n2. */
    SessionEngine start(String name, boolean sticky) {
        return start(name, memcached.nodesAttribute("n1", "n2"), sticky);
    }

    /** An engine of webapp {@code name} on {@code nodes} (a proxy in front of one, say). */
    SessionEngine start(String name, String nodes, boolean sticky) {
        ClassLoader loader = MemcachedEngines.class.getClassLoader();
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, nodes)
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .set(MsmConfig.OPERATION_TIMEOUT, String.valueOf(OPERATION_TIMEOUT))
                .set(MsmConfig.STICKY, String.valueOf(sticky)).build(loader);
        return SessionEngine.start(config, new EngineContext(name, loader, null, "p_", System::currentTimeMillis));
    }

    /** A session id not used before, on {@code node}. */
    String newId(String node) {
        return String.format("%032X", ids.incrementAndGet()) + "-" + node;
    }

    /** A logged-in session on n1, stored by {@code e}, still held by {@code e}. */
    TestSession loggedIn(SessionEngine e) {
        TestSession s = new TestSession(newId("n1"), System.currentTimeMillis());
        e.created(s);
        e.requestStarted(s);
        s.set("user", "alice");
        e.requestEnded(s);
        assertTrue(e.awaitIdle(5000));
        return s;
    }

    /** {@code node} is paused (its data survives) and {@code e} has given up on it (a load there timed out). */
    void pausedAndGivenUp(SessionEngine e, String node) throws InterruptedException {
        memcached.server(server(node)).pause();
        LoadResult r = e.load(newId(node)); // times out: the node is suspect
        assertEquals(LoadResult.Status.UNAVAILABLE, r.status(), r.reason());
        await(node + " unavailable", 5000, () -> !e.availableNodes().contains(node));
    }

    /** The index of {@code node}'s server: n1 is 0, n2 is 1. */
    static int server(String node) {
        return Integer.parseInt(node.substring(1)) - 1;
    }

    /** {@code e}'s nodes but {@code node} (as discovery would list them after removing it). */
    static List<MemcachedNode> without(SessionEngine e, String node) {
        return e.nodes().stream().filter(n -> !n.id().equals(node)).collect(Collectors.toList());
    }
}
