package io.msm.packaging;

import io.msm.test.Signals;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One Tomcat of a real distribution, as an operator sets it up: CATALINA_HOME is the unpacked distribution,
 * CATALINA_BASE its own directory with the distribution's conf/ plus our server.xml and context.xml, the msm bundle
 * alone in lib/, the test webapp as webapps/ROOT, started with {@code bin/catalina.sh run}.
 */
final class TomcatInstance implements AutoCloseable {
    private static final HttpClient PROBE = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final String route;
    final int port;
    private final Path home;
    private final Path base;
    private Process process;

    private TomcatInstance(String route, int port, Path home, Path base) {
        this.route = route;
        this.port = port;
        this.home = home;
        this.base = base;
    }

    /** Lays out CATALINA_BASE under {@code base}; {@code contextXml} is the whole conf/context.xml. */
    static TomcatInstance create(Path home, Path base, String route, Path bundle, Path webapp, String contextXml)
            throws IOException {
        return create(home, base, route, List.of(bundle), webapp, contextXml);
    }

    /** {@link #create(Path, Path, String, Path, Path, String)} with these jars in lib/ (e.g. another manager's). */
    static TomcatInstance create(Path home, Path base, String route, List<Path> libJars, Path webapp,
            String contextXml) throws IOException {
        int port = freePort();
        deleteRecursively(base);
        Path conf = Files.createDirectories(base.resolve("conf"));
        try (Stream<Path> files = Files.list(home.resolve("conf"))) {
            for (Path f : files.filter(Files::isRegularFile).collect(Collectors.toList())) {
                Files.copy(f, conf.resolve(f.getFileName()));
            }
        }
        Files.writeString(conf.resolve("server.xml"), serverXml(port, route));
        Files.writeString(conf.resolve("context.xml"), contextXml);
        Path lib = Files.createDirectories(base.resolve("lib"));
        for (Path jar : libJars) {
            Files.copy(jar, lib.resolve(jar.getFileName()));
        }
        Path root = base.resolve("webapps").resolve("ROOT");
        try (Stream<Path> files = Files.walk(webapp)) { // with its WEB-INF/ when it has one
            for (Path f : files.collect(Collectors.toList())) {
                Path target = root.resolve(webapp.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
        for (String dir : List.of("logs", "temp", "work")) {
            Files.createDirectories(base.resolve(dir));
        }
        return new TomcatInstance(route, port, home, base);
    }

    /**
     * A graceful stop that a balancer in front rides through (README, "Rolling restarts behind nginx or httpd"). By
     * default Tomcat's stop pauses the connector, its listening socket still open, then stops the webapps: a request
     * taken before the pause but not yet in its servlet when the webapp stops gets Tomcat's 404, one read after the
     * pause its 503, and nginx retries neither (GracefulStopIT). With {@code bindOnInit="false"} the stop first closes
     * the listening socket (the balancer's connections are refused, or reset if still in the backlog, and it retries
     * them on the other Tomcat), then the Service's {@code gracefulStopAwaitMillis} waits, at most that long, until the
     * open connections are closed, and only then the webapps stop. 2 s: the requests of these tests take milliseconds,
     * and Tomcat waits as long (its unloadDelay) for requests already in a servlet; a connection still open after that
     * (a client's idle keep-alive) makes the stop take the whole 2 s, hence the tests' clients close idle ones after
     * 1 s (packaging-tests/pom.xml).
     */
    static final int GRACEFUL_STOP_AWAIT_MILLIS = 2000;

    private static String serverXml(int port, String route) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<Server port=\"-1\" shutdown=\"SHUTDOWN\">\n"
                + "  <Service name=\"Catalina\" gracefulStopAwaitMillis=\"" + GRACEFUL_STOP_AWAIT_MILLIS + "\">\n"
                + "    <Connector port=\"" + port + "\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\""
                + " connectionTimeout=\"20000\" bindOnInit=\"false\"/>\n"
                + "    <Engine name=\"Catalina\" defaultHost=\"localhost\" jvmRoute=\"" + route + "\">\n"
                + "      <Host name=\"localhost\" appBase=\"webapps\" unpackWARs=\"true\" autoDeploy=\"false\"/>\n"
                + "    </Engine>\n"
                + "  </Service>\n"
                + "</Server>\n";
    }

    /**
     * Installs the distribution's manager webapp (webapps/manager, with its own META-INF/context.xml) and its users,
     * conf/tomcat-users.xml {@code usersXml}, read by a MemoryRealm of the Engine.
     */
    TomcatInstance withManagerWebapp(String usersXml) throws IOException {
        Path from = home.resolve("webapps").resolve("manager");
        Path to = base.resolve("webapps").resolve("manager");
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : paths.collect(Collectors.toList())) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        Path conf = base.resolve("conf");
        Files.writeString(conf.resolve("tomcat-users.xml"), usersXml);
        Path serverXml = conf.resolve("server.xml");
        Files.writeString(serverXml, Files.readString(serverXml).replace("<Host ",
                "<Realm className=\"org.apache.catalina.realm.MemoryRealm\" pathname=\"conf/tomcat-users.xml\"/>\n"
                        + "      <Host "));
        return this;
    }

    /**
     * Tomcat's default stop instead of {@link #GRACEFUL_STOP_AWAIT_MILLIS}'s: the connector's socket bound at init
     * (open until the connector stops, after the webapps) and no wait for open connections.
     */
    TomcatInstance withDefaultStop() throws IOException {
        Path serverXml = base.resolve("conf").resolve("server.xml");
        String xml = Files.readString(serverXml);
        String bind = " bindOnInit=\"false\"";
        String await = " gracefulStopAwaitMillis=\"" + GRACEFUL_STOP_AWAIT_MILLIS + "\"";
        if (!xml.contains(bind) || !xml.contains(await)) {
            throw new IllegalStateException("server.xml does not hold the graceful stop's attributes:\n" + xml);
        }
        Files.writeString(serverXml, xml.replace(bind, "").replace(await, ""));
        return this;
    }

    /** Waits for every one of {@code tomcats}, started together, to be ready (each 90 s at most, in parallel). */
    static void awaitAllReady(TomcatInstance... tomcats) {
        CompletableFuture<?>[] ready = new CompletableFuture<?>[tomcats.length];
        for (int i = 0; i < tomcats.length; i++) {
            TomcatInstance t = tomcats[i];
            ready[i] = CompletableFuture.runAsync(() -> {
                try {
                    t.awaitReady(Duration.ofSeconds(90));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
        }
        CompletableFuture.allOf(ready).join();
    }

    /** The webapp's WEB-INF/classes (created). */
    Path webappClasses() throws IOException {
        return Files.createDirectories(base.resolve("webapps/ROOT/WEB-INF/classes"));
    }

    /** {@code bin/catalina.sh run}: the script execs the JVM, so this process is Tomcat's. */
    TomcatInstance start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin").resolve("catalina.sh").toString(), "run");
        Map<String, String> env = pb.environment();
        env.put("CATALINA_HOME", home.toString());
        env.put("CATALINA_BASE", base.toString());
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("CATALINA_OPTS", "-Xmx256m -Dmsm.packaging.route=" + route);
        env.remove("CATALINA_PID");
        env.remove("JAVA_OPTS");
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("logs").resolve("console.log").toFile()));
        process = pb.start();
        return this;
    }

    /** Waits until the webapp answers (the distribution, msm and the context all started). */
    void awaitReady(Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError(route + " exited with " + process.exitValue() + "\n" + console());
            }
            try {
                HttpResponse<String> r = PROBE.send(HttpRequest.newBuilder(URI.create(url("/ready.txt")))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100); // poll interval of a wait bounded by its deadline
        }
        throw new AssertionError(route + " not ready within " + max + "\n" + console());
    }

    /**
     * SIGSTOP: the JVM stays alive and its sockets open (connections are accepted), but nothing is answered. Returns
     * once every thread of it is stopped: {@code kill} returns before they all are.
     */
    void pause() {
        Signals.stop(process.pid(), Duration.ofSeconds(10));
    }

    /** SIGCONT after {@link #pause()}. */
    void resume() {
        Signals.cont(process.pid(), Duration.ofSeconds(10));
    }

    /**
     * A graceful stop, as {@code catalina.sh stop} or a service manager does it: SIGTERM, Tomcat's shutdown hook
     * stops the connector, the webapps and their managers; fails if the JVM has not exited within 30 s.
     */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError(route + " did not stop within 30 s\n" + console());
        }
    }

    /**
     * On a stopped instance: lib/ then holds only {@code libJars} (the previous jars removed), and conf/context.xml is
     * {@code contextXml}. The operator's switch from one session manager to another; {@link #start()} runs it.
     */
    void replaceManager(List<Path> libJars, String contextXml) throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(route + " is running");
        }
        Path lib = base.resolve("lib");
        try (Stream<Path> jars = Files.list(lib)) {
            for (Path jar : jars.collect(Collectors.toList())) {
                Files.delete(jar);
            }
        }
        for (Path jar : libJars) {
            Files.copy(jar, lib.resolve(jar.getFileName()));
        }
        Files.writeString(base.resolve("conf").resolve("context.xml"), contextXml);
    }

    /** The configuration directory (conf/) of this CATALINA_BASE. */
    Path conf() {
        return base.resolve("conf");
    }

    /** SIGKILL, like a crash: no shutdown hook, nothing flushed. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /** The end of Tomcat's console output, for failure messages. */
    String console() {
        try {
            List<String> lines = Files.readAllLines(base.resolve("logs").resolve("console.log"), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no console output: " + e + ")";
        }
    }

    /** Lines of the console output that contain {@code text}. */
    int consoleLines(String text) throws IOException {
        try (Stream<String> lines = Files.lines(base.resolve("logs").resolve("console.log"), StandardCharsets.UTF_8)) {
            return (int) lines.filter(l -> l.contains(text)).count();
        }
    }

    /** Waits (polling every 5 ms, {@code max} at most) until the console output holds {@code count} such lines. */
    void awaitConsoleLines(String text, int count, Duration max) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (consoleLines(text) < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(route + ": no " + count + " lines '" + text + "' within " + max + "\n"
                        + console());
            }
            Thread.sleep(5); // poll interval of a wait bounded by its deadline
        }
    }

    /** msm's own log lines (and any SEVERE), from the start of the console output. */
    List<String> msmLines() throws IOException {
        return Files.readAllLines(base.resolve("logs").resolve("console.log"), StandardCharsets.UTF_8).stream()
                .filter(l -> l.contains("io.msm") || l.contains("SEVERE"))
                .collect(Collectors.toList());
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy(); // SIGTERM: Tomcat's shutdown hook stops it cleanly
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).collect(Collectors.toList())) {
                Files.delete(p);
            }
        }
    }
}
