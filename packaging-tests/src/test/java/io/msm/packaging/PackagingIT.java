package io.msm.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * msm as an operator installs it: a real Apache Tomcat distribution of each line from Maven Central, only the
 * msm bundle in lib/, the Manager in conf/context.xml, two instances started with bin/catalina.sh, two memcached
 * nodes. The failover story runs over HTTP, sticky (Java serializer) and non-sticky (Kryo): a Tomcat is killed
 * (SIGKILL), then the memcached node of the session. With nginx installed it runs again through nginx: round-robin
 * for non-sticky, routing on the jvmRoute in the session cookie for sticky.
 */
class PackagingIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private static final Path DOWNLOADS = Paths.get(System.getProperty("msm.packaging.downloads"));
    private static final Path WORK = Paths.get(System.getProperty("msm.packaging.work"));
    private static final Map<String, Path> HOMES = new HashMap<>();

    private final Running running = new Running();

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (String line : List.of("9.0", "10.1", "11.0")) {
            cases.add(Arguments.of(line, "sticky"));
            cases.add(Arguments.of(line, "non-sticky"));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "Tomcat {0}, {1}")
    @MethodSource("cases")
    void failoverStory(String line, String mode) throws Exception {
        TomcatInstance[] tc = cluster(line, mode);
        Client user = new Client();
        if (mode.equals("sticky")) {
            // Asynchronous backup: each change is awaited in memcached, so the kill loses nothing by design.
            String id = user.get(tc[0], 1, "tc1").session;
            byte[] stored = awaitStored(id, null);
            user.get(tc[0], 2, "tc1");
            awaitStored(id, stored);
            tc[0].kill();
            Reply taken = user.get(tc[1], 3, "tc2");
            assertEquals(random(id), random(taken.session), "tc2 took over the session");
            assertTrue(taken.session.endsWith(".tc2"), taken.session);
            killNodeOf(taken.session);
            untilMoved(taken.session, count -> user.get(tc[1], count, "tc2"), 4);
        } else {
            assertEquals("yes", user.get(tc[0], 1, "tc1").customizer, "the customConverter ran with the bundle's Kryo");
            user.get(tc[1], 2, "tc2");
            user.get(tc[0], 3, "tc1");
            String id = user.get(tc[1], 4, "tc2").session;
            tc[0].kill();
            user.get(tc[1], 5, "tc2");
            killNodeOf(id);
            user.get(tc[1], 6, "tc2");
        }
        assertCleanLogs(tc[1]);
    }

    @ParameterizedTest(name = "Tomcat {0}, {1}, through nginx")
    @MethodSource("cases")
    void failoverStoryThroughNginx(String line, String mode) throws Exception {
        assumeTrue(Nginx.binary() != null, "nginx is not installed (.ci/run installs it)");
        TomcatInstance[] tc = cluster(line, mode);
        Path dir = WORK.resolve("nginx-" + line + "-" + mode);
        String servers = "server 127.0.0.1:" + tc[0].port + " max_fails=1 fail_timeout=30s; "
                + "server 127.0.0.1:" + tc[1].port + " max_fails=1 fail_timeout=30s;";
        if (mode.equals("sticky")) {
            // The jvmRoute at the end of the session id picks the Tomcat; the other one is its backup.
            String http = "  map $cookie_JSESSIONID $tomcat {\n"
                    + "    ~\\.tc1$ tc1;\n    ~\\.tc2$ tc2;\n    default tomcats;\n  }\n"
                    + "  upstream tc1 { server 127.0.0.1:" + tc[0].port + "; server 127.0.0.1:" + tc[1].port + " backup; }\n"
                    + "  upstream tc2 { server 127.0.0.1:" + tc[1].port + "; server 127.0.0.1:" + tc[0].port + " backup; }\n"
                    + "  upstream tomcats { " + servers + " }\n";
            stickyStoryThrough(running.track(Nginx.start(dir, http, "$tomcat")), tc);
        } else {
            nonStickyStoryThrough(running.track(Nginx.start(dir, "  upstream tomcats { " + servers + " }\n",
                    "tomcats")), tc);
        }
    }

    /**
     * The failover story through Apache httpd's mod_proxy_balancer, configured as the README says (its blocks read
     * from README.md now, the members pointed at the two Tomcats): sticky on the jvmRoute, and non-sticky.
     */
    @ParameterizedTest(name = "Tomcat {0}, {1}, through Apache httpd")
    @MethodSource("cases")
    void failoverStoryThroughHttpd(String line, String mode) throws Exception {
        assumeTrue(Httpd.binary() != null, "Apache httpd is not installed (.ci/run installs Debian's apache2)");
        TomcatInstance[] tc = cluster(line, mode);
        Httpd httpd = running.track(Httpd.start(WORK.resolve("httpd-" + line + "-" + mode),
                readmeHttpd(mode, tc[0].port, tc[1].port)));
        if (mode.equals("sticky")) {
            stickyStoryThrough(httpd, tc);
        } else {
            nonStickyStoryThrough(httpd, tc);
        }
    }

    /**
     * Sticky through a balancer: the user stays on the Tomcat of its jvmRoute; that Tomcat is killed, the other takes
     * the session over (its route, so the user sticks there), then the session's memcached node is killed.
     */
    private void stickyStoryThrough(Balancer balancer, TomcatInstance[] tc) throws Exception {
        Client user = new Client();
        Reply first = user.get(balancer, 1, null);
        String home = first.tomcat;
        assertTrue(first.session.endsWith("." + home), first.session);
        byte[] stored = awaitStored(first.session, null);
        for (int count = 2; count <= 3; count++) {
            assertEquals(first.session, user.get(balancer, count, home).session, "the balancer keeps the user on "
                    + home);
            stored = awaitStored(first.session, stored);
        }
        (home.equals("tc1") ? tc[0] : tc[1]).kill();
        String other = home.equals("tc1") ? "tc2" : "tc1";
        Reply taken = user.get(balancer, 4, other);
        assertTrue(taken.session.endsWith("." + other), "the new cookie routes to " + other + ": " + taken.session);
        user.get(balancer, 5, other);
        killNodeOf(taken.session);
        untilMoved(taken.session, count -> user.get(balancer, count, other), 6);
    }

    /** Non-sticky through a balancer: requests reach both Tomcats; tc1 is killed, then the session's node. */
    private void nonStickyStoryThrough(Balancer balancer, TomcatInstance[] tc) throws Exception {
        Client user = new Client();
        Set<String> served = new HashSet<>();
        for (int i = 1; i <= 6; i++) {
            served.add(user.get(balancer, i, null).tomcat);
        }
        assertEquals(Set.of("tc1", "tc2"), served, "the balancer reached both Tomcats");
        tc[0].kill();
        user.get(balancer, 7, "tc2");
        String id = user.get(balancer, 8, "tc2").session;
        killNodeOf(id);
        user.get(balancer, 9, "tc2");
    }

    /**
     * Both Tomcats stay up, and each is paused (SIGSTOP) in turn for longer than nginx waits for an answer, so nginx
     * retries the request on the other one: the README's configurations, with {@code proxy_read_timeout} at 3 s
     * instead of nginx's 60 for the test. Every answer must show that its request saw the previous request's write,
     * on whichever Tomcat, in both modes. (A paused Tomcat still runs the request nginx gave up on once it resumes;
     * step.jsp counts such a repeated step once.)
     */
    @ParameterizedTest(name = "Tomcat 11.0, {0}, through nginx, each Tomcat paused in turn")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"sticky", "non-sticky"})
    void eachTomcatPausedInTurnBehindNginxLosesNoWrite(String mode) throws Exception {
        assumeTrue(Nginx.binary() != null, "nginx is not installed (.ci/run installs it)");
        TomcatInstance[] tc = cluster("11.0", mode);
        Path dir = WORK.resolve("nginx-paused-" + mode);
        String timeout = "      proxy_read_timeout 3s;\n";
        boolean sticky = mode.equals("sticky");
        Nginx nginx = running.track(sticky
                ? Nginx.start(dir, "  map $cookie_JSESSIONID $tomcat {\n"
                        + "    ~\\.tc1$ tc1;\n    ~\\.tc2$ tc2;\n    default tomcats;\n  }\n"
                        + "  upstream tc1 { server 127.0.0.1:" + tc[0].port + "; server 127.0.0.1:" + tc[1].port
                        + " backup; }\n"
                        + "  upstream tc2 { server 127.0.0.1:" + tc[1].port + "; server 127.0.0.1:" + tc[0].port
                        + " backup; }\n"
                        + "  upstream tomcats { server 127.0.0.1:" + tc[0].port + "; server 127.0.0.1:" + tc[1].port
                        + "; }\n", "$tomcat", timeout)
                // max_fails=0: nginx would otherwise keep a Tomcat that timed out marked failed for 10 s, and with
                // the other one paused next, answer 502 (nginx's own doing)
                : Nginx.start(dir, "  upstream tomcats { server 127.0.0.1:" + tc[0].port + " max_fails=0; server "
                        + "127.0.0.1:" + tc[1].port + " max_fails=0; }\n", "tomcats", timeout));
        for (TomcatInstance t : tc) {
            new Client().get(t.url("/step.jsp?n=1"), 1, t.route, t.console()); // JSP compiled before the timeouts
        }
        Client user = new Client();
        int step = 1;
        Reply last = user.step(nginx, step);
        byte[] stored = sticky ? awaitStored(last.session, null) : null;
        for (int turn = 0; turn < 6; turn++) {
            // sticky: the Tomcat the cookie routes to; non-sticky: each in turn, two requests (round-robin)
            TomcatInstance paused = sticky ? (last.tomcat.equals("tc1") ? tc[0] : tc[1]) : tc[turn % 2];
            paused.pause();
            try {
                for (int i = 0; i < (sticky ? 1 : 2); i++) {
                    last = user.step(nginx, ++step);
                    assertTrue(!last.tomcat.equals(paused.route), "answered by the paused " + paused.route);
                }
            } finally {
                paused.resume();
            }
            if (sticky) {
                assertTrue(last.session.endsWith("." + last.tomcat), "the session has its Tomcat's route: "
                        + last.session);
                // a backup still in flight when a Tomcat freezes is lost with it (README): the pause comes after
                stored = awaitStored(last.session, stored);
            }
        }
        last = user.step(nginx, ++step);
        assertEquals(step, last.count);
    }

    /** Two Tomcats of the line with msm from the bundle, started in parallel. */
    private TomcatInstance[] cluster(String line, String mode) throws Exception {
        Path home = home(line);
        Path bundle = DOWNLOADS.resolve(line.equals("9.0") ? "msm-bundle-tc9.jar" : "msm-bundle-tc10.jar");
        Path webapp = Paths.get(PackagingIT.class.getResource("/webapp/counter.jsp").toURI()).getParent();
        String contextXml = readmeContextXml(MEMCACHED.nodesAttribute("n1", "n2"));
        if (mode.equals("non-sticky")) {
            contextXml = contextXml.replace("memcachedNodes=", "sticky=\"false\"\n             "
                    + "transcoderFactoryClass=\"io.msm.serializer.kryo.KryoTranscoderFactory\"\n             "
                    + "customConverter=\"com.example.shop.ShopKryoCustomizer\"\n             memcachedNodes=");
        }
        TomcatInstance[] tc = new TomcatInstance[2];
        for (int i = 0; i < 2; i++) {
            String route = "tc" + (i + 1);
            tc[i] = TomcatInstance.create(home, WORK.resolve(line + "-" + mode + "-" + route), route, bundle, webapp,
                    contextXml);
            if (mode.equals("non-sticky")) {
                compileCustomizer(bundle, tc[i].webappClasses());
            }
            running.track(tc[i].start());
        }
        TomcatInstance.awaitAllReady(tc);
        return tc;
    }

    /** The distribution of a line, unpacked once per run with tar (which keeps bin/*.sh executable). */
    static synchronized Path home(String line) throws IOException, InterruptedException {
        Path home = HOMES.get(line);
        if (home != null) {
            return home;
        }
        String version = System.getProperty("msm.packaging.dist" + line.substring(0, line.indexOf('.')));
        Path archive = DOWNLOADS.resolve("tomcat-" + version + ".tar.gz");
        Path dist = Files.createDirectories(WORK.resolve("dist"));
        home = dist.resolve("apache-tomcat-" + version);
        if (!Files.isDirectory(home)) {
            Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", dist.toString())
                    .redirectErrorStream(true).start();
            String out = new String(tar.getInputStream().readAllBytes());
            assertEquals(0, tar.waitFor(), "tar: " + out);
        }
        assertTrue(Files.isExecutable(home.resolve("bin/catalina.sh")), home + "/bin/catalina.sh");
        HOMES.put(line, home);
        return home;
    }

    /**
     * The conf/context.xml of the README's install section (the block after its "tested: packaging-tests
     * context.xml" mark), with memcachedNodes pointed at this test's memcached: an operator following the README
     * gets this configuration.
     */
    static String readmeContextXml(String nodes) throws IOException {
        String readme = Files.readString(Paths.get(System.getProperty("msm.packaging.readme")));
        Matcher m = Pattern.compile("<!-- tested: packaging-tests context.xml -->\\s*```xml\\n(.*?)```", Pattern.DOTALL)
                .matcher(readme);
        assertTrue(m.find(), "README.md has no tested context.xml block");
        String xml = m.group(1);
        Matcher attribute = Pattern.compile("memcachedNodes=\"[^\"]*\"").matcher(xml);
        assertTrue(attribute.find(), "the README's context.xml sets no memcachedNodes");
        return attribute.replaceFirst("memcachedNodes=\"" + nodes + "\"");
    }

    /**
     * The README's Apache httpd configuration for {@code mode} (the block after its "tested: packaging-tests httpd
     * sticky" or "... non-sticky" mark; GracefulStopIT runs the non-sticky one too), its two members pointed at the
     * Tomcats' loopback ports.
     */
    static String readmeHttpd(String mode, int port1, int port2) throws IOException {
        String readme = Files.readString(Paths.get(System.getProperty("msm.packaging.readme")));
        Matcher m = Pattern.compile("<!-- tested: packaging-tests httpd " + mode + " -->\\s*```apache\\n(.*?)```",
                Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(), "README.md has no tested httpd block for " + mode);
        String conf = m.group(1);
        assertTrue(conf.contains("http://10.0.0.11:8080") && conf.contains("http://10.0.0.12:8080"), conf);
        return conf.replace("http://10.0.0.11:8080", "http://127.0.0.1:" + port1)
                .replace("http://10.0.0.12:8080", "http://127.0.0.1:" + port2);
    }

    /** Compiles the webapp's customConverter against the bundle, as a webapp's build would, into WEB-INF/classes. */
    private static void compileCustomizer(Path bundle, Path classes) throws Exception {
        Path source = Paths.get(PackagingIT.class.getResource("/customizer/com/example/shop/ShopKryoCustomizer.java")
                .toURI());
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        java.io.StringWriter out = new java.io.StringWriter();
        boolean ok = javac.getTask(out, null, null,
                List.of("--release", "11", "-classpath", bundle.toString(), "-d", classes.toString()), null,
                javac.getStandardFileManager(null, null, null).getJavaFileObjects(source.toFile())).call();
        assertTrue(ok, "compiling the customizer against " + bundle + ":\n" + out);
    }

    /**
     * Waits until memcached holds a stored form of the session other than {@code previous} (null: any), and returns
     * it. Awaited after each change, it is that change: the only backup in flight.
     */
    private static byte[] awaitStored(String sessionId, byte[] previous) throws InterruptedException {
        MemcachedServer server = serverOf(sessionId);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            byte[] now = server.get(sessionId);
            if (now != null && !Arrays.equals(previous, now)) {
                return now;
            }
            assertTrue(System.nanoTime() < deadline, "the change of " + sessionId + " never reached memcached");
            Thread.sleep(10); // poll interval of a wait bounded by its deadline
        }
    }

    /**
     * After the kill of a sticky session's memcached node: requests go on counting without a gap, and the session
     * moves to the live node (new id) within 2 s. (msm's watch connection notices the death within milliseconds; a
     * request that comes before is served from memory, and the next one moves the session.)
     */
    private static void untilMoved(String before, CountingRequest request, int firstCount) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (int count = firstCount; ; count++) {
            Reply r = request.send(count);
            if (!node(r.session).equals(node(before))) {
                assertEquals(random(before), random(r.session), "the same session, on the live node");
                return;
            }
            assertTrue(System.nanoTime() < deadline, "the session never left the dead node " + node(before));
            Thread.sleep(50); // the user's pace between counting requests, bounded by the deadline
        }
    }

    interface CountingRequest {
        Reply send(int expectedCount) throws Exception;
    }

    private static void killNodeOf(String sessionId) {
        serverOf(sessionId).kill();
    }

    /** The memcached server of the node a session id names (n1 or n2). */
    private static MemcachedServer serverOf(String sessionId) {
        return MEMCACHED.server(node(sessionId).equals("n1") ? 0 : 1);
    }

    private static void assertCleanLogs(TomcatInstance t) throws IOException {
        List<String> lines = t.msmLines();
        assertTrue(lines.stream().anyMatch(l -> l.contains("msm started")), () -> "no start line:\n" + t.console());
        assertTrue(lines.stream().noneMatch(l -> l.contains("SEVERE")), () -> String.join("\n", lines));
        // INFO is msm's start and stop only: no connection chatter from (relocated) spymemcached
        assertTrue(lines.stream().noneMatch(l -> l.contains(" INFO ") && l.contains("net.spy")),
                () -> String.join("\n", lines));
    }

    static String node(String sessionId) {
        String base = sessionId.split("\\.", 2)[0];
        return base.substring(base.lastIndexOf('-') + 1);
    }

    static String random(String sessionId) {
        String base = sessionId.split("\\.", 2)[0];
        return base.substring(0, base.lastIndexOf('-'));
    }

    @AfterEach
    void stopAll() throws Exception {
        running.closeAll();
    }

    /** The answer of counter.jsp: "count=N tomcat=tcX session=ID". */
    static final class Reply {
        final int count;
        final String tomcat;
        final String session;
        final String customizer;

        Reply(String body) {
            Map<String, String> f = new HashMap<>();
            for (String part : body.trim().split(" ")) {
                String[] kv = part.split("=", 2);
                f.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
            count = Integer.parseInt(f.get("count"));
            tomcat = f.get("tomcat");
            session = f.get("session");
            customizer = f.get("customizer");
        }
    }

    /** One user: a cookie jar shared by all 127.0.0.1 ports, as behind one balancer address. */
    static final class Client {
        private final HttpClient http = HttpClient.newBuilder()
                .cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL))
                .connectTimeout(Duration.ofSeconds(5))
                .build();

        Reply get(TomcatInstance t, int expectedCount, String expectedTomcat) throws Exception {
            return get(t.url("/counter.jsp"), expectedCount, expectedTomcat, t.console());
        }

        Reply get(Balancer b, int expectedCount, String expectedTomcat) throws Exception {
            return get(b.url("/counter.jsp"), expectedCount, expectedTomcat, b.log());
        }

        /** step.jsp?n=step: the counter must become {@code step} (the previous step's write was seen). */
        Reply step(Nginx n, int step) throws Exception {
            return get(n.url("/step.jsp?n=" + step), step, null, n.log());
        }

        Reply get(String url, int expectedCount, String expectedTomcat, String log)
                throws IOException, InterruptedException {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), () -> url + ": " + r.body() + "\n" + log);
            Reply reply = new Reply(r.body());
            System.out.printf("PackagingIT: GET %s -> %s%n", url, r.body().trim());
            assertEquals(expectedCount, reply.count, () -> url + ": " + r.body());
            if (expectedTomcat != null) {
                assertEquals(expectedTomcat, reply.tomcat, () -> url + ": " + r.body());
            }
            return reply;
        }
    }
}
