package io.msm.store;

import static io.msm.store.WatchedStore.awaitMillis;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.net.TcpProxy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A memcached that restarted (empty) is reported down and up, however fast it came back, so that the engine stores
 * again what it had stored there. Behind a {@link TcpProxy}, on real memcached processes: the proxy moving to another
 * memcached is a restart no connect ever saw refused.
 */
class NodeWatchRestartIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

    @Test
    void aMemcachedReplacedBeforeAnyConnectWasRefusedIsReportedDownAndUp() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        try (TcpProxy proxy = TcpProxy.to(MEMCACHED.server(0).port());
                SessionStore store = WatchedStore.open("restart-test", "n1:127.0.0.1:" + proxy.port(), 1000,
                        events)) {
            awaitMillis(2000, "n1 up", () -> store.isConnected("n1"));
            store.set("n1", "k", 0, VALUE, 1000);
            assertArrayEquals(VALUE, store.get("n1", "k", 1000));

            proxy.retarget(MEMCACHED.server(1).port()); // another process, empty: a restart with no moment refused

            awaitMillis(2000, "down and up reported", () -> events.size() >= 3);
            assertEquals(List.of("n1 up", "n1 down", "n1 up"), events);
            assertNull(store.get("n1", "k", 1000), "the node restarted empty: what the engine re-stores");
        }
    }

    @Test
    void aNodeBehindAProxyThatStillAcceptsIsReportedDownWhileItsMemcachedIsDead() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        try (TcpProxy proxy = TcpProxy.to(MEMCACHED.server(0).port());
                SessionStore store = WatchedStore.open("proxied-test", "n1:127.0.0.1:" + proxy.port(), 1000,
                        events)) {
            awaitMillis(2000, "n1 up", () -> store.isConnected("n1"));
            // the proxy accepts every connect and closes it when memcached refuses (as a userland port forwarder)
            MEMCACHED.server(0).kill();
            awaitMillis(1000, "n1 down", () -> !store.isConnected("n1"));
            MEMCACHED.server(0).start();
            awaitMillis(2000, "n1 up again", () -> store.isConnected("n1"));
            assertEquals(List.of("n1 up", "n1 down", "n1 up"), events);
        }
    }

    /**
     * Behind a forwarder, memcached comes up between the watch's connect that asks which process it is (closed, as
     * nothing served yet) and its next one, asked nothing, which stays open. Reported up without knowing the process,
     * its next restart (no connect refused in between) went unseen; the watch now asks once more before it says up.
     */
    @Test
    void aNodeThatComesUpBetweenTheWatchsTwoConnectsIsAskedWhichProcessItIs() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        MEMCACHED.server(0).kill();
        try (TcpProxy proxy = TcpProxy.to(MEMCACHED.server(0).port());
                SessionStore store = WatchedStore.open("came-up-between-test", "n1:127.0.0.1:" + proxy.port(), 1000,
                        events)) {
            awaitMillis(2000, "a first try", () -> proxy.accepted() > 0);
            proxy.closeNextForwardable(1); // the first connect once memcached is there: closed as before it was
            MEMCACHED.server(0).start();
            awaitMillis(2000, "n1 up", () -> store.isConnected("n1"));
            proxy.retarget(MEMCACHED.server(1).port()); // a restart with no refused connect
            awaitMillis(2000, "down and up reported", () -> events.size() >= 3);
            assertEquals(List.of("n1 up", "n1 down", "n1 up"), events);
        } finally {
            if (!MEMCACHED.server(0).isRunning()) {
                MEMCACHED.server(0).start();
            }
        }
    }

    @Test
    void aNodeBehindAProxyWhoseMemcachedIsDeadAtStartIsDownRetriedAtItsPaceAndItsRestartsSeen() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        MEMCACHED.server(0).kill(); // before the context starts: the proxy accepts, then closes (nothing behind)
        try (TcpProxy proxy = TcpProxy.to(MEMCACHED.server(0).port());
                SessionStore store = WatchedStore.open("dead-at-start-test", "n1:127.0.0.1:" + proxy.port(), 1000,
                        events)) {
            // real time is the subject: how often the watch connects to a node that is down
            Thread.sleep(1000);
            assertEquals(List.of(), events, "nothing serves behind the proxy");
            // a try every RETRY_MILLIS (4 in 1 s) of at most 2 connects, with room for a slow machine; not one per loop
            int tries = proxy.accepted();
            assertTrue(tries <= 2 * (1000 / NodeWatch.RETRY_MILLIS + 2), tries + " connects in 1 s");

            MEMCACHED.server(0).start();
            awaitMillis(2000, "n1 up", () -> store.isConnected("n1"));
            proxy.retarget(MEMCACHED.server(1).port()); // its restarts are seen as any node's
            awaitMillis(2000, "down and up reported", () -> events.size() >= 3);
            assertEquals(List.of("n1 up", "n1 down", "n1 up"), events);
        } finally {
            if (!MEMCACHED.server(0).isRunning()) {
                MEMCACHED.server(0).start();
            }
        }
    }
}
