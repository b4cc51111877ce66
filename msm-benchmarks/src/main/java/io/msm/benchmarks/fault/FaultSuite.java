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
 * or a Tomcat killed with SIGKILL. Each virtual user owns a session with a counter and checks every answer: a counter
 * back at 1 is a lost session, a counter below the expected one a lost update, anything but 200 a failed request.
 * Requests are timed; the p99 of those that started during the fault is reported next to the steady one.
 *
 * <p>Like a balancer, a user whose Tomcat refuses the connection goes to the other one (sticky: the Tomcat named in
 * its session id; non-sticky: round robin). Run: {@code java -cp msm-benchmarks/target/benchmarks.jar
 * io.msm.benchmarks.fault.FaultSuite [--users 8] [--think 10] [--attributes name=value,...]}.
 */
public final class FaultSuite {
    /** What is done to the cluster. */
    public enum Fault {
        KILL_MEMCACHED("memcached node killed (SIGKILL), back empty after 5 s"),
        PAUSE_MEMCACHED("memcached node paused (SIGSTOP) for 10 s"),
        RESTART_MEMCACHED_EMPTY("memcached node restarted empty"),
        KILL_TOMCAT("Tomcat killed (SIGKILL)");

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
        public final List<String> problems = new ArrayList<>();

        Result(String mode, Fault fault) {
            this.mode = mode;
            this.fault = fault;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "| %s | %s | %d | %d | %d | %d | %d | %d | %d |", mode, fault.description,
                    requests, failedRequests, lostSessions, lostUpdates, p99SteadyMillis, p99DuringMillis,
                    maxDuringMillis);
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

    private final int users;
    private final long thinkMillis;
    private final List<String> extraAttributes;

    public FaultSuite(int users, long thinkMillis) {
        this(users, thinkMillis, List.of());
    }

    /** With more Manager attributes ({@code name=value}) on both Tomcats. */
    public FaultSuite(int users, long thinkMillis, List<String> extraAttributes) {
        this.users = users;
        this.thinkMillis = thinkMillis;
        this.extraAttributes = List.copyOf(extraAttributes);
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String attributes = o.getOrDefault("attributes", "");
        FaultSuite suite = new FaultSuite(Integer.parseInt(o.getOrDefault("users", "8")),
                Long.parseLong(o.getOrDefault("think", "10")),
                attributes.isEmpty() ? List.of() : List.of(attributes.split(",")));
        System.out.printf(Locale.ROOT, "Fault suite: Java %s, %d CPUs, %d users, %d ms think time%s%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), suite.users,
                suite.thinkMillis, attributes.isEmpty() ? "" : ", manager attributes " + attributes);
        List<Result> results = new ArrayList<>();
        for (boolean sticky : new boolean[] {true, false}) {
            for (Fault f : Fault.values()) {
                Result r = suite.run(sticky, f);
                System.out.println(r + (r.problems.isEmpty() ? "" : " " + r.problems));
                results.add(r);
            }
        }
        System.out.println();
        System.out.println(HEADER);
        results.forEach(System.out::println);
    }

    /** Runs one fault in one mode on a fresh cluster. */
    public Result run(boolean sticky, Fault fault) throws Exception {
        Result result = new Result(sticky ? "sticky" : "non-sticky", fault);
        MemcachedExtension memcached = MemcachedExtension.servers(2);
        memcached.startServers();
        String nodes = memcached.nodesAttribute("n1", "n2");
        List<Node> tomcats = new ArrayList<>();
        try {
            tomcats.add(Node.start("tc1", nodes, sticky, extraAttributes));
            tomcats.add(Node.start("tc2", nodes, sticky, extraAttributes));
            Load load = new Load(tomcats, sticky);
            load.start(users, thinkMillis);
            Thread.sleep(STEADY_MILLIS);
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
                default:
                    tomcats.get(0).kill();
                    Thread.sleep(FAULT_MILLIS);
                    break;
            }
            long faultEnd = System.nanoTime();
            Thread.sleep(AFTER_MILLIS);
            load.stop();
            load.report(result, faultStart, faultEnd);
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
        volatile boolean dead;

        private Node(String route, ForkedJvm jvm) {
            this.route = route;
            this.jvm = jvm;
            this.port = jvm.port;
        }

        static Node start(String route, String nodes, boolean sticky, List<String> attributes)
                throws IOException, InterruptedException {
            List<String> args = new ArrayList<>(List.of(route, nodes, String.valueOf(sticky)));
            args.addAll(attributes);
            return new Node(route, ForkedJvm.start(FaultTomcat.class.getName(), List.of(), List.of("-Xmx256m"), args));
        }

        void kill() {
            dead = true;
            jvm.close();
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

        void report(Result r, long faultStart, long faultEnd) {
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
                        if (s[0] >= steadyFrom && s[0] < faultStart) {
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
