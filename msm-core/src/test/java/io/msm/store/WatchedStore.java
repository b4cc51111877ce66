package io.msm.store;

import io.msm.config.MsmConfig;
import io.msm.testing.TestTranscoderFactory;
import java.util.List;
import java.util.function.BooleanSupplier;

/** A text-protocol store whose connection events are written to a list ({@code "n1 up"}, {@code "n1 down"}). */
final class WatchedStore {
    private WatchedStore() {
    }

    /** @param attributes more attributes: name, value, name, value... */
    static SessionStore open(String name, String nodes, long operationTimeoutMillis, List<String> events,
            String... attributes) throws Exception {
        MsmConfig.Builder b = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, nodes)
                .set(MsmConfig.OPERATION_TIMEOUT, String.valueOf(operationTimeoutMillis))
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName());
        for (int i = 0; i < attributes.length; i += 2) {
            b.set(attributes[i], attributes[i + 1]);
        }
        MsmConfig config = b.build(WatchedStore.class.getClassLoader());
        return MemcachedSessionStore.open(config, name, new MemcachedSessionStore.ConnectionListener() {
            @Override
            public void connected(String id) {
                events.add(id + " up");
            }

            @Override
            public void disconnected(String id) {
                events.add(id + " down");
            }
        });
    }

    /** Waits until {@code condition} holds; the time it took in ms. */
    static long awaitMillis(long maxMillis, String what, BooleanSupplier condition) throws InterruptedException {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start > maxMillis * 1_000_000) {
                throw new AssertionError(what + ": not within " + maxMillis + " ms");
            }
            Thread.sleep(1); // poll interval of a bounded wait (1 ms: the delay is what is measured)
        }
        return (System.nanoTime() - start) / 1_000_000;
    }
}
