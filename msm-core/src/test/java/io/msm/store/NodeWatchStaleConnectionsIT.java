package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A killed node whose pool held many idle connections (a Tomcat under load) is reported down once, and not "up" again
 * until memcached accepts connections again: the pool's other idle connections, half-closed by the kill, are no sign
 * of life.
 */
class NodeWatchStaleConnectionsIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(1);

    @Test
    void aKilledNodeWithManyIdleConnectionsIsReportedDownOnceAndNotUpWhileDead() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        try (SessionStore store = WatchedStore.open("stale-test", MEMCACHED.nodesAttribute("n1"),
                MsmConfig.DEFAULT_OPERATION_TIMEOUT_MILLIS, events)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!store.isConnected("n1") && System.nanoTime() < deadline) {
                Thread.sleep(5); // poll interval of a bounded wait
            }
            // 8 calls at once: each takes a connection of its own, and all 8 go back to the pool idle
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Thread t = new Thread(() -> {
                    try {
                        start.await();
                        for (int j = 0; j < 20; j++) {
                            store.get("n1", "k" + j, 1000);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                t.start();
                callers.add(t);
            }
            start.countDown();
            for (Thread t : callers) {
                t.join(10_000);
            }
            MEMCACHED.server(0).kill();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (store.isConnected("n1") && System.nanoTime() < deadline) {
                Thread.sleep(1); // poll interval of a bounded wait
            }
            // real time is the subject: the watch retries a dead node every 250 ms; 3 s are a dozen retries
            Thread.sleep(3000);
            assertEquals(List.of("n1 up", "n1 down"), events, "while the node stays dead");
        }
    }
}
