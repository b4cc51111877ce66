package io.msm.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The rolling switch from memcached-session-manager 2.3.2 to msm, as an operator does it, with real pieces: a Tomcat
 * 9 distribution whose lib/ holds the old manager's published jars (memcached-session-manager, -tc9, spymemcached)
 * and whose conf/context.xml declares it (Java serialization, its default), two such Tomcats (jvmRoute tc1, tc2)
 * behind nginx configured as the README says, two memcached nodes. Six users log in (FORM login) and then request a
 * protected page in rounds the whole time; the page counts and fills a cart (a list of maps of String, Integer,
 * BigDecimal, LocalDate). One Tomcat after the other is stopped gracefully, switched (the three jars out, msm's bundle
 * in, only {@code className} changed and {@code legacySessions} added) and started again; at the end the Tomcat that
 * holds more users is killed (SIGKILL). Every answer must show the user still logged in with its counter one more
 * than before; each user's counter ends at the number of its answered requests.
 */
class MigrationIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    /**
     * {@code legacySessions} of the switched Tomcats during the rollout, as README's migration guide says: msm reads
     * what the old manager stored and writes what it reads (non-sticky: requests of one user alternate between old and
     * switched Tomcats; sticky: a user moves to an old Tomcat when an msm Tomcat stops).
     */
    static final String LEGACY_SESSIONS_ROLLOUT = "readWrite";
    /** {@code legacySessions} once no Tomcat runs the old manager (the guide's second step, rolled out as well). */
    static final String LEGACY_SESSIONS_AFTER = "read";
    /**
     * The old-manager baselines (the same stories with both Tomcats staying on it: the harness itself loses nothing)
     * run with {@code -Dmsm.it.baselines=true}; about a minute, left out of the default build for its time.
     */
    private static final boolean BASELINES = Boolean.getBoolean("msm.it.baselines");

    static final String OLD_MANAGER = "de.javakaffee.web.msm.MemcachedBackupSessionManager";
    static final String MSM_MANAGER = "io.msm.tomcat.MemcachedSessionManager";

    private static final Path DOWNLOADS = Paths.get(System.getProperty("msm.packaging.downloads"));
    private static final Path WORK = Paths.get(System.getProperty("msm.packaging.work"));
    private static final Path OLD_MANAGER_JARS = Paths.get(System.getProperty("msm.packaging.oldManager"));
    private static final int USERS = 6;
    /** Rounds started after the story's start at most, and its time at most. */
    private static final int MAX_ROUNDS = 1000;
    private static final Duration MAX_TIME = Duration.ofSeconds(150);
    private static final Duration PACE = Duration.ofMillis(100);
    /** Rounds that must pass in each phase before the next step. */
    private static final int ROUNDS_PER_PHASE = 3;
    private static final Duration PHASE_MAX = Duration.ofSeconds(60);

    private final Running running = new Running();

    /** Sticky: msm reads the sessions the old manager stored (the users of the stopped Tomcat move to the other). */
    @Test
    void stickyRollingSwitchKeepsEveryUserLoggedInAndCounting() throws Exception {
        story("sticky-switch", true, LEGACY_SESSIONS_ROLLOUT, null);
    }

    /** The harness itself: the same sticky story with both Tomcats staying on the old manager loses nothing. */
    @Test
    void stickyRollingRestartOnTheOldManagerLosesNothing() throws Exception {
        assumeTrue(BASELINES, "-Dmsm.it.baselines=true runs the old-manager baselines");
        story("sticky-old", true, null, null);
    }

    /**
     * Non-sticky (round-robin): while one Tomcat runs msm and the other the old manager, every user alternates between
     * them, so msm must read and write the old format; then the guide's second step (readWrite to read, one Tomcat at
     * a time): the sessions continue in msm's format.
     */
    @Test
    void nonStickyRollingSwitchKeepsEveryUserLoggedInAndCounting() throws Exception {
        story("non-sticky-switch", false, LEGACY_SESSIONS_ROLLOUT, LEGACY_SESSIONS_AFTER);
    }

    /** The non-sticky harness: both Tomcats stay on the old manager. */
    @Test
    void nonStickyRollingRestartOnTheOldManagerLosesNothing() throws Exception {
        assumeTrue(BASELINES, "-Dmsm.it.baselines=true runs the old-manager baselines");
        story("non-sticky-old", false, null, null);
    }

    /**
     * The story. {@code legacySessions} null: both Tomcats stay on the old manager (restarted instead of switched),
     * the baseline of the harness.
     */
    private void story(String name, boolean sticky, String legacySessions, String afterRollout) throws Exception {
        assumeTrue(Nginx.binary() != null, "nginx is not installed (.ci/run installs it)");
        Timeline time = new Timeline(name);
        try {
            TomcatInstance[] tc = oldCluster(name, sticky);
            time.phase("tc1 and tc2 started on memcached-session-manager 2.3.2");
            Nginx nginx = running.track(nginx(name, sticky, tc));
            List<ShopUser> users = new ArrayList<>();
            for (int i = 1; i <= USERS; i++) {
                ShopUser u = new ShopUser("user" + i, "secret-" + i, nginx);
                u.login(nginx.url(""), sticky ? id -> { } : MigrationIT::awaitStoredSession);
                users.add(u);
            }
            time.phase(USERS + " users logged in " + where(users));
            Rounds rounds = running.track(new Rounds(users, MAX_ROUNDS, MAX_TIME, PACE));
            rounds.phase("both on the old manager");
            rounds.await(ROUNDS_PER_PHASE, PHASE_MAX);
            time.phase(rounds.completed() + " rounds on the old manager");
            Rollout rollout = new Rollout(nginx, rounds, time, users, sticky, legacySessions);
            rollout.stopSwitchStart(tc[0], tc[1], "the old manager");
            rollout.stopSwitchStart(tc[1], tc[0], rollout.target);
            if (afterRollout != null) {
                Rollout after = new Rollout(nginx, rounds, time, users, sticky, afterRollout);
                after.stopSwitchStart(tc[0], tc[1], rollout.target);
                after.stopSwitchStart(tc[1], tc[0], after.target);
                rollout = after;
            }
            rollout.killTheBusier(tc);
            rounds.close();
            rounds.check();
            if (afterRollout != null) {
                for (ShopUser u : users) {
                    byte[] stored = serverOf(u.session()).get(u.session());
                    assertTrue(stored != null && new String(stored, 0, 4, java.nio.charset.StandardCharsets.US_ASCII)
                            .equals("MSMB"), u.name + ": its session continues in msm's format");
                }
                time.phase("every session in msm's format");
            }
            for (ShopUser u : users) {
                assertEquals(1 + u.rounds(), u.count(), u.name + ": its counter is its number of answered requests");
            }
            time.phase("every counter is its user's number of answered requests (" + users.get(0).rounds()
                    + " after the login, " + rounds.completed() + " rounds)");
        } finally {
            time.print();
        }
    }

    /** The operator's steps while the rounds go on. */
    private static final class Rollout {
        private final Nginx nginx;
        private final Rounds rounds;
        private final Timeline time;
        private final List<ShopUser> users;
        private final boolean sticky;
        private final String legacySessions;
        /** What a stopped Tomcat is started on. */
        final String target;

        Rollout(Nginx nginx, Rounds rounds, Timeline time, List<ShopUser> users, boolean sticky,
                String legacySessions) {
            this.nginx = nginx;
            this.rounds = rounds;
            this.time = time;
            this.users = users;
            this.sticky = sticky;
            this.legacySessions = legacySessions;
            this.target = legacySessions == null ? "the old manager" : "msm (legacySessions=" + legacySessions + ")";
        }

        /** {@code stopped} stopped gracefully (its users move to {@code other}), switched, started again. */
        void stopSwitchStart(TomcatInstance stopped, TomcatInstance other, String otherRuns) throws Exception {
            awaitBalancerReaches(nginx, other.route, sticky); // nginx counts it up again (after its own restart)
            time.phase("nginx reaches " + other.route);
            rounds.phase(stopped.route + " stopping");
            stopped.stop();
            time.phase(stopped.route + " stopped gracefully");
            rounds.phase(stopped.route + " stopped");
            rounds.await(ROUNDS_PER_PHASE, PHASE_MAX);
            time.phase(ROUNDS_PER_PHASE + " rounds with " + stopped.route + " stopped " + where(users));
            if (legacySessions != null) {
                stopped.replaceManager(List.of(DOWNLOADS.resolve("msm-bundle-tc9.jar")),
                        msmContextXml(sticky, legacySessions));
            }
            rounds.phase(stopped.route + " starting on " + target);
            awaitOwnReady(stopped.start(), Duration.ofSeconds(60));
            time.phase(stopped.route + " started on " + target);
            rounds.phase(stopped.route + " on " + target + ", " + other.route + " on " + otherRuns);
            rounds.await(ROUNDS_PER_PHASE, PHASE_MAX);
            time.phase(ROUNDS_PER_PHASE + " rounds with " + stopped.route + " on " + target + " " + where(users));
        }

        /** SIGKILL for the Tomcat that served more users last; they go on on the other. */
        void killTheBusier(TomcatInstance[] tc) throws Exception {
            TomcatInstance killed = holderOfMoreUsers(users, tc);
            TomcatInstance survivor = killed == tc[0] ? tc[1] : tc[0];
            awaitBalancerReaches(nginx, survivor.route, sticky);
            rounds.pause();
            if (sticky) {
                // the asynchronous backup of the last requests may still be in flight: README says a crash loses it
                oneSettledRound(users);
            }
            time.phase("nginx reaches " + survivor.route + ", rounds paused, every change stored");
            killed.kill();
            time.phase(killed.route + " killed, it held the users " + where(users));
            rounds.phase(killed.route + " killed");
            rounds.resume();
            rounds.await(ROUNDS_PER_PHASE, PHASE_MAX);
            time.phase(ROUNDS_PER_PHASE + " rounds after the kill " + where(users));
        }
    }

    /** tc1 and tc2 on the old manager, started in parallel, with the shop's users file. */
    private TomcatInstance[] oldCluster(String name, boolean sticky) throws Exception {
        Path home = PackagingIT.home("9.0");
        Path webapp = Paths.get(MigrationIT.class.getResource("/migration-webapp/ready.txt").toURI()).getParent();
        List<Path> oldJars;
        try (Stream<Path> jars = Files.list(OLD_MANAGER_JARS)) {
            oldJars = jars.sorted().collect(Collectors.toList());
        }
        assertEquals(3, oldJars.size(), "memcached-session-manager, -tc9 and spymemcached: " + oldJars);
        TomcatInstance[] tc = new TomcatInstance[2];
        for (int i = 0; i < 2; i++) {
            String route = "tc" + (i + 1);
            tc[i] = TomcatInstance.create(home, WORK.resolve("migration-" + name + "-" + route), route, oldJars,
                    webapp, oldContextXml(sticky));
            Files.writeString(tc[i].conf().resolve("shop-users.xml"), usersXml(USERS));
            running.track(tc[i].start());
        }
        CompletableFuture<?>[] ready = new CompletableFuture<?>[2];
        for (int i = 0; i < 2; i++) {
            TomcatInstance t = tc[i];
            ready[i] = CompletableFuture.runAsync(() -> {
                try {
                    awaitOwnReady(t, Duration.ofSeconds(90));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
        }
        CompletableFuture.allOf(ready).join();
        return tc;
    }

    /**
     * {@link TomcatInstance#awaitReady}, then the check that its port is its own: on a machine shared with other test
     * runs another server can take the free port picked for it before it binds (its connector then fails with
     * "Address already in use" while the other server answers). Then one throwaway session (the login page, directly):
     * the JSP compiled and the session manager's first store done before users come.
     */
    private static void awaitOwnReady(TomcatInstance t, Duration max) throws InterruptedException {
        t.awaitReady(max);
        HttpClient http = HttpClient.newHttpClient();
        String whoami = fetch(http, t.url("/whoami.jsp"));
        assertTrue(whoami.startsWith("200 tomcat=" + t.route), () -> t.route + "'s port " + t.port
                + " is not its own: /whoami.jsp answered " + whoami + "\n" + t.console());
        String login = fetch(http, t.url("/login.jsp"));
        assertTrue(login.startsWith("200 "), () -> t.route + " /login.jsp: " + login);
    }

    /** "status body", or the exception. */
    private static String fetch(HttpClient http, String url) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + " " + r.body().trim();
        } catch (IOException e) {
            return e.toString();
        }
    }

    /**
     * conf/context.xml as the old manager's users wrote it (plus the shop's realm). Non-sticky, as in its
     * documentation's non-sticky example, {@code sessionBackupAsync="false"} (the next request, on the other Tomcat,
     * must find the write), {@code sessionBackupTimeout="1000"} (its 100 ms default on this shared 2-core machine:
     * while the other Tomcat started, a write took longer, the old manager logged "Could not store session ... in
     * memcached." and marked the session's node unavailable, and the user's next request got the login page), and
     * {@link #NON_STICKY_FORM_LOGIN}.
     */
    static String oldContextXml(boolean sticky) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<Context>\n"
                + "    <WatchedResource>WEB-INF/web.xml</WatchedResource>\n"
                + (sticky ? "" : NON_STICKY_FORM_LOGIN)
                + "    <Realm className=\"org.apache.catalina.realm.MemoryRealm\" pathname=\"conf/shop-users.xml\"/>\n"
                + "    <Manager className=\"" + OLD_MANAGER + "\"\n"
                + "             memcachedNodes=\"" + MEMCACHED.nodesAttribute("n1", "n2") + "\"\n"
                + "             sticky=\"" + sticky + "\""
                + (sticky ? "" : " sessionBackupAsync=\"false\" sessionBackupTimeout=\"1000\"") + "/>\n"
                + "</Context>\n";
    }

    /**
     * Non-sticky, the old manager on Tomcat 9.0.117 cannot keep a session whose id Tomcat changes: Tomcat's
     * {@code Request.changeSessionId()} calls {@code Manager.rotateSessionId}, which memcached-session-manager 2.3.2
     * does not override (it overrides {@code changeSessionId(Session)}). The FORM authenticator changes the id twice
     * (when it shows the login page, and at the login); the old manager then deletes the session's first id from
     * memcached, stores nothing at the request's end (its debug log: "No session found in session map for ..."), and
     * after the login never stores the session again ("Session ... is still used by another request, skipping
     * backup"): through a round-robin balancer the login's POST gets HTTP 408 ("The time allowed for the login
     * process has been exceeded") or the next request the login page. A non-sticky FORM login on this Tomcat works
     * with the old manager only without those id changes, which this valve turns off (at the cost of Tomcat's
     * session fixation protection).
     */
    static final String NON_STICKY_FORM_LOGIN = "    <Valve"
            + " className=\"org.apache.catalina.authenticator.FormAuthenticator\""
            + " changeSessionIdOnAuthentication=\"false\"/>\n";

    /** The switch: only {@code className} changed, {@code legacySessions} added. */
    static String msmContextXml(boolean sticky, String legacySessions) {
        String old = oldContextXml(sticky);
        String xml = old.replace("className=\"" + OLD_MANAGER + "\"",
                "className=\"" + MSM_MANAGER + "\"\n             legacySessions=\"" + legacySessions + "\"");
        assertTrue(!xml.equals(old), xml);
        return xml;
    }

    /** The shop's users user1..user{@code users} (password secret-N, role shopper), for a MemoryRealm. */
    static String usersXml(int users) {
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tomcat-users>\n");
        for (int i = 1; i <= users; i++) {
            sb.append("  <user username=\"user").append(i).append("\" password=\"secret-").append(i)
                    .append("\" roles=\"shopper\"/>\n");
        }
        return sb.append("</tomcat-users>\n").toString();
    }

    /**
     * nginx passes the upstream's name as Host ({@code tc1}, {@code tomcats}) and talks HTTP/1.0 to it, so Tomcat makes
     * every redirect absolute with that name: the FORM login's redirect to the page asked for would send the browser
     * to http://tc1/shop/cart.jsp. The client's Host, as the README's nginx blocks pass it.
     */
    static final String HOST_HEADER = "      proxy_set_header Host $http_host;\n";

    /**
     * The README's nginx configuration: sticky on the jvmRoute (each Tomcat the other's backup), or round-robin. One
     * change: {@code fail_timeout=2s} instead of nginx's default 10 s, how long nginx leaves a Tomcat it found
     * stopped alone. The story still waits for nginx to reach a restarted Tomcat before it stops the other (the
     * README's step), only not for the rest of nginx's 10 s (about 7 s after each restart, 6 of them per run): nginx's
     * timer is not what the story is about.
     */
    private static Nginx nginx(String name, boolean sticky, TomcatInstance[] tc)
            throws IOException, InterruptedException {
        Path dir = WORK.resolve("nginx-migration-" + name);
        String a = "127.0.0.1:" + tc[0].port + " fail_timeout=2s";
        String b = "127.0.0.1:" + tc[1].port + " fail_timeout=2s";
        if (!sticky) {
            return Nginx.start(dir, "  upstream tomcats { server " + a + "; server " + b + "; }\n", "tomcats",
                    HOST_HEADER);
        }
        return Nginx.start(dir, "  map $cookie_JSESSIONID $tomcat {\n"
                + "    ~\\.tc1$ tc1;\n    ~\\.tc2$ tc2;\n    default tomcats;\n  }\n"
                + "  upstream tc1 { server " + a + "; server " + b + " backup; }\n"
                + "  upstream tc2 { server " + b + "; server " + a + " backup; }\n"
                + "  upstream tomcats { server " + a + "; server " + b + "; }\n", "$tomcat", HOST_HEADER);
    }

    /**
     * Waits until nginx sends a request to {@code route} again. After a Tomcat's restart nginx keeps it marked failed
     * for its fail_timeout (10 s by default, 2 s here) unless a request reaches it; stopping the other Tomcat before
     * would leave nginx with no live upstream (502), a fact of nginx's configuration, not of the session managers.
     */
    private static void awaitBalancerReaches(Nginx nginx, String route, boolean sticky) throws Exception {
        HttpClient probe = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String last = "";
        while (System.nanoTime() < deadline) {
            HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(nginx.url("/whoami.jsp")))
                    .timeout(Duration.ofSeconds(5));
            if (sticky) {
                r.header("Cookie", "JSESSIONID=probe." + route); // routed to the upstream of that jvmRoute
            }
            HttpResponse<String> answer = probe.send(r.build(), HttpResponse.BodyHandlers.ofString());
            last = answer.statusCode() + " " + answer.body().trim();
            if (answer.statusCode() == 200 && answer.body().contains("tomcat=" + route)) {
                return;
            }
            Thread.sleep(200); // poll interval of a wait bounded by its deadline
        }
        throw new AssertionError("nginx did not reach " + route + " within 20 s: " + last + "\n" + nginx.log());
    }

    /**
     * One round while the rounds are paused, each request followed by the wait until memcached holds its change
     * (the stored session differs from before it): afterwards no backup is in flight.
     */
    private static void oneSettledRound(List<ShopUser> users) throws InterruptedException {
        for (ShopUser u : users) {
            byte[] before = serverOf(u.session()).get(u.session());
            String problem = u.next();
            assertTrue(problem == null, () -> u.name + ", settling round: " + problem);
            MemcachedServer server = serverOf(u.session());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (true) {
                byte[] now = server.get(u.session());
                if (now != null && !Arrays.equals(before, now)) {
                    break;
                }
                assertTrue(System.nanoTime() < deadline, u.name + ": its change never reached memcached");
                Thread.sleep(10); // poll interval of a wait bounded by its deadline
            }
        }
    }

    /**
     * Non-sticky, the FORM authenticator forwards to the login page with Tomcat's own Response (not its facade), and
     * the dispatcher then closes that response's writer: the page reaches the browser before the request ends. The old
     * manager stores the session only at the request's end (its Host valve), so a login form posted at once to the
     * other Tomcat can find no session there (HTTP 408 in 3 of 6 runs without this wait). A person typing takes
     * longer; this user waits until the session is in memcached.
     */
    private static void awaitStoredSession(String sessionId) throws InterruptedException {
        MemcachedServer server = serverOf(sessionId);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.get(sessionId) == null) {
            assertTrue(System.nanoTime() < deadline, sessionId.substring(0, 8) + "…: the login page's session never"
                    + " reached memcached");
            Thread.sleep(10); // poll interval of a wait bounded by its deadline
        }
    }

    private static MemcachedServer serverOf(String sessionId) {
        return MEMCACHED.server(PackagingIT.node(sessionId).equals("n1") ? 0 : 1);
    }

    private static TomcatInstance holderOfMoreUsers(List<ShopUser> users, TomcatInstance[] tc) {
        long onTc1 = users.stream().filter(u -> tc[0].route.equals(u.tomcat())).count();
        return onTc1 * 2 >= users.size() ? tc[0] : tc[1];
    }

    /** Where the users were last served, e.g. "(tc1: 4, tc2: 2)". */
    private static String where(List<ShopUser> users) {
        long tc1 = users.stream().filter(u -> "tc1".equals(u.tomcat())).count();
        return "(tc1: " + tc1 + ", tc2: " + (users.size() - tc1) + ")";
    }

    @AfterEach
    void stopAll() throws Exception {
        running.closeAll();
    }

    /** The story's steps with the time each took, printed at the end (also when it failed). */
    private static final class Timeline {
        private final String name;
        private final long start = System.nanoTime();
        private long last = start;
        private final StringBuilder lines = new StringBuilder();

        Timeline(String name) {
            this.name = name;
        }

        void phase(String what) {
            long now = System.nanoTime();
            lines.append(String.format("MigrationIT[%s]: %6.1f s (+%5.1f s) %s%n", name, (now - start) / 1e9,
                    (now - last) / 1e9, what));
            last = now;
        }

        void print() {
            System.out.print(lines);
            System.out.printf("MigrationIT[%s]: total %.1f s%n", name, (System.nanoTime() - start) / 1e9);
        }
    }
}
