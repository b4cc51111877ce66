package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Node availability judged from the store's own connections, on real memcached processes. */
class NodeWatchIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(1).withArgs("-o", "idle_timeout=1");

    private static SessionStore watch(List<String> events) throws Exception {
        return WatchedStore.open("watch-test", MEMCACHED.nodesAttribute("n1"),
                MsmConfig.DEFAULT_OPERATION_TIMEOUT_MILLIS, events);
    }

    private static long awaitMillis(long maxMillis, BooleanSupplier condition) throws InterruptedException {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start > maxMillis * 1_000_000) {
                throw new AssertionError("not within " + maxMillis + " ms");
            }
            Thread.sleep(1); // poll interval of a bounded wait (1 ms: the delay is what is measured)
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void noticesAKilledNodeAtOnceAndItsReturn() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        try (SessionStore w = watch(events)) {
            awaitMillis(2000, () -> w.isConnected("n1"));
            MEMCACHED.server(0).kill();
            long down = awaitMillis(1000, () -> !w.isConnected("n1"));
            System.out.println("NodeWatchIT: killed node noticed after " + down + " ms");
            assertTrue(down < 500, "noticed after " + down + " ms"); // not after a retry or a timeout (seconds)
            MEMCACHED.server(0).start();
            // the watch marks the node up, then tells the listener: the event may trail isConnected
            awaitMillis(2000, () -> w.isConnected("n1") && events.size() >= 3);
            assertEquals(List.of("n1 up", "n1 down", "n1 up"), events);
        }
    }

    @Test
    void memcachedClosingAnIdleConnectionIsNoOutage() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        try (SessionStore w = watch(events)) {
            awaitMillis(2000, () -> w.isConnected("n1"));
            // memcached drops connections idle for 1 s (it checks every few seconds): the watched one repeatedly
            awaitMillis(10_000, () -> MEMCACHED.server(0).stat("idle_kicks") >= 2);
            assertEquals(List.of("n1 up"), events, "and the watch reconnected without reporting an outage");
        }
    }

    @Test
    void closingTheStoreEndsAWatchedReadAtOnce() throws Exception {
        // the watch reads on an idle connection for NodeWatch.READ_MILLIS at a time, nearly all the time: a close
        // that waited for that read would take up to that long
        assertTrue(NodeWatch.READ_MILLIS >= 200, "the bound below tells a waited-out read from an ended one");
        for (int i = 0; i < 5; i++) {
            SessionStore w = watch(new CopyOnWriteArrayList<>());
            long start;
            try {
                awaitMillis(2000, () -> w.isConnected("n1") && MEMCACHED.server(0).stat("curr_connections") >= 3);
            } finally {
                start = System.nanoTime();
                w.close();
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 200, "close took " + millis + " ms"); // without the cut: the read's 250 ms
        }
    }
}
