package io.msm.benchmarks.e2e;

import io.msm.benchmarks.ForkedJvm;
import io.msm.benchmarks.model.Sessions;
import io.msm.test.memcached.MemcachedServer;
import io.msm.tomcat.MemcachedSessionManager;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.session.StandardManager;
import org.apache.catalina.startup.Tomcat;

/**
 * End-to-end request cost: one embedded Tomcat 9 on loopback, real memcached processes, and a bounded load generator
 * (keep-alive clients, each with its own session cookie), for every row (StandardManager: no replication, the ceiling;
 * msm sticky and non-sticky with each serializer) and workload (a request that changes a typical ~2 KB session, one
 * that only reads it, one that changes a ~100 KB session). Reports requests/s, p50 and p99 latency, memcached calls
 * per request (memcached's own {@code stats}), server CPU time per request (process CPU minus the load generator's
 * threads), memcached's CPU time per request and the connections memcached accepted meanwhile. The {@code TLS} rows
 * run on memcached processes of their own started with TLS ({@link BenchmarkServers}).
 *
 * <p>Run: {@code mvn -q -pl msm-benchmarks -am package -DskipTests && java -cp msm-benchmarks/target/benchmarks.jar
 * io.msm.benchmarks.e2e.EndToEndBenchmark [--clients 4] [--warmup 15] [--measure 10] [--rows a,b] [--workloads x,y]
 * [--rounds N | --slices N [--slice 2] [--forks 1] [--paired false]] [--baseline earlier/benchmarks.jar]}
 */
public final class EndToEndBenchmark {
    /** A row with this key runs its Tomcat in a JVM of its own; the value is the Manager class. */
    static final String OWN_JVM = "ownJvm";
    static final String OWN_JVM_BASE = "StandardManager (own JVM)";
    static final String CONTROL = "StandardManager again (own JVM)";
    private static final String MSM_MANAGER = "io.msm.tomcat.MemcachedSessionManager";
    /** A row with this key runs on an earlier build's benchmark jar (the value), see {@code --baseline}. */
    static final String BASELINE_JAR = "baselineJar";
    static final String BASELINE_SUFFIX = " @baseline";
    static final String FLOOR = "floor: memcached calls only";
    /** A row attribute (not the Manager's): add a {@link TrafficFloorValve} with the memcached nodes. */
    static final String FLOOR_ATTRIBUTE = "trafficFloor";
    /** The floor's calls with values of the Java transcoder's size. */
    static final String FLOOR_JAVA_SIZE = "floor with Java's size (own JVM)";

    /** What a row puts on the Tomcat: no attributes = StandardManager. */
    static final Map<String, Map<String, String>> ROWS = new LinkedHashMap<>();
    /** Rows left out of a run of every row (no {@code --rows}), with their {@code @baseline} twins. */
    private static final Set<String> NAMED_ONLY = new HashSet<>();

    static {
        ROWS.put("StandardManager", Map.of());
        ROWS.put("msm sticky java", Map.of("sticky", "true"));
        ROWS.put("msm sticky kryo", Map.of("sticky", "true",
                "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory"));
        // the default before it was 10 ms: every change of a hot session backed up as soon as the previous backup ended
        ROWS.put("msm sticky java minBackupInterval=0", Map.of("sticky", "true", "minBackupInterval", "0"));
        ROWS.put("msm sticky kryo minBackupInterval=0", Map.of("sticky", "true", "minBackupInterval", "0",
                "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory"));
        // StandardManager plus msm's memcached calls for the request, without serialization or session handling
        ROWS.put(FLOOR, Map.of(FLOOR_ATTRIBUTE, "true"));
        ROWS.put("msm non-sticky java", Map.of("sticky", "false"));
        ROWS.put("msm non-sticky kryo", Map.of("sticky", "false",
                "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory"));
        // In JVMs of their own, as the anchor must be: the ratios of these rows are to "StandardManager (own JVM)".
        ROWS.put(OWN_JVM_BASE, Map.of(OWN_JVM, "org.apache.catalina.session.StandardManager"));
        // the anchor once more, in a JVM of its own: what two identical rows differ by in the same run (no target)
        ROWS.put(CONTROL, Map.of(OWN_JVM, "org.apache.catalina.session.StandardManager"));
        ROWS.put("msm sticky java (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "true"));
        ROWS.put("msm sticky kryo (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "true",
                "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory"));
        ROWS.put("msm sticky java minBackupInterval=0 (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "true",
                "minBackupInterval", "0"));
        // a hot session backed up half (20) or a quarter (40) as often: an estimate of what backups of half or a
        // quarter the cost would give (issue 26; not a configuration to recommend: a crash may lose more). Run only
        // when --rows names them.
        for (String interval : List.of("20", "40")) {
            String java = "msm sticky java minBackupInterval=" + interval + " (own JVM)";
            String kryo = "msm sticky kryo minBackupInterval=" + interval + " (own JVM)";
            ROWS.put(java, Map.of(OWN_JVM, MSM_MANAGER, "sticky", "true", "minBackupInterval", interval));
            ROWS.put(kryo, Map.of(OWN_JVM, MSM_MANAGER, "sticky", "true", "minBackupInterval", interval,
                    "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory"));
            NAMED_ONLY.add(java);
            NAMED_ONLY.add(kryo);
        }
        // one backup thread: a delayed backup's timer wakes that thread alone (with two, the pool also wakes the
        // other to wait for the next one); issue 26, run only when --rows names them
        String javaOne = "msm sticky java backupThreadCount=1 (own JVM)";
        String kryoOne = "msm sticky kryo backupThreadCount=1 (own JVM)";
        ROWS.put(javaOne, Map.of(OWN_JVM, MSM_MANAGER, "sticky", "true", "backupThreadCount", "1"));
        ROWS.put(kryoOne, Map.of(OWN_JVM, MSM_MANAGER, "sticky", "true", "backupThreadCount", "1",
                "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory"));
        NAMED_ONLY.add(javaOne);
        NAMED_ONLY.add(kryoOne);
        ROWS.put(FLOOR + " (own JVM)", Map.of(OWN_JVM, "org.apache.catalina.session.StandardManager",
                FLOOR_ATTRIBUTE, "true"));
        // the same calls with values of the size msm's Java transcoder stores (not an anchor: what Java's bytes cost)
        ROWS.put(FLOOR_JAVA_SIZE, Map.of(OWN_JVM, "org.apache.catalina.session.StandardManager",
                FLOOR_ATTRIBUTE, "java"));
        ROWS.put("msm non-sticky java (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "false"));
        ROWS.put("msm non-sticky kryo (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "false",
                "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory"));
        // sessionProtection="sign": signed blobs, keys named by a keyed hash of the id (a fixed benchmark key)
        ROWS.put("msm non-sticky kryo sign (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "false",
                "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory", "sessionProtection", "sign",
                "sessionKeys", "bXNtLWJlbmNobWFyay1rZXktbm90LWEtc2VjcmV0LTAx"));
        // TLS to memcached: on a pair of memcached processes of their own, started with TLS (BenchmarkServers)
        ROWS.put("msm sticky java TLS (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "true",
                BenchmarkServers.TLS, "true"));
        ROWS.put("msm sticky kryo TLS (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "true",
                BenchmarkServers.TLS, "true", "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory"));
        ROWS.put("msm non-sticky java TLS (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "false",
                BenchmarkServers.TLS, "true"));
        ROWS.put("msm non-sticky kryo TLS (own JVM)", Map.of(OWN_JVM, MSM_MANAGER, "sticky", "false",
                BenchmarkServers.TLS, "true", "transcoderFactoryClass", "io.msm.serializer.kryo.KryoTranscoderFactory"));
        ROWS.put("anchor 2.3.2 sticky java", Map.of(OWN_JVM, AnchorTomcat.ANCHOR_MANAGER, "sticky", "true"));
        ROWS.put("anchor 2.3.2 non-sticky java", Map.of(OWN_JVM, AnchorTomcat.ANCHOR_MANAGER, "sticky", "false"));
    }

    /** Workload name -> request path. */
    static final Map<String, String> WORKLOADS = new LinkedHashMap<>();

    static {
        WORKLOADS.put("change 2KB", "/change");
        WORKLOADS.put("read 2KB", "/read");
        WORKLOADS.put("change 100KB", "/large");
    }

    private static final int MAX_SAMPLES_PER_CLIENT = 2_000_000;
    private static final List<Logger> QUIET = new ArrayList<>();

    private EndToEndBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = options(args);
        int clients = Integer.parseInt(opts.getOrDefault("clients", "4"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "15"));
        int measure = Integer.parseInt(opts.getOrDefault("measure", "10"));
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "1"));
        if (rounds < 1 || rounds > 9) {
            throw new IllegalArgumentException("--rounds must be 1 to 9, was " + rounds);
        }
        int slices = Integer.parseInt(opts.getOrDefault("slices", "0"));
        int sliceSeconds = Integer.parseInt(opts.getOrDefault("slice", "2"));
        if (slices < 0 || slices > 60 || sliceSeconds < 1 || sliceSeconds > 60) {
            throw new IllegalArgumentException("--slices must be 0 to 60 and --slice 1 to 60 seconds, were " + slices
                    + " and " + sliceSeconds);
        }
        int forks = Integer.parseInt(opts.getOrDefault("forks", "1"));
        if (forks < 1 || (slices > 0 && forks > slices)) {
            throw new IllegalArgumentException("--forks must be 1 to --slices (" + slices + "), was " + forks);
        }
        boolean paired = Boolean.parseBoolean(opts.getOrDefault("paired", "false"));
        if (paired && slices == 0) {
            throw new IllegalArgumentException("--paired true needs --slices");
        }
        if (opts.containsKey("baseline")) {
            addBaselineRows(Path.of(opts.get("baseline")));
        }
        List<String> rows = select(opts.get("rows"), new ArrayList<>(ROWS.keySet()));
        if (!opts.containsKey("rows")) {
            rows.removeIf(r -> NAMED_ONLY.contains(r.endsWith(BASELINE_SUFFIX)
                    ? r.substring(0, r.length() - BASELINE_SUFFIX.length()) : r));
        }
        for (String row : rows) {
            if (slices > 0 && ROWS.get(row).get(OWN_JVM) == null) {
                throw new IllegalArgumentException("--slices runs rows in JVMs of their own only; not: " + row);
            }
        }
        List<String> workloads = select(opts.get("workloads"), new ArrayList<>(WORKLOADS.keySet()));
        for (String name : List.of("org.apache", "io.msm", "net.spy")) {
            Logger l = Logger.getLogger(name);
            l.setLevel(Level.WARNING);
            QUIET.add(l);
        }
        BenchmarkServers memcached = BenchmarkServers.start(rows);
        System.out.printf(Locale.ROOT, "End-to-end benchmark: Java %s, %d CPUs, %d keep-alive clients, %d s warm-up + %d s"
                + " measured per cell, %s, memcached %s%n", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), clients, warmup, measure, slices > 0
                        ? "interleaved: " + slices + " slices of 1 s + " + sliceSeconds + " s measured, "
                                + forks + " JVM(s) per row and workload" : rounds
                                + " round(s)",
                memcached.version());
        Map<String, Map<String, List<Result>>> results = new LinkedHashMap<>();
        Map<String, Map<String, Map<String, List<Result>>>> pairs = new LinkedHashMap<>(); // --paired: by row
        try {
            for (int round = 1; slices == 0 && round <= rounds; round++) {
                for (String row : rows) {
                    for (String workload : workloads) {
                        // A fresh Tomcat per cell: no session or JIT state of another workload carries over.
                        String managerClass = ROWS.get(row).get(OWN_JVM);
                        Result r;
                        if (managerClass != null) {
                            try (ForkedJvm external = fork(row, memcached)) {
                                r = run(external.port, WORKLOADS.get(workload), clients, warmup, measure,
                                        memcached.servers(row), null, external);
                            }
                        } else {
                            Tomcat tomcat = start(ROWS.get(row), memcached.nodes(row));
                            try {
                                r = run(tomcat.getConnector().getLocalPort(), WORKLOADS.get(workload), clients,
                                        warmup, measure, memcached.servers(row), tomcat, null);
                            } finally {
                                tomcat.stop();
                                tomcat.destroy();
                            }
                        }
                        results.computeIfAbsent(workload, w -> new LinkedHashMap<>())
                                .computeIfAbsent(row, x -> new ArrayList<>()).add(r);
                        System.out.printf(Locale.ROOT, "  %-14s %-34s %s%n", workload, row, r);
                        memcached.flushAll();
                    }
                }
            }
            for (int w = 0; slices > 0 && !paired && w < workloads.size(); w++) {
                results.put(workloads.get(w), interleaved(rows, workloads.get(w), clients, warmup, slices,
                        sliceSeconds, forks, memcached));
            }
            for (int w = 0; paired && w < workloads.size(); w++) {
                pairs.put(workloads.get(w), PairedRun.run(rows, workloads.get(w), clients, warmup, slices,
                        sliceSeconds, forks, memcached));
            }
        } finally {
            memcached.close();
        }
        System.out.println();
        if (paired) {
            System.out.print(TargetTable.pairedTable(pairs));
            return;
        }
        System.out.println(table(results));
        System.out.print(TwinComparison.table(results));
        System.out.print(TwinComparison.tlsTable(results));
        System.out.print(TargetTable.table(results));
    }

    /**
     * {@code --baseline <jar>}: every msm row in a JVM of its own gets a twin {@code <row> @baseline} whose Tomcat runs
     * on {@code jar} alone (an earlier build's {@code msm-benchmarks/target/benchmarks.jar}), so a change is measured
     * before and after in one interleaved run.
     */
    private static void addBaselineRows(Path jar) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("--baseline must name an earlier build's benchmarks.jar, was " + jar);
        }
        for (String row : new ArrayList<>(ROWS.keySet())) {
            Map<String, String> r = ROWS.get(row);
            if (MSM_MANAGER.equals(r.get(OWN_JVM))) {
                Map<String, String> twin = new LinkedHashMap<>(r);
                twin.put(BASELINE_JAR, jar.toAbsolutePath().toString());
                ROWS.put(row + BASELINE_SUFFIX, twin);
            }
        }
    }

    /**
     * Interleaved mode ({@code --slices N}): every row's Tomcat runs in a JVM of its own, all at once; after each is
     * warmed up, the load moves from row to row in short slices ({@code --slice} seconds measured after 1 s of load),
     * N times, starting each pass with another row. A slow spell of this shared machine then hits every row alike,
     * where consecutive cells of several seconds each can land on different spells; the table's ratios are the
     * median of the per-slice ratios to {@code StandardManager (own JVM)}.
     *
     * <p>With {@code --forks F} the slices are split into F runs of about N/F slices, and every row gets a fresh JVM
     * (warmed up again) for each: what one JVM's compiler made of the code, which lasts for that JVM's life and moves
     * a row's every slice alike, is then F draws instead of one.
     */
    private static Map<String, List<Result>> interleaved(List<String> rows, String workload, int clients, int warmup,
            int slices, int sliceSeconds, int forks, BenchmarkServers memcached) throws Exception {
        Map<String, List<Result>> byRow = new LinkedHashMap<>(); // in the order of rows: the first pass starts at 0
        int slice = 0;
        for (int f = 0; f < forks; f++) {
            int end = (int) ((long) slices * (f + 1) / forks);
            slice = oneFork(rows, workload, clients, warmup, slice, end, sliceSeconds, memcached, byRow);
        }
        return byRow;
    }

    /** Slices {@code from} to {@code to} (exclusive) on a fresh JVM per row; returns {@code to}. */
    private static int oneFork(List<String> rows, String workload, int clients, int warmup, int from, int to,
            int sliceSeconds, BenchmarkServers memcached, Map<String, List<Result>> byRow) throws Exception {
        Map<String, ForkedJvm> jvms = new LinkedHashMap<>();
        String path = WORKLOADS.get(workload);
        try {
            for (String row : rows) {
                jvms.put(row, fork(row, memcached));
            }
            for (Map.Entry<String, ForkedJvm> j : jvms.entrySet()) {
                run(j.getValue().port, path, clients, warmup, 1, memcached.servers(j.getKey()), null, j.getValue());
            }
            for (int slice = from; slice < to; slice++) {
                for (int i = 0; i < rows.size(); i++) {
                    String row = rows.get((slice + i) % rows.size());
                    ForkedJvm jvm = jvms.get(row);
                    Result r = run(jvm.port, path, clients, 1, sliceSeconds, memcached.servers(row), null, jvm);
                    byRow.computeIfAbsent(row, x -> new ArrayList<>()).add(r);
                    System.out.printf(Locale.ROOT, "  %-14s %-34s slice %d %s%n", workload, row, slice + 1, r);
                }
            }
        } finally {
            for (ForkedJvm j : jvms.values()) {
                j.close();
            }
            memcached.flushAll();
        }
        return to;
    }

    /** {@link #fork(String, BenchmarkServers)}, for a lambda. */
    static ForkedJvm forkOrFail(String row, BenchmarkServers memcached) {
        try {
            return fork(row, memcached);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + row, e);
        }
    }

    /** Starts a row's Tomcat in a JVM of its own, on the row's memcached pair. */
    private static ForkedJvm fork(String row, BenchmarkServers memcached) throws IOException, InterruptedException {
        String managerClass = ROWS.get(row).get(OWN_JVM);
        List<String> attributes = new ArrayList<>();
        ROWS.get(row).forEach((k, v) -> {
            if (!k.equals(OWN_JVM) && !k.equals(BASELINE_JAR)) {
                attributes.add(k + "=" + v);
            }
        });
        if (!managerClass.endsWith("StandardManager") || ROWS.get(row).containsKey(FLOOR_ATTRIBUTE)) {
            attributes.add("memcachedNodes=" + memcached.nodes(row));
        }
        attributes.addAll(memcached.tlsAttributes(row));
        String baseline = ROWS.get(row).get(BASELINE_JAR);
        return AnchorTomcat.fork(managerClass, attributes, baseline == null ? null : Path.of(baseline));
    }

    /**
     * The results table. With several rounds, a row shows its median round (by requests/s) and the median of its
     * per-round ratios to the ceiling measured in the same round, followed by those ratios.
     */
    static String table(Map<String, Map<String, List<Result>>> results) {
        StringBuilder t = new StringBuilder("| workload | row | req/s | x StandardManager | p50 µs | p99 µs |"
                + " memcached calls/req | server CPU µs/req | request threads' bytes/req | server's bytes/req | errors |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|\n");
        results.forEach((workload, rows) -> {
            rows.forEach((row, rounds) -> {
                List<Result> base = rows.get(ROWS.get(row).containsKey(OWN_JVM) ? OWN_JVM_BASE : "StandardManager");
                List<Double> ratios = new ArrayList<>();
                for (int i = 0; base != null && i < rounds.size() && i < base.size(); i++) {
                    ratios.add(rounds.get(i).perSecond / base.get(i).perSecond);
                }
                String ratio = ratios.isEmpty() ? "" : String.format(Locale.ROOT, "%.2f", median(ratios));
                if (ratios.size() > 1) {
                    StringBuilder each = new StringBuilder();
                    for (double x : ratios) {
                        each.append(each.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", x));
                    }
                    ratio += " (" + each + ")";
                }
                List<Result> sorted = new ArrayList<>(rounds);
                sorted.sort(java.util.Comparator.comparingDouble(x -> x.perSecond));
                Result r = sorted.get((sorted.size() - 1) / 2);
                long errors = rounds.stream().mapToLong(x -> x.errors).sum();
                t.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %s | %d | %d | %.2f | %.0f | %,.0f | %,.0f | %d |%n",
                        workload, row, r.perSecond, ratio, r.p50Micros, r.p99Micros, r.callsPerRequest,
                        r.cpuMicrosPerRequest, r.requestThreadBytesPerRequest, r.serverBytesPerRequest, errors));
            });
        });
        return t.toString();
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        java.util.Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** One cell's figures. */
    static final class Result {
        double perSecond;
        long requests;
        long errors;
        long p50Micros;
        long p99Micros;
        double callsPerRequest;
        double cpuMicrosPerRequest;
        double memcachedCpuMicrosPerRequest;
        /** Bytes allocated per request by Tomcat's request threads, and by all the server's threads; NaN: unknown. */
        double requestThreadBytesPerRequest = Double.NaN;
        double serverBytesPerRequest = Double.NaN;
        long connectionsOpened;
        String msm = "";
        String threads = "";

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%,9.0f req/s  p50 %5d µs  p99 %6d µs  %.2f memcached calls/req"
                    + "  %5.0f µs CPU/req  memcached %3.0f µs CPU/req, %d connections opened  %d errors%s",
                    perSecond, p50Micros, p99Micros, callsPerRequest, cpuMicrosPerRequest,
                    memcachedCpuMicrosPerRequest, connectionsOpened, errors, (threads.isEmpty() ? "" : "\n" + " ".repeat(40) + threads)
                            + (msm.isEmpty() ? "" : "\n" + " ".repeat(40) + msm));
        }
    }

    private static final int WARMUP = 0;
    private static final int MEASURE = 1;
    private static final int STOP = 2;

    /**
     * Measures one cell: the Tomcat is {@code tomcat} (in this JVM) or {@code external} (its own JVM, whose CPU time
     * is read from the operating system).
     */
    static Result run(int port, String path, int clients, int warmupSeconds, int measureSeconds,
            List<MemcachedServer> servers, Tomcat tomcat, ForkedJvm external) throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        int[] phase = {WARMUP};
        Object lock = new Object();
        int[][] samples = new int[clients][];
        long[] counts = new long[clients];
        long[] errors = new long[clients];
        long[] cpu = new long[clients];
        CountDownLatch done = new CountDownLatch(clients);
        long giveUpAt = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(warmupSeconds
                + measureSeconds + 60L);
        for (int c = 0; c < clients; c++) {
            int id = c;
            samples[c] = new int[MAX_SAMPLES_PER_CLIENT];
            Thread t = new Thread(() -> {
                long cpuAtStart = -1;
                try (KeepAliveClient client = new KeepAliveClient(port)) {
                    while (true) {
                        int p;
                        synchronized (lock) {
                            p = phase[0];
                        }
                        if (p == STOP || System.nanoTime() - giveUpAt > 0) { // the latter: run() failed
                            break;
                        }
                        if (p == MEASURE && cpuAtStart < 0) {
                            cpuAtStart = threads.getCurrentThreadCpuTime();
                        }
                        long start = System.nanoTime();
                        int status;
                        try {
                            status = client.get(path);
                        } catch (IOException e) {
                            status = -1;
                            client.disconnect();
                        }
                        long micros = (System.nanoTime() - start) / 1000;
                        if (p == MEASURE) {
                            if (status != 200) {
                                errors[id]++;
                            }
                            if (counts[id] < MAX_SAMPLES_PER_CLIENT) {
                                samples[id][(int) counts[id]] = (int) Math.min(Integer.MAX_VALUE, micros);
                            }
                            counts[id]++;
                        }
                    }
                } finally {
                    cpu[id] = cpuAtStart < 0 ? 0 : threads.getCurrentThreadCpuTime() - cpuAtStart;
                    done.countDown();
                }
            }, "load-" + c);
            t.setDaemon(true);
            t.start();
        }
        Thread.sleep(warmupSeconds * 1000L);
        org.apache.catalina.Manager manager = tomcat == null ? null
                : ((Context) tomcat.getHost().findChild("")).getManager();
        MemcachedSessionManager msm = manager instanceof MemcachedSessionManager
                ? (MemcachedSessionManager) manager : null; // null: the StandardManager row
        io.msm.stats.MsmStatistics stats = msm == null || msm.engine() == null ? null : msm.engine().statistics();
        long[] statsBefore = msmCounts(stats);
        MemcachedCounters before = MemcachedCounters.read(servers);
        long cpuBefore = external != null ? external.cpuNanos() : os.getProcessCpuTime();
        ServerThreads threadsBefore = external != null ? ServerThreads.fetch(external.port) : ServerThreads.read();
        long start = System.nanoTime();
        synchronized (lock) {
            phase[0] = MEASURE;
        }
        Thread.sleep(measureSeconds * 1000L);
        synchronized (lock) {
            phase[0] = STOP;
        }
        long elapsed = System.nanoTime() - start;
        done.await();
        long cpuAfter = external != null ? external.cpuNanos() : os.getProcessCpuTime();
        ServerThreads threadsAfter = external != null ? ServerThreads.fetch(external.port) : ServerThreads.read();
        if (msm != null && msm.engine() != null) {
            msm.engine().awaitIdle(5000); // the asynchronous backups of the measured requests
        }
        MemcachedCounters after = MemcachedCounters.read(servers);
        long[] statsAfter = msmCounts(stats);

        Result r = new Result();
        long total = 0;
        int kept = 0;
        for (int c = 0; c < clients; c++) {
            total += counts[c];
            kept += (int) Math.min(counts[c], MAX_SAMPLES_PER_CLIENT);
            r.errors += errors[c];
        }
        int[] all = new int[kept];
        int at = 0;
        for (int c = 0; c < clients; c++) {
            int n = (int) Math.min(counts[c], MAX_SAMPLES_PER_CLIENT);
            System.arraycopy(samples[c], 0, all, at, n);
            at += n;
        }
        Arrays.sort(all);
        r.requests = total;
        r.perSecond = total / (elapsed / 1e9);
        r.p50Micros = all.length == 0 ? 0 : all[(int) (all.length * 0.50)];
        r.p99Micros = all.length == 0 ? 0 : all[Math.min(all.length - 1, (int) (all.length * 0.99))];
        r.callsPerRequest = total == 0 ? 0 : (double) (after.calls - before.calls) / total;
        r.memcachedCpuMicrosPerRequest = total == 0 ? 0 : (double) (after.cpuMicros - before.cpuMicros) / total;
        r.connectionsOpened = after.connectionsSince(before);
        long clientCpu = external != null ? 0 : Arrays.stream(cpu).sum(); // in-process: the clients' share
        r.cpuMicrosPerRequest = total == 0 ? 0 : (cpuAfter - cpuBefore - clientCpu) / 1000.0 / total;
        if (threadsBefore != null && threadsAfter != null && total > 0) {
            r.threads = threadsAfter.describeSince(threadsBefore, total, cpuAfter - cpuBefore - clientCpu);
            r.requestThreadBytesPerRequest = threadsAfter.since(threadsBefore, ServerThreads.REQUEST, 1)
                    / (double) total;
            long allocated = 0;
            for (String group : ServerThreads.GROUPS) {
                allocated += threadsAfter.since(threadsBefore, group, 1);
            }
            r.serverBytesPerRequest = allocated / (double) total;
        }
        if (stats != null && total > 0) {
            r.msm = String.format(Locale.ROOT, "per request: %.4f serializations (mean %.3f ms), %.2f loads (mean %.3f"
                    + " ms; %.2f reused kept objects), %.4f backups, %.4f unchanged",
                    (statsAfter[0] - statsBefore[0]) / (double) total,
                    stats.meanMillis(io.msm.stats.MsmStatistics.Timer.SERIALIZATION),
                    (statsAfter[1] - statsBefore[1]) / (double) total,
                    stats.meanMillis(io.msm.stats.MsmStatistics.Timer.LOAD),
                    (statsAfter[4] - statsBefore[4]) / (double) total,
                    (statsAfter[2] - statsBefore[2]) / (double) total, (statsAfter[3] - statsBefore[3]) / (double) total);
        }
        return r;
    }

    private static long[] msmCounts(io.msm.stats.MsmStatistics s) {
        if (s == null) {
            return new long[5];
        }
        return new long[] {s.count(io.msm.stats.MsmStatistics.Timer.SERIALIZATION),
            s.count(io.msm.stats.MsmStatistics.Timer.LOAD), s.get(io.msm.stats.MsmStatistics.Counter.BACKUPS),
            s.get(io.msm.stats.MsmStatistics.Counter.BACKUPS_UNCHANGED),
            s.get(io.msm.stats.MsmStatistics.Counter.LOADS_REUSED)};
    }

    /** An embedded Tomcat on a free 127.0.0.1 port, not started; its root context is {@code /}. */
    public static Tomcat newTomcat(String jvmRoute) throws IOException {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("msm-e2e").toString());
        tomcat.setHostname("127.0.0.1");
        tomcat.getEngine().setJvmRoute(jvmRoute);
        tomcat.getConnector().setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        tomcat.getHost().setAutoDeploy(false);
        tomcat.addContext("", null);
        return tomcat;
    }

    static Tomcat start(Map<String, String> msmAttributes, String nodes) throws Exception {
        return start(msmAttributes, nodes, "tc1");
    }

    static Tomcat start(Map<String, String> msmAttributes, String nodes, String jvmRoute) throws Exception {
        Tomcat tomcat = newTomcat(jvmRoute);
        Context context = (Context) tomcat.getHost().findChild("");
        if (msmAttributes.containsKey(FLOOR_ATTRIBUTE)) {
            context.setManager(new StandardManager());
            context.getPipeline().addValve(new TrafficFloorValve(nodes,
                    TrafficFloorValve.codec(msmAttributes.get(FLOOR_ATTRIBUTE))));
        } else if (msmAttributes.isEmpty()) {
            context.setManager(new StandardManager());
        } else {
            MemcachedSessionManager manager = new MemcachedSessionManager();
            manager.setMemcachedNodes(nodes);
            for (Map.Entry<String, String> a : msmAttributes.entrySet()) {
                ForkedJvm.setProperty(manager, a.getKey(), a.getValue());
            }
            context.setManager(manager);
        }
        Tomcat.addServlet(context, "session", new SessionServlet()).addMapping("/");
        Tomcat.addServlet(context, "threads", new ServerThreads.Servlet()).addMapping(ServerThreads.PATH);
        tomcat.start();
        if (context.getState() != org.apache.catalina.LifecycleState.STARTED) {
            throw new LifecycleException("context did not start");
        }
        return tomcat;
    }

    /** /change and /large set one attribute of the session; /read only reads it. */
    static final class SessionServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            String path = request.getServletPath();
            HttpSession session = request.getSession();
            Integer counter = (Integer) session.getAttribute("counter");
            if (counter == null) {
                Sessions.build(path.equals("/large") ? "large" : "typical").forEach(session::setAttribute);
                counter = 0;
                session.setAttribute("counter", counter);
            } else if (!path.equals("/read")) {
                session.setAttribute("counter", counter + 1);
            }
            response.setContentType("text/plain");
            response.getWriter().write("ok " + counter);
        }
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value, got " + args[i]);
            }
            o.put(args[i].substring(2), args[i + 1]);
        }
        return o;
    }

    private static List<String> select(String wanted, List<String> all) {
        if (wanted == null) {
            return all;
        }
        List<String> picked = new ArrayList<>();
        for (String w : wanted.split(",")) {
            String match = all.stream().filter(a -> a.equalsIgnoreCase(w.trim())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown: " + w + "; one of " + all));
            picked.add(match);
        }
        return picked;
    }
}
