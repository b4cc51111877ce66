package io.msm.packaging;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.msm.test.memcached.MemcachedExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A rolling restart behind nginx as an operator does it: two Tomcat distributions with msm (non-sticky) behind nginx
 * configured as the README says (round-robin, {@code proxy_next_upstream error timeout}), users of MigrationIT's shop
 * (FORM login, a cart page) sending requests the whole time, and each Tomcat in turn stopped gracefully (SIGTERM, as
 * {@code catalina.sh stop} or a service manager does) and started again. nginx sends a request to the other Tomcat
 * when the connection to the stopping one fails, but not when the stopping one answers: an answer Tomcat gives while
 * it stops (404 once the webapp has stopped, 503 while the connector is paused) reaches the user. Every answer must be
 * the user's cart, logged in, its counter one more. It holds with the server.xml of {@link TomcatInstance}: the stop
 * closes the listening socket first and waits for the open connections before it stops the webapp.
 */
class GracefulStopIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private static final Path DOWNLOADS = Paths.get(System.getProperty("msm.packaging.downloads"));
    private static final Path WORK = Paths.get(System.getProperty("msm.packaging.work"));
    /**
     * Users sending requests the whole time, each in a thread of its own with its own session: enough that a stop
     * finds requests between the connector and their servlet (the FORM authenticator loads the session from
     * memcached there), where the default stop answers them 404. On the default server.xml 1 line of 3 failed in a
     * run with 8 users 20 ms apart; 8 of 9 in three runs with 16 users 5 ms apart.
     */
    private static final int USERS = 16;
    /** Graceful stops per Tomcat line: tc1, tc2, tc1, ..., each Tomcat started again after its stop. */
    private static final int STOPS = 4;
    /** Answers the users must get from a Tomcat before it is stopped, and from the other one after. */
    private static final int ANSWERS_AROUND_A_STOP = 40;
    /** Bounds of the traffic: requests per user, and the whole time. */
    private static final int MAX_REQUESTS_PER_USER = 3_000;
    private static final Duration MAX_TIME = Duration.ofSeconds(120);
    /** Each user's pause between two requests (keeps the 2-core build machines able to start a Tomcat meanwhile). */
    private static final Duration PACE = Duration.ofMillis(5);

    private final List<AutoCloseable> running = new ArrayList<>();

    @ParameterizedTest(name = "Tomcat {0}")
    @ValueSource(strings = {"9.0", "10.1", "11.0"})
    void gracefulStopsBehindNginxAnswerEveryRequest(String line) throws Exception {
        assumeTrue(Nginx.binary() != null, "nginx is not installed (.ci/run installs it)");
        TomcatInstance[] tc = cluster(line);
        Nginx nginx = track(nginx(line, tc));
        List<ShopUser> users = new ArrayList<>();
        for (int i = 1; i <= USERS; i++) {
            ShopUser u = new ShopUser("user" + i, "secret-" + i, nginx);
            u.login(tc[i % 2].url(""), id -> { }); // on one Tomcat: the login is not what this test is about
            users.add(u);
        }
        Traffic traffic = track(new Traffic(users, nginx));
        List<String> stops = new ArrayList<>();
        for (int i = 0; i < STOPS; i++) {
            TomcatInstance stopped = tc[i % 2];
            TomcatInstance other = tc[(i + 1) % 2];
            traffic.phase("both up");
            // nginx sends requests to both (again): after a restart it leaves a Tomcat alone for its fail_timeout
            traffic.awaitAnswers(other.route, ANSWERS_AROUND_A_STOP);
            traffic.awaitAnswers(stopped.route, ANSWERS_AROUND_A_STOP);
            traffic.phase(stopped.route + " stopping");
            long start = System.nanoTime();
            stopped.stop();
            stops.add(stopped.route + " " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms");
            traffic.phase(stopped.route + " stopped");
            traffic.awaitAnswers(other.route, ANSWERS_AROUND_A_STOP);
            traffic.phase(stopped.route + " starting");
            stopped.start().awaitReady(Duration.ofSeconds(90));
        }
        traffic.close();
        List<String> bad = traffic.badAnswers();
        int requests = traffic.answers() + bad.size();
        System.out.printf("GracefulStopIT[%s]: %d requests, %d not answered as expected %s; graceful stops (SIGTERM"
                + " to exit): %s%n", line, requests, bad.size(), traffic.badKinds(), stops);
        assertTrue(bad.isEmpty(), () -> bad.size() + " of " + requests + " requests not answered as expected "
                + traffic.badKinds() + ", e.g.:\n" + String.join("\n", bad.subList(0, Math.min(10, bad.size())))
                + "\n" + nginx.log());
    }

    /**
     * Two Tomcats of the line with msm non-sticky (the README's context.xml plus the shop's realm), MigrationIT's shop
     * as their webapp, started in parallel.
     */
    private TomcatInstance[] cluster(String line) throws Exception {
        Path home = PackagingIT.home(line);
        Path bundle = DOWNLOADS.resolve(line.equals("9.0") ? "msm-bundle-tc9.jar" : "msm-bundle-tc10.jar");
        Path webapp = Paths.get(GracefulStopIT.class.getResource("/migration-webapp/ready.txt").toURI()).getParent();
        String contextXml = PackagingIT.readmeContextXml(MEMCACHED.nodesAttribute("n1", "n2"))
                .replace("<Manager ", "<Realm className=\"org.apache.catalina.realm.MemoryRealm\""
                        + " pathname=\"conf/shop-users.xml\"/>\n    <Manager ")
                .replace("memcachedNodes=", "sticky=\"false\"\n             memcachedNodes=");
        TomcatInstance[] tc = new TomcatInstance[2];
        for (int i = 0; i < 2; i++) {
            String route = "tc" + (i + 1);
            tc[i] = TomcatInstance.create(home, WORK.resolve("graceful-" + line + "-" + route), route, bundle, webapp,
                    contextXml);
            Files.writeString(tc[i].conf().resolve("shop-users.xml"), usersXml());
            track(tc[i].start());
        }
        CompletableFuture<?>[] ready = new CompletableFuture<?>[2];
        for (int i = 0; i < 2; i++) {
            TomcatInstance t = tc[i];
            ready[i] = CompletableFuture.runAsync(() -> {
                try {
                    t.awaitReady(Duration.ofSeconds(90));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
        }
        CompletableFuture.allOf(ready).join();
        return tc;
    }

    private static String usersXml() {
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tomcat-users>\n");
        for (int i = 1; i <= USERS; i++) {
            sb.append("  <user username=\"user").append(i).append("\" password=\"secret-").append(i)
                    .append("\" roles=\"shopper\"/>\n");
        }
        return sb.append("</tomcat-users>\n").toString();
    }

    /**
     * The README's non-sticky nginx block, with {@code fail_timeout=2s} instead of nginx's default 10 s, how long
     * nginx leaves a Tomcat it found stopped alone (as in MigrationIT): the test waits for nginx to reach a restarted
     * Tomcat before it stops the other one, only not for the rest of those 10 s.
     */
    private static Nginx nginx(String line, TomcatInstance[] tc) throws IOException, InterruptedException {
        return Nginx.start(WORK.resolve("nginx-graceful-" + line), "  upstream tomcats { server 127.0.0.1:"
                + tc[0].port + " fail_timeout=2s; server 127.0.0.1:" + tc[1].port + " fail_timeout=2s; }\n",
                "tomcats", MigrationIT.HOST_HEADER);
    }

    private <T extends AutoCloseable> T track(T resource) {
        running.add(resource);
        return resource;
    }

    @AfterEach
    void stopAll() throws Exception {
        for (int i = running.size() - 1; i >= 0; i--) {
            running.get(i).close();
        }
        running.clear();
    }

    /**
     * Each user requesting its cart through nginx in a thread of its own, one request after the other (and
     * {@link #PACE}), until closed. Bounded: {@link #MAX_REQUESTS_PER_USER} requests per user and {@link #MAX_TIME}.
     * An answer that is not the user's cart with its counter one more is kept, with the phases it was sent and
     * answered in; the user goes on (its next answer is checked against its last good one).
     */
    private static final class Traffic implements AutoCloseable {
        private final Nginx nginx;
        private final long deadline = System.nanoTime() + MAX_TIME.toNanos();
        private final List<Thread> threads = new ArrayList<>();
        private final Map<String, Integer> answersBy = new HashMap<>(); // guarded by this
        private final List<String> bad = new ArrayList<>(); // guarded by this
        /** The bad answers' count by kind and the phase they came in, e.g. "HTTP 404 in 'tc1 stopping'". */
        private final Map<String, Integer> badKinds = new TreeMap<>(); // guarded by this
        private int answers; // guarded by this
        private volatile boolean stopRequested;
        private volatile String phase = "start";

        Traffic(List<ShopUser> users, Nginx nginx) {
            this.nginx = nginx;
            for (ShopUser u : users) {
                Thread t = new Thread(() -> run(u), "graceful-stop-" + u.name);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        private void run(ShopUser user) {
            for (int request = 1; request <= MAX_REQUESTS_PER_USER && !stopRequested; request++) {
                String sent = phase;
                if (System.nanoTime() > deadline) {
                    bad("time bound", user.name + ": the traffic's time bound ran out in phase '" + sent + "'");
                    return;
                }
                try {
                    String problem = user.next();
                    if (problem == null) {
                        answered(user.tomcat());
                    } else {
                        String text = problem.replaceAll("<[^>]*>", " ").replaceAll("\\s+", " ");
                        bad(kind(problem), user.name + ", request " + request + ", sent in phase '" + sent + "': "
                                + text.substring(0, Math.min(300, text.length())));
                    }
                    Thread.sleep(PACE.toMillis()); // pacing of a loop bounded by count and time
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (!stopRequested) {
                bad("count bound", user.name + ": the traffic's count bound ran out in phase '" + phase + "'");
            }
        }

        /** "HTTP 404", or the first word of {@link ShopUser#next()}'s other problems ("request" failed, "count"). */
        private static String kind(String problem) {
            return problem.startsWith("HTTP ") ? problem.substring(0, "HTTP 404".length()) : problem.split(" ", 2)[0];
        }

        private synchronized void answered(String tomcat) {
            answers++;
            answersBy.merge(tomcat, 1, Integer::sum);
            notifyAll();
        }

        private synchronized void bad(String kind, String what) {
            bad.add(what);
            badKinds.merge(kind + " in '" + phase + "'", 1, Integer::sum);
        }

        /** Names the phase the next requests belong to (for the failure message). */
        void phase(String name) {
            phase = name;
        }

        /** Waits (60 s at most) until {@code tomcat} has given {@code more} further answers. */
        synchronized void awaitAnswers(String tomcat, int more) throws InterruptedException {
            int target = answersBy.getOrDefault(tomcat, 0) + more;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (answersBy.getOrDefault(tomcat, 0) < target) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(tomcat + " gave no " + more + " answers within 60 s in phase '" + phase
                            + "': " + answersBy + ", bad answers " + badKinds + "\n" + nginx.log());
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        synchronized int answers() {
            return answers;
        }

        synchronized String badKinds() {
            return badKinds.toString();
        }

        synchronized List<String> badAnswers() {
            return new ArrayList<>(bad);
        }

        @Override
        public void close() {
            stopRequested = true;
            try {
                for (Thread t : threads) {
                    t.join(TimeUnit.SECONDS.toMillis(40));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
