package io.msm.benchmarks.e2e;

import io.msm.config.MsmConfig;
import io.msm.store.MemcachedSessionStore;
import io.msm.store.SessionStore;
import io.msm.test.memcached.MemcachedExtension;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.MemcachedClient;

/**
 * What one waited-for memcached call costs the JVM that makes it: 4 threads, each doing {@code set} + get of its own
 * 2 KB value against one memcached on loopback, through spymemcached's client (as msm made these calls before) and
 * through msm's store (blocking connections on the text protocol). Reports calls/s and the process's CPU time per
 * call; both clients run in turn, twice, in one JVM.
 *
 * <pre>java -cp msm-benchmarks/target/benchmarks.jar io.msm.benchmarks.e2e.StoreCallBenchmark [--seconds 8]</pre>
 */
public final class StoreCallBenchmark {
    private static final int THREADS = 4;
    private static final String NODE = "n1";

    private StoreCallBenchmark() {
    }

    /** One thread's loop body: a set and a get of {@code key}. */
    private interface Pair {
        void run(String key, byte[] value) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        long seconds = args.length == 2 && args[0].equals("--seconds") ? Long.parseLong(args[1]) : 8;
        MemcachedExtension memcached = MemcachedExtension.servers(1);
        memcached.startServers();
        try {
            InetSocketAddress address = memcached.server(0).address();
            MemcachedClient spy = new MemcachedClient(new ConnectionFactoryBuilder()
                    .setProtocol(ConnectionFactoryBuilder.Protocol.TEXT).setUseNagleAlgorithm(false)
                    .setDaemon(true).build(), List.of(address));
            MsmConfig config = MsmConfig.builder()
                    .set(MsmConfig.MEMCACHED_NODES, memcached.nodesAttribute(NODE))
                    .build(StoreCallBenchmark.class.getClassLoader());
            SessionStore store = MemcachedSessionStore.open(config, MemcachedSessionStore.ConnectionListener.NONE);
            try {
                System.out.printf(Locale.ROOT, "Store calls: Java %s, %d CPUs, %d threads, %d s per run, set + get of"
                        + " 2 KB%n", System.getProperty("java.version"),
                        Runtime.getRuntime().availableProcessors(), THREADS, seconds);
                for (int round = 1; round <= 2; round++) {
                    run("spymemcached client", round, seconds, (key, value) -> {
                        spy.set(key, 100, value).get(1, TimeUnit.SECONDS);
                        spy.asyncGet(key).get(1, TimeUnit.SECONDS);
                    });
                    run("msm store", round, seconds, (key, value) -> {
                        store.set(NODE, key, 100, value, 1000);
                        store.getWithTtl(NODE, key, SessionStore.KEEP_EXPIRATION, 1000);
                    });
                }
            } finally {
                store.close();
                spy.shutdown(1, TimeUnit.SECONDS);
            }
        } finally {
            memcached.stopServers();
        }
    }

    private static void run(String name, int round, long seconds, Pair pair) throws InterruptedException {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        AtomicLong calls = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long cpuBefore = os.getProcessCpuTime();
        long start = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            String key = "call-benchmark-" + t;
            byte[] value = new byte[2048];
            new Random(t).nextBytes(value);
            Thread thread = new Thread(() -> {
                try {
                    long n = 0;
                    while (System.nanoTime() < end) {
                        pair.run(key, value);
                        n += 2;
                    }
                    calls.addAndGet(n);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long cpu = os.getProcessCpuTime() - cpuBefore;
        System.out.printf(Locale.ROOT, "  round %d  %-20s %,9.0f calls/s  %5.1f µs CPU/call%n", round, name,
                calls.get() / elapsed, cpu / 1000.0 / calls.get());
    }
}
