package io.msm.benchmarks.e2e;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.tomcat.MemcachedSessionManager;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;

/**
 * Scale: many live sessions in one sticky Tomcat and in memcached. Creates {@code --sessions} sessions (the typical
 * ~2 KB model, one request each), then reports the heap they take in Tomcat and the bytes they take in memcached;
 * kills the memcached node holding about half of them and times how long one request each takes to move
 * {@code --takeover} of them to the other node; and times another Tomcat loading {@code --takeover} sessions from
 * memcached (a Tomcat failover). Run: {@code java -Xmx2g -cp msm-benchmarks/target/benchmarks.jar
 * io.msm.benchmarks.e2e.ScaleBenchmark [--sessions 100000] [--takeover 10000]}.
 */
public final class ScaleBenchmark {
    private static final Logger[] QUIET = {Logger.getLogger("org.apache"), Logger.getLogger("io.msm"),
        Logger.getLogger("net.spy")};

    private ScaleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int sessions = Integer.parseInt(o.getOrDefault("sessions", "100000"));
        int takeover = Integer.parseInt(o.getOrDefault("takeover", "10000"));
        for (Logger l : QUIET) {
            l.setLevel(Level.SEVERE);
        }
        MemcachedExtension memcached = MemcachedExtension.servers(2).withArgs("-m", "2048");
        memcached.startServers();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        Tomcat tc1 = null;
        Tomcat tc2 = null;
        try {
            String nodes = memcached.nodesAttribute("n1", "n2");
            System.out.printf(Locale.ROOT, "Scale: Java %s, %d CPUs, max heap %d MB, %,d sessions, %,d taken over%n",
                    System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
                    Runtime.getRuntime().maxMemory() >> 20, sessions, takeover);
            // the baseline: the same sessions in a StandardManager
            Tomcat plain = EndToEndBenchmark.start(Map.of(), nodes);
            try {
                long before = usedHeapAfterGc(memory);
                createSessions(plain.getConnector().getLocalPort(), sessions);
                System.out.printf(Locale.ROOT, "StandardManager, heap per session: %,d bytes%n",
                        (usedHeapAfterGc(memory) - before) / sessions);
            } finally {
                plain.stop();
                plain.destroy();
            }
            tc1 = EndToEndBenchmark.start(Map.of("sticky", "true"), nodes);
            MemcachedSessionManager m1 = manager(tc1);
            int port1 = tc1.getConnector().getLocalPort();

            long heapBefore = usedHeapAfterGc(memory);
            long start = System.nanoTime();
            List<String> ids = createSessions(port1, sessions);
            double createSeconds = (System.nanoTime() - start) / 1e9;
            m1.engine().awaitIdle(600_000);
            double storedSeconds = (System.nanoTime() - start) / 1e9;
            long heapAfter = usedHeapAfterGc(memory);
            long bytes = memcached.server(0).stat("bytes") + memcached.server(1).stat("bytes");
            long items = memcached.server(0).stat("curr_items") + memcached.server(1).stat("curr_items");
            System.out.printf(Locale.ROOT, "created %,d sessions in %.1f s (%,.0f/s), all in memcached after %.1f s;"
                    + " %,d items in memcached%n", sessions, createSeconds, sessions / createSeconds, storedSeconds,
                    items);
            System.out.printf(Locale.ROOT, "msm sticky, heap per session: %,d bytes (%,d MB for all, after GC)%n",
                    (heapAfter - heapBefore) / sessions, (heapAfter - heapBefore) >> 20);
            System.out.printf(Locale.ROOT, "memcached bytes per session: %,d (%,d MB for all)%n", bytes / items,
                    bytes >> 20);

            // a memcached node dies: the next request of each of its sessions moves it to the other node
            List<String> onN1 = new ArrayList<>();
            for (String id : ids) {
                if (id.contains("-n1.") && onN1.size() < takeover) {
                    onN1.add(id);
                }
            }
            memcached.server(0).kill();
            long waitStart = System.nanoTime();
            while (m1.getMsmAvailableNodes().contains("n1") && System.nanoTime() - waitStart < 10_000_000_000L) {
                Thread.sleep(10);
            }
            long moveStart = System.nanoTime();
            List<String> moved = new ArrayList<>(onN1.size());
            try (KeepAliveClient c = new KeepAliveClient(port1)) {
                for (String id : onN1) {
                    c.sessionId(id);
                    check(c.get("/change"));
                    moved.add(c.sessionId());
                }
            }
            double requestsSeconds = (System.nanoTime() - moveStart) / 1e9;
            m1.engine().awaitIdle(600_000);
            double moveSeconds = (System.nanoTime() - moveStart) / 1e9;
            long relocated = moved.stream().filter(id -> id.contains("-n2.")).count();
            System.out.printf(Locale.ROOT, "memcached node n1 killed (noticed in %d ms): %,d of its sessions moved to"
                    + " n2"
                    + " by one request each in %.2f s (%,.0f/s), stored there after %.2f s%n",
                    (moveStart - waitStart) / 1_000_000, relocated, requestsSeconds, onN1.size() / requestsSeconds,
                    moveSeconds);

            // a Tomcat failover: another Tomcat loads sessions it never saw
            tc2 = EndToEndBenchmark.start(Map.of("sticky", "true"), nodes, "tc2");
            MemcachedSessionManager m2 = manager(tc2);
            long loadStart = System.nanoTime();
            try (KeepAliveClient c = new KeepAliveClient(tc2.getConnector().getLocalPort())) {
                for (String id : moved) {
                    c.sessionId(id);
                    check(c.get("/read"));
                }
            }
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            System.out.printf(Locale.ROOT, "another Tomcat loaded %,d sessions from memcached in %.2f s (%,.0f/s;"
                    + " msmSessionsLoaded %,d, not found %,d)%n", moved.size(), loadSeconds, moved.size() / loadSeconds,
                    m2.getMsmSessionsLoaded(), m2.getMsmSessionsNotFound());
        } finally {
            for (Tomcat t : new Tomcat[] {tc2, tc1}) {
                if (t != null) {
                    t.stop();
                    t.destroy();
                }
            }
            memcached.stopServers();
        }
    }

    /** One new session per request (the typical model); returns their ids. */
    private static List<String> createSessions(int port, int count) throws IOException {
        List<String> ids = new ArrayList<>(count);
        try (KeepAliveClient c = new KeepAliveClient(port)) {
            for (int i = 0; i < count; i++) {
                c.sessionId(null);
                check(c.get("/change"));
                ids.add(c.sessionId());
            }
        }
        return ids;
    }

    private static MemcachedSessionManager manager(Tomcat t) {
        return (MemcachedSessionManager) ((Context) t.getHost().findChild("")).getManager();
    }

    private static void check(int status) throws IOException {
        if (status != 200) {
            throw new IOException("HTTP " + status);
        }
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
