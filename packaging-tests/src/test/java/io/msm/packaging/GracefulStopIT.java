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
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
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
    /**
     * Graceful stops per Tomcat line: tc1, tc2, tc1, ..., each Tomcat started again after its stop. On the default
     * server.xml each Tomcat is stopped once (the build's time: that run is one line, checking msm, not the stop).
     */
    private static final int STOPS = 4;
    private static final int STOPS_ON_THE_DEFAULT_SERVER_XML = 2;
    /** Answers the users must get from a Tomcat before it is stopped, and from the other one after. */
    private static final int ANSWERS_AROUND_A_STOP = 40;
    /** Answers a Tomcat's own stop may give on the default server.xml (the webapp stopped; the connector paused). */
    private static final Set<String> STOPPING_TOMCATS_OWN = Set.of("HTTP 404", "HTTP 503");

    private final Running running = new Running();

    @ParameterizedTest(name = "Tomcat {0}")
    @ValueSource(strings = {"9.0", "10.1", "11.0"})
    void gracefulStopsBehindNginxAnswerEveryRequest(String line) throws Exception {
        Traffic traffic = rollingRestart(line, false, STOPS);
        List<String> bad = traffic.badAnswers();
        assertTrue(bad.isEmpty(), () -> bad.size() + " of " + traffic.requests() + " requests not answered as expected "
                + traffic.badKinds() + ", e.g.:\n" + String.join("\n", bad.subList(0, Math.min(10, bad.size())))
                + "\n" + traffic.nginx.log());
    }

    /**
     * On Tomcat's default server.xml (the stop pauses the connector, its socket open, and stops the webapp while
     * requests are in flight) the stopping Tomcat's own 404 and 503 reach the users: the user's next request goes on
     * from its last good answer, as a person's reload would. Nothing else may go wrong: no session lost, logged out,
     * set back or given to another user while msm's Tomcats stop with requests in flight.
     */
    @Test
    void onTheDefaultServerXmlOnlyTheStoppingTomcatsOwnAnswersGoWrong() throws Exception {
        Traffic traffic = rollingRestart("11.0", true, STOPS_ON_THE_DEFAULT_SERVER_XML);
        List<String> other = traffic.badAnswers().stream()
                .filter(b -> STOPPING_TOMCATS_OWN.stream().noneMatch(k -> b.contains(": " + k + " ")))
                .collect(Collectors.toList());
        assertTrue(other.isEmpty(), () -> other.size() + " of " + traffic.requests() + " requests answered wrong "
                + traffic.badKinds() + ", e.g.:\n" + String.join("\n", other.subList(0, Math.min(10, other.size())))
                + "\n" + traffic.nginx.log());
    }

    /**
     * Two Tomcats of {@code line} behind nginx, stopped gracefully {@code stops} times in turn, each started again,
     * while the users request their carts. Fails if the traffic's bounds ran out, or if no stopping Tomcat
     * answered a request after its stop began (then no stop met requests in flight, and the run showed nothing).
     */
    private Traffic rollingRestart(String line, boolean defaultServerXml, int stops) throws Exception {
        assumeTrue(Nginx.binary() != null, "nginx is not installed (.ci/run installs it)");
        TomcatInstance[] tc = cluster(line, defaultServerXml);
        Nginx nginx = running.track(nginx(line, tc));
        List<ShopUser> users = new ArrayList<>();
        for (int i = 1; i <= USERS; i++) {
            ShopUser u = new ShopUser("user" + i, "secret-" + i, nginx);
            u.login(tc[i % 2].url(""), id -> { }); // on one Tomcat: the login is not what this test is about
            users.add(u);
        }
        Traffic traffic = running.track(new Traffic(users, nginx));
        List<String> stopTimes = new ArrayList<>();
        int answeredWhileStopping = 0;
        for (int i = 0; i < stops; i++) {
            TomcatInstance stopped = tc[i % 2];
            TomcatInstance other = tc[(i + 1) % 2];
            traffic.phase("both up");
            // nginx sends requests to both (again): after a restart it leaves a Tomcat alone for its fail_timeout
            traffic.awaitAnswers(other.route, ANSWERS_AROUND_A_STOP);
            traffic.awaitAnswers(stopped.route, ANSWERS_AROUND_A_STOP);
            traffic.phase(stopped.route + " stopping");
            long start = System.nanoTime();
            stopped.stop();
            stopTimes.add(stopped.route + " " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms");
            answeredWhileStopping += traffic.answersFrom(stopped.route);
            traffic.phase(stopped.route + " stopped");
            traffic.awaitAnswers(other.route, ANSWERS_AROUND_A_STOP);
            traffic.phase(stopped.route + " starting");
            stopped.start().awaitReady(Duration.ofSeconds(90));
        }
        traffic.close();
        System.out.printf("GracefulStopIT[%s%s]: %d requests, %d not answered as expected %s; answered by a Tomcat"
                + " after its stop began: %d; graceful stops (SIGTERM to exit): %s%n", line,
                defaultServerXml ? ", default server.xml" : "", traffic.requests(), traffic.badAnswers().size(),
                traffic.badKinds(), answeredWhileStopping, stopTimes);
        assertTrue(traffic.boundsHeld(), () -> "the traffic's bounds ran out: " + traffic.bounds);
        assertTrue(answeredWhileStopping > 0, "no stopping Tomcat answered a request after its stop began: the stops"
                + " met no requests in flight");
        return traffic;
    }

    /**
     * Two Tomcats of the line with msm non-sticky (the README's context.xml plus the shop's realm), MigrationIT's shop
     * as their webapp, started in parallel.
     */
    private TomcatInstance[] cluster(String line, boolean defaultServerXml) throws Exception {
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
            Files.writeString(tc[i].conf().resolve("shop-users.xml"), MigrationIT.usersXml(USERS));
            if (defaultServerXml) {
                tc[i].withDefaultStop();
            }
            running.track(tc[i].start());
        }
        TomcatInstance.awaitAllReady(tc);
        return tc;
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

    @AfterEach
    void stopAll() throws Exception {
        running.closeAll();
    }
}
