package io.msm.demo;

import io.msm.tomcat.MemcachedSessionManager;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.io.PrintStream;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;

/**
 * The msm demo: two memcached nodes and two Tomcats with msm on loopback. It plays the failover story (a user's
 * counter survives the stop of its Tomcat and the kill -9 of its memcached node), narrating each request, then keeps
 * the cluster up for a browser until Ctrl-C. {@code --once} exits after the story (exit code 0 if the counter never
 * lost a step).
 *
 * <p>Run from the repository root: {@code mvn -q -pl msm-demo -am compile exec:java}
 * (add {@code -Dexec.args=--once} to stop after the story).
 */
public final class Demo {
    /** Held so the level settings stay (java.util.logging keeps loggers weakly). */
    private static final List<Logger> QUIET = new java.util.ArrayList<>();
    private final PrintStream out;
    private final HttpClient browser = HttpClient.newBuilder()
            .cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private MemcachedProcess n1;
    private MemcachedProcess n2;
    private Tomcat tc1;
    private Tomcat tc2;
    private int step;
    /** The session id the last request answered with. */
    private String lastSession;

    Demo(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        boolean once = List.of(args).contains("--once");
        Demo demo = new Demo(System.out);
        int status;
        try {
            status = demo.story();
        } catch (Exception e) {
            demo.shutdown();
            throw e;
        }
        if (once || status != 0) {
            demo.shutdown();
            System.exit(status);
        }
        demo.keepRunning();
    }

    /** Starts the cluster and plays the story; 0 when every request saw the counter one step further. */
    int story() throws Exception {
        // Tomcat's, spymemcached's and msm's INFO lines would interleave with the narration; msm's warnings about
        // the failures it handles are expected here, so only errors show.
        for (String logger : List.of("org.apache", "net.spy", "io.msm")) {
            QUIET.add(Logger.getLogger(logger));
        }
        QUIET.forEach(l -> l.setLevel(Level.SEVERE));
        Path memcached = MemcachedProcess.findBinary();
        if (memcached == null) {
            out.println("memcached is not installed: apt-get install -y memcached (or brew install memcached)");
            return 2;
        }
        n1 = MemcachedProcess.start("n1", memcached);
        n2 = MemcachedProcess.start("n2", memcached);
        String nodes = n1.node() + "," + n2.node();
        tc1 = tomcat("tc1", port(8081), nodes);
        tc2 = tomcat("tc2", port(8082), nodes);
        out.println();
        out.println("msm demo: " + ServerInfo.getServerInfo() + ", sticky sessions, two memcached nodes");
        out.printf("  memcached n1  127.0.0.1:%d (pid %d)%n", n1.port, n1.pid());
        out.printf("  memcached n2  127.0.0.1:%d (pid %d)%n", n2.port, n2.pid());
        out.printf("  Tomcat tc1    %s   (jvmRoute tc1)%n", url(tc1));
        out.printf("  Tomcat tc2    %s   (jvmRoute tc2)%n", url(tc2));
        out.println("  session ids read <random>-<memcached node>.<Tomcat>");
        out.println();
        out.printf("  #  %-21s %-10s %7s  %s%n", "request", "served by", "counter", "session id");

        int expected = 0;
        boolean ok = true;
        for (int i = 0; i < 3; i++) {
            ok &= request(tc1, "tc1", ++expected, "");
        }
        String node = nodeOf(lastSession);
        int tc1Port = tc1.getConnector().getLocalPort();
        tc1.stop();
        tc1.destroy();
        narrate("Tomcat tc1 stops (a crash, a redeploy): the balancer sends the user to tc2");
        ok &= request(tc2, "tc2", ++expected, "tc2 loaded the session from memcached and took it over");
        MemcachedProcess dead = node.equals("n1") ? n1 : n2;
        dead.kill();
        narrate("memcached " + dead.id + ", which holds the session, is killed (kill -9)");
        awaitNoticed(tc2, dead.id);
        ok &= request(tc2, "tc2", ++expected, "moved to the live node; the browser got the new cookie");
        dead.start();
        tc1 = tomcat("tc1", tc1Port, nodes); // a new Tomcat process, as after a crash
        narrate("memcached " + dead.id + " and Tomcat tc1 are started again");
        ok &= request(tc1, "tc1", ++expected, "back on tc1: it takes the session over from memcached");
        out.println();
        out.println(ok ? "The counter went 1.." + expected + " through a Tomcat failover and a memcached failure:"
                + " nothing was lost." : "UNEXPECTED: the counter skipped or repeated a step (see above).");
        return ok ? 0 : 1;
    }

    private boolean request(Tomcat tomcat, String expectedTomcat, int expectedCount, String note)
            throws IOException, InterruptedException {
        HttpResponse<String> r = browser.send(HttpRequest.newBuilder(URI.create(url(tomcat) + "?plain"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 || !r.body().startsWith("count=")) {
            out.printf("  %d  GET %-17s answered %d: %s%n", ++step, url(tomcat).substring(7), r.statusCode(),
                    r.body().length() > 200 ? r.body().substring(0, 200) + "..." : r.body());
            return false;
        }
        String[] f = r.body().trim().split(" ");
        String served = f[1].substring("tomcat=".length());
        int count = Integer.parseInt(f[0].substring("count=".length()));
        lastSession = f[2].substring("session=".length());
        out.printf("  %d  GET %-17s %-10s %7d  %s%s%n", ++step, url(tomcat).substring(7), served, count,
                lastSession, note.isEmpty() ? "" : "\n" + " ".repeat(47) + "^ " + note);
        return r.statusCode() == 200 && count == expectedCount && served.equals(expectedTomcat);
    }

    /** msm's watch connection notices a dead node within milliseconds; the narration waits for it (at most 2 s). */
    private static void awaitNoticed(Tomcat tomcat, String node) throws InterruptedException {
        MemcachedSessionManager manager = (MemcachedSessionManager) ((Context) tomcat.getHost().findChild(""))
                .getManager();
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (manager.getMsmAvailableNodes().contains(node) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private void narrate(String what) {
        out.println("     -- " + what);
    }

    private void keepRunning() throws InterruptedException {
        out.println();
        out.println("The cluster stays up. Open " + url(tc1) + " and " + url(tc2) + " in a browser (the same session"
                + " on both: the cookie is per host, not per port). Ctrl-C stops everything.");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            shutdown();
            stopped.countDown();
        }, "msm-demo-shutdown"));
        stopped.await();
    }

    void shutdown() {
        for (Tomcat t : new Tomcat[] {tc1, tc2}) {
            if (t != null) {
                try {
                    t.stop();
                    t.destroy();
                } catch (LifecycleException e) {
                    // stopping anyway
                }
            }
        }
        for (MemcachedProcess m : new MemcachedProcess[] {n1, n2}) {
            if (m != null) {
                m.stop();
            }
        }
    }

    /** An embedded Tomcat with msm configured in code, serving the counter at "/". */
    private static Tomcat tomcat(String route, int port, String memcachedNodes) throws Exception {
        Tomcat tomcat = new Tomcat();
        // Run by exec:java, the demo's classes (msm among them) are not on the system class path: the webapp's
        // class loader must delegate to the demo's.
        tomcat.getServer().setParentClassLoader(Demo.class.getClassLoader());
        Path base = Files.createTempDirectory("msm-demo-" + route);
        base.toFile().deleteOnExit();
        tomcat.setBaseDir(base.toString());
        tomcat.setPort(port);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        tomcat.getEngine().setJvmRoute(route);
        Context context = tomcat.addContext("", null);
        // The embedded JVM was not started with the --add-opens these leak checks need; they only warn.
        ((org.apache.catalina.core.StandardContext) context).setClearReferencesThreadLocals(false);
        ((org.apache.catalina.core.StandardContext) context).setClearReferencesRmiTargets(false);
        MemcachedSessionManager manager = new MemcachedSessionManager();
        manager.setMemcachedNodes(memcachedNodes);
        context.setManager(manager);
        Tomcat.addServlet(context, "counter", new Counter(route)).addMapping("/");
        tomcat.start();
        return tomcat;
    }

    private static String url(Tomcat tomcat) {
        return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/";
    }

    /** The preferred port if it is free, else any free one. */
    private static int port(int preferred) throws IOException {
        try {
            new ServerSocket(preferred, 1, InetAddress.getLoopbackAddress()).close();
            return preferred;
        } catch (IOException taken) {
            return MemcachedProcess.freePort();
        }
    }

    static String nodeOf(String sessionId) {
        String base = sessionId.split("\\.", 2)[0];
        return base.substring(base.lastIndexOf('-') + 1);
    }

    /** Counts a session's requests; plain text for the narration, a small page for a browser. */
    static final class Counter extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final String route;

        Counter(String route) {
            this.route = route;
        }

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            HttpSession session = request.getSession();
            Integer count = (Integer) session.getAttribute("count");
            count = count == null ? 1 : count + 1;
            session.setAttribute("count", count);
            if (request.getParameter("plain") != null) {
                response.setContentType("text/plain");
                response.getWriter().print("count=" + count + " tomcat=" + route + " session=" + session.getId());
                return;
            }
            response.setContentType("text/html;charset=UTF-8");
            response.getWriter().print("<!DOCTYPE html><html><head><title>msm demo</title></head><body>"
                    + "<h1>count " + count + "</h1><p>served by Tomcat <b>" + route + "</b><br>session <code>"
                    + session.getId() + "</code> (memcached node " + nodeOf(session.getId()) + ")</p>"
                    + "<p>Reload, or open the other Tomcat's port: the counter continues.</p></body></html>");
        }
    }
}
