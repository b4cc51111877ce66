package io.msm.benchmarks.fault;

import io.msm.benchmarks.ForkedJvm;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fault-injection suite: bounded load on two Tomcats (each its own JVM) and two memcached nodes, then one fault:
 * a memcached node killed with SIGKILL (back, empty, after a while), paused with SIGSTOP for 10 s, restarted empty,
 * a Tomcat killed with SIGKILL, or every memcached node killed for a while (30 s), then started again (empty). Each
 * virtual user owns a session with a counter and checks every answer: a counter back at 1 is a lost session, a
 * counter below the expected one a lost update, anything but 200 a failed request. Requests are timed; the p99 of
 * those that started during the fault is reported next to the steady one. With every node killed, the Tomcats' used
 * heap after a full GC is measured before the outage and once they settled after it.
 *
 * <p>Like a balancer, a user whose Tomcat refuses the connection goes to the other one (sticky: the Tomcat named in
 * its session id; non-sticky: round robin). Run: {@code java -cp msm-benchmarks/target/benchmarks.jar
 * io.msm.benchmarks.fault.FaultSuite [--users 8] [--think 10] [--attributes name=value,...] [--fault NAME]
 * [--mode sticky|non-sticky] [--outage seconds] [--heap-wait seconds]} ({@code --fault} and {@code --mode} run one
 * fault or mode only; {@code --outage}: how long every node stays down, 30 by default; {@code --heap-wait}: the heap
 * after it is measured this long after the Tomcats settled, 60 by default).
 */
public final class FaultSuite {
    /** What is done to the cluster. */
    public enum Fault {
        KILL_MEMCACHED("memcached node killed (SIGKILL), back empty after 5 s"),
        PAUSE_MEMCACHED("memcached node paused (SIGSTOP) for 10 s"),
        RESTART_MEMCACHED_EMPTY("memcached node restarted empty"),
        KILL_TOMCAT("Tomcat killed (SIGKILL)"),
        KILL_ALL_MEMCACHED("every memcached node killed (SIGKILL), back empty after %d s");

        final String description;

        Fault(String description) {
            this.description = description;
        }
    }

    /** The outcome of one fault in one mode. */
    public static final class Result {
        public final String mode;
        public final Fault fault;
        public long requests;
        public long failedRequests;
        public long lostSessions;
        public long lostUpdates;
        public long p99SteadyMillis;
        public long p99DuringMillis;
        public long maxDuringMillis;
        /** Every node killed: per Tomcat, used heap after a full GC before the outage and after it; else empty. */
        public final List<Heap> heapBefore = new ArrayList<>();
        public final List<Heap> heapAfter = new ArrayList<>();
        public final List<String> problems = new ArrayList<>();
        public final String description;

        Result(String mode, Fault fault, long outageSeconds) {
            this.mode = mode;
            this.fault = fault;
            this.description = String.format(Locale.ROOT, fault.description, outageSeconds);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "| %s | %s | %d | %d | %d | %d | %d | %d | %d |", mode, description,
                    requests, failedRequests, lostSessions, lostUpdates, p99SteadyMillis, p99DuringMillis,
                    maxDuringMillis);
        }

        /** {@code tc1 21.3 -> 21.5 MB (+0.9 %), ...}, or empty. */
        public String heapLine() {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < heapBefore.size() && i < heapAfter.size(); i++) {
                Heap b = heapBefore.get(i);
                Heap a = heapAfter.get(i);
                sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT,
                        "%s %.1f -> %.1f MB (%+.1f %%)", b.route, b.usedBytes / 1e6, a.usedBytes / 1e6,
                        100.0 * (a.usedBytes - b.usedBytes) / b.usedBytes));
            }
            return sb.toString();
        }

        /** The largest growth of one Tomcat's used heap over the outage, as a fraction (0.05: 5 %). */
        public double maxHeapGrowth() {
            double max = 0;
            for (int i = 0; i < heapBefore.size() && i < heapAfter.size(); i++) {
                max = Math.max(max, (double) (heapAfter.get(i).usedBytes - heapBefore.get(i).usedBytes)
                        / heapBefore.get(i).usedBytes);
            }
            return max;
        }
    }

    /** One Tomcat's state as its {@code /heap} page tells it. */
    public static final class Heap {
        public final String route;
        public final long usedBytes;
        public final int sessions;
        public final int unsaved;

        Heap(String route, long usedBytes, int sessions, int unsaved) {
            this.route = route;
            this.usedBytes = usedBytes;
            this.sessions = sessions;
            this.unsaved = unsaved;
        }
    }

    static final String HEADER = "| mode | fault | requests | failed | sessions lost | updates lost | p99 steady ms "
            + "| p99 during fault ms | max during fault ms |\n|---|---|---|---|---|---|---|---|---|";

    /** Load before the fault; its first {@link #WARMUP_MILLIS} (fresh JVMs) are not part of the steady p99. */
    private static final long STEADY_MILLIS = 3000;
    private static final long WARMUP_MILLIS = 1000;
    /** How long a killed or restarted node stays in the fault window. */
    private static final long FAULT_MILLIS = 5000;
    private static final long PAUSE_MILLIS = 10_000;
    private static final long AFTER_MILLIS = 2000;
    /** Every node killed: how long the Tomcats may take to store what they held and drop it from memory. */
    private static final long SETTLE_MAX_MILLIS = 90_000;

    private final int users;
    private final long thinkMillis;
    private final List<String> extraAttributes;
    private final long outageMillis;
    private final long heapWaitMillis;
    private final long secondaryRefreshKeptMillis;

    public FaultSuite(int users, long thinkMillis) {
        this(users, thinkMillis, List.of());
    }

    /** With more Manager attributes ({@code name=value}) on both Tomcats. */
    public FaultSuite(int users, long thinkMillis, List<String> extraAttributes) {
        this(users, thinkMillis, extraAttributes, 30_000, 60_000);
    }

    /**
     * @param outageMillis how long every node stays down in {@link Fault#KILL_ALL_MEMCACHED}
     * @param heapWaitMillis the heap after that outage is measured this long after the Tomcats settled (stored what
     *     they held and dropped it from memory): msm keeps, for 60 s, when it wrote each secondary copy
     */
    public FaultSuite(int users, long thinkMillis, List<String> extraAttributes, long outageMillis,
            long heapWaitMillis) {
        this(users, thinkMillis, extraAttributes, outageMillis, heapWaitMillis, 0);
    }

    /**
     * @param secondaryRefreshKeptMillis how long the Tomcats remember when they wrote each secondary copy instead of
     *     msm's 60 s (0: msm's), so that {@code heapWaitMillis} can be shorter; non-sticky only
     */
    public FaultSuite(int users, long thinkMillis, List<String> extraAttributes, long outageMillis,
            long heapWaitMillis, long secondaryRefreshKeptMillis) {
        this.users = users;
        this.thinkMillis = thinkMillis;
        this.extraAttributes = List.copyOf(extraAttributes);
        this.outageMillis = outageMillis;
        this.heapWaitMillis = heapWaitMillis;
        this.secondaryRefreshKeptMillis = secondaryRefreshKeptMillis;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String attributes = o.getOrDefault("attributes", "");
        FaultSuite suite = new FaultSuite(Integer.parseInt(o.getOrDefault("users", "8")),
                Long.parseLong(o.getOrDefault("think", "10")),
                attributes.isEmpty() ? List.of() : List.of(attributes.split(",")),
                TimeUnit.SECONDS.toMillis(Long.parseLong(o.getOrDefault("outage", "30"))),
                TimeUnit.SECONDS.toMillis(Long.parseLong(o.getOrDefault("heap-wait", "60"))));
        String onlyFault = o.get("fault");
        String onlyMode = o.get("mode");
        System.out.printf(Locale.ROOT, "Fault suite: Java %s, %d CPUs, %d users, %d ms think time%s%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), suite.users,
                suite.thinkMillis, attributes.isEmpty() ? "" : ", manager attributes " + attributes);
        List<Result> results = new ArrayList<>();
        for (boolean sticky : new boolean[] {true, false}) {
            if (onlyMode != null && !onlyMode.equals(sticky ? "sticky" : "non-sticky")) {
                continue;
            }
            for (Fault f : Fault.values()) {
                if (onlyFault != null && !onlyFault.equals(f.name())) {
                    continue;
                }
                Result r = suite.run(sticky, f);
                System.out.println(r + (r.problems.isEmpty() ? "" : " " + r.problems));
                results.add(r);
            }
        }
        System.out.println();
        System.out.println(HEADER);
        results.forEach(System.out::println);
        for (Result r : results) {
            if (!r.heapBefore.isEmpty()) {
                System.out.println(r.mode + ", " + r.description + ": used heap after a full GC, before -> after: "
                        + r.heapLine());
            }
        }
    }

    /** Runs one fault in one mode on a fresh cluster. */
    public Result run(boolean sticky, Fault fault) throws Exception {
        Result result = new Result(sticky ? "sticky" : "non-sticky", fault,
                TimeUnit.MILLISECONDS.toSeconds(outageMillis));
        MemcachedExtension memcached = MemcachedExtension.servers(2);
        memcached.startServers();
        String nodes = memcached.nodesAttribute("n1", "n2");
        List<Node> tomcats = new ArrayList<>();
        try {
            List<String> jvmOptions = new ArrayList<>(List.of("-Xmx256m"));
            if (secondaryRefreshKeptMillis > 0) {
                jvmOptions.add("-D" + FaultTomcat.SECONDARY_REFRESH_KEPT_MILLIS + "=" + secondaryRefreshKeptMillis);
            }
            tomcats.add(Node.start("tc1", nodes, sticky, extraAttributes, jvmOptions));
            tomcats.add(Node.start("tc2", nodes, sticky, extraAttributes, jvmOptions));
            Load load = new Load(tomcats, sticky);
            load.start(users, thinkMillis);
            Thread.sleep(STEADY_MILLIS);
            long steadyEnd = System.nanoTime();
            if (fault == Fault.KILL_ALL_MEMCACHED) {
                for (Node t : tomcats) {
                    result.heapBefore.add(t.heap(true)); // its full GC pauses requests: they count in no p99
                }
            }
            MemcachedServer victim = memcached.server(0);
            long faultStart = System.nanoTime();
            switch (fault) {
                case KILL_MEMCACHED:
                    victim.kill();
                    Thread.sleep(FAULT_MILLIS);
                    victim.start();
                    break;
                case PAUSE_MEMCACHED:
                    victim.pause();
                    Thread.sleep(PAUSE_MILLIS);
                    victim.resume();
                    break;
                case RESTART_MEMCACHED_EMPTY:
                    victim.kill();
                    victim.start();
                    Thread.sleep(FAULT_MILLIS);
                    break;
                case KILL_ALL_MEMCACHED:
                    for (MemcachedServer s : memcached.servers()) {
                        s.kill();
                    }
                    Thread.sleep(outageMillis);
                    for (MemcachedServer s : memcached.servers()) {
                        s.start();
                    }
                    break;
                default:
                    tomcats.get(0).kill();
                    Thread.sleep(FAULT_MILLIS);
                    break;
            }
            long faultEnd = System.nanoTime();
            Thread.sleep(AFTER_MILLIS);
            load.stop();
            load.report(result, steadyEnd, faultStart, faultEnd);
            if (fault == Fault.KILL_ALL_MEMCACHED) {
                for (Node t : tomcats) {
                    t.awaitSettled(result.problems);
                }
                Thread.sleep(heapWaitMillis);
                for (Node t : tomcats) {
                    result.heapAfter.add(t.heap(true));
                }
            }
        } finally {
            for (Node t : tomcats) {
                t.kill();
            }
            memcached.stopServers();
        }
        return result;
    }

    /** A forked Tomcat (FaultTomcat) and whether the suite killed it. */
    static final class Node {
        final String route;
        final ForkedJvm jvm;
        final int port;
        final boolean sticky;
        volatile boolean dead;
        /** For {@link #heap}: one kept connection, so the polls add no connections (Tomcat caches their buffers). */
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();

        private Node(String route, ForkedJvm jvm, boolean sticky) {
            this.route = route;
            this.jvm = jvm;
            this.port = jvm.port;
            this.sticky = sticky;
        }

        static Node start(String route, String nodes, boolean sticky, List<String> attributes,
                List<String> jvmOptions) throws IOException, InterruptedException {
            List<String> args = new ArrayList<>(List.of(route, nodes, String.valueOf(sticky)));
            args.addAll(attributes);
            return new Node(route, ForkedJvm.start(FaultTomcat.class.getName(), List.of(), jvmOptions, args),
                    sticky);
        }

        void kill() {
            dead = true;
            jvm.close();
        }

        /** Used heap ({@code gc}: after a full GC), sessions in memory and those waiting for a node, of this Tomcat. */
        Heap heap(boolean gc) throws IOException, InterruptedException {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/heap?gc=" + gc))
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
            Map<String, String> f = new LinkedHashMap<>();
            for (String part : body.trim().split(" ")) {
                String[] kv = part.split("=", 2);
                f.put(kv[0], kv[1]);
            }
            return new Heap(route, Long.parseLong(f.get("used")), Integer.parseInt(f.get("sessions")),
                    Integer.parseInt(f.get("unsaved")));
        }

        /**
         * Once the load stopped: waits (bounded) until this Tomcat stored what it held for memcached and holds no
         * session in memory (non-sticky; sticky sessions live there).
         */
        void awaitSettled(List<String> problems) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MAX_MILLIS);
            Heap h = heap(false);
            while ((h.unsaved > 0 || h.sessions > 0 && !sticky) && System.nanoTime() < deadline) {
                Thread.sleep(500);
                h = heap(false);
            }
            if (h.unsaved > 0) {
                problems.add(route + ": " + h.unsaved + " sessions still waiting for a node");
            }
        }
    }

    /** The virtual users. */
    static final class Load {
        private final List<Node> tomcats;
        private final boolean sticky;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();
        private final List<User> all = new ArrayList<>();
        private long started;
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();

        Load(List<Node> tomcats, boolean sticky) {
            this.tomcats = tomcats;
            this.sticky = sticky;
        }

        void start(int users, long thinkMillis) {
            started = System.nanoTime();
            for (int i = 0; i < users; i++) {
                User u = new User(i);
                all.add(u);
                Thread t = new Thread(() -> u.loop(thinkMillis), "user-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(15_000);
            }
        }

        /** Steady: requests started from the warm-up's end to {@code steadyEnd}; during: from fault start to end. */
        void report(Result r, long steadyEnd, long faultStart, long faultEnd) {
            long steadyFrom = started + TimeUnit.MILLISECONDS.toNanos(WARMUP_MILLIS);
            List<Long> steady = new ArrayList<>();
            List<Long> during = new ArrayList<>();
            for (User u : all) {
                r.requests += u.requests.get();
                r.failedRequests += u.failed.get();
                r.lostSessions += u.lostSessions.get();
                r.lostUpdates += u.lostUpdates.get();
                r.problems.addAll(u.problems);
                synchronized (u.samples) {
                    for (long[] s : u.samples) {
                        if (s[0] >= steadyFrom && s[0] < steadyEnd) {
                            steady.add(s[1]);
                        } else if (s[0] >= faultStart && s[0] <= faultEnd) {
                            during.add(s[1]);
                        }
                    }
                }
            }
            r.p99SteadyMillis = percentile(steady, 0.99);
            r.p99DuringMillis = percentile(during, 0.99);
            r.maxDuringMillis = during.stream().mapToLong(Long::longValue).max().orElse(0) / 1_000_000;
        }

        private static long percentile(List<Long> nanos, double p) {
            if (nanos.isEmpty()) {
                return 0;
            }
            long[] a = nanos.stream().mapToLong(Long::longValue).toArray();
            Arrays.sort(a);
            return a[(int) Math.min(a.length - 1, Math.ceil(p * a.length) - 1)] / 1_000_000;
        }

        /** One user: one session, one counter, requests until the run ends. */
        final class User {
            final int index;
            final AtomicLong requests = new AtomicLong();
            final AtomicLong failed = new AtomicLong();
            final AtomicLong lostSessions = new AtomicLong();
            final AtomicLong lostUpdates = new AtomicLong();
            final List<long[]> samples = new ArrayList<>();
            final List<String> problems = new ArrayList<>();
            private String sessionId;
            private int count;
            private int next;

            User(int index) {
                this.index = index;
                this.next = index;
            }

            /** The Tomcat this request goes to, as a balancer would choose it. */
            private Node target() {
                Node preferred;
                if (sticky && sessionId != null) {
                    String route = sessionId.substring(sessionId.lastIndexOf('.') + 1);
                    preferred = tomcats.stream().filter(t -> t.route.equals(route)).findFirst().orElse(tomcats.get(0));
                } else {
                    preferred = tomcats.get(next++ % tomcats.size());
                }
                if (preferred.dead) {
                    return tomcats.stream().filter(t -> !t.dead).findFirst().orElse(preferred);
                }
                return preferred;
            }

            void loop(long thinkMillis) {
                while (running.get()) {
                    request();
                    try {
                        Thread.sleep(thinkMillis);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }

            private void request() {
                for (int attempt = 1; attempt <= 2; attempt++) {
                    Node t = target();
                    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + t.port + "/count"))
                            .timeout(Duration.ofSeconds(10)).GET();
                    if (sessionId != null) {
                        b.header("Cookie", "JSESSIONID=" + sessionId);
                    }
                    long start = System.nanoTime();
                    HttpResponse<String> response;
                    try {
                        response = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                    } catch (IOException e) {
                        if (t.dead && attempt == 1) {
                            continue; // the balancer sends it to the other Tomcat
                        }
                        requests.incrementAndGet();
                        failed.incrementAndGet();
                        problem("request to " + t.route + " failed: " + e);
                        return;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    long took = System.nanoTime() - start;
                    requests.incrementAndGet();
                    synchronized (samples) {
                        samples.add(new long[] {start, took});
                    }
                    check(t, response);
                    return;
                }
            }

            private void check(Node t, HttpResponse<String> response) {
                if (response.statusCode() != 200) {
                    failed.incrementAndGet();
                    problem(t.route + " answered " + response.statusCode());
                    return;
                }
                response.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("JSESSIONID="))
                        .findFirst().ifPresent(c -> sessionId = c.substring("JSESSIONID=".length(),
                                c.indexOf(';') < 0 ? c.length() : c.indexOf(';')));
                int got = Integer.parseInt(response.body().replace("count=", "").trim());
                int expected = count + 1;
                if (got == 1 && expected > 1) {
                    lostSessions.incrementAndGet();
                    problem("session lost on " + t.route + " at count " + count);
                } else if (got < expected) {
                    lostUpdates.incrementAndGet();
                    problem("update lost on " + t.route + ": " + got + " for " + expected);
                }
                count = got;
            }

            private void problem(String what) {
                synchronized (problems) {
                    if (problems.size() < 5) {
                        problems.add("user " + index + ": " + what);
                    }
                }
            }
        }
    }
}
