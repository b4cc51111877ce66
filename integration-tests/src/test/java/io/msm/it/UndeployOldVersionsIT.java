package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.startup.HostConfig;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tomcat's own deployer with {@code undeployOldVersions="true"}: webapps deployed from the host's appBase as
 * {@code app##1} and then {@code app##2}, each with msm declared in its {@code META-INF/context.xml}. Tomcat undeploys
 * the old version once its manager counts no session ({@code DistributedManager.getActiveSessionsFull()} when the
 * manager is one). Non-sticky, msm holds no session in memory between requests, so a count of those alone undeployed
 * the old version at Tomcat's next check, and its users got a new session on the new version; msm counts the sessions
 * it watches too, so the old version stays until its last session ended.
 */
class UndeployOldVersionsIT extends MsmIT {
    private Tomcat tomcat;

    /** Counts in the session and says which version answered: {@code count=N version=V}. */
    public static final class VersionCounter extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            Integer c = (Integer) s.getAttribute("count");
            c = c == null ? 1 : c + 1;
            s.setAttribute("count", c);
            resp.setContentType("text/plain");
            resp.getWriter().print("count=" + c + " version=" + getServletContext().getInitParameter("version"));
        }
    }

    /** Says which version answered, with no session: {@code version=V}. */
    public static final class VersionOnly extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("text/plain");
            resp.getWriter().print("version=" + getServletContext().getInitParameter("version"));
        }
    }

    @AfterEach
    void stopTomcat() throws LifecycleException {
        stop();
    }

    private void stop() throws LifecycleException {
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
            tomcat = null;
        }
    }

    /**
     * Writes {@code app##<version>} into {@code appBase} (complete before the deployer can see it): msm with
     * {@code sticky}, a session timeout of 6 s.
     */
    private static void writeWebapp(Path appBase, String version, boolean sticky) {
        try {
            Path dir = Files.createTempDirectory(appBase.getParent(), "app");
            Files.createDirectories(dir.resolve("META-INF"));
            Files.createDirectories(dir.resolve("WEB-INF"));
            Files.writeString(dir.resolve("META-INF/context.xml"), "<Context>\n"
                    + "  <JarScanner scanClassPath=\"false\"/>\n"
                    + "  <Manager className=\"io.msm.tomcat.MemcachedSessionManager\" memcachedNodes=\"" + nodes()
                    + "\" sticky=\"" + sticky + "\" maxInactiveInterval=\"6\"/>\n"
                    + "</Context>\n", StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("WEB-INF/web.xml"),
                    "<web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.1\" metadata-complete=\"true\">\n"
                    + "  <context-param><param-name>version</param-name><param-value>" + version
                    + "</param-value></context-param>\n"
                    + servlet("counter", VersionCounter.class, "/counter")
                    + servlet("version", VersionOnly.class, "/version")
                    + "</web-app>\n", StandardCharsets.UTF_8);
            Files.move(dir, appBase.resolve("app##" + version), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String servlet(String name, Class<?> type, String pattern) {
        return "  <servlet><servlet-name>" + name + "</servlet-name><servlet-class>" + type.getName()
                + "</servlet-class></servlet>\n  <servlet-mapping><servlet-name>" + name + "</servlet-name><url-pattern>"
                + pattern + "</url-pattern></servlet-mapping>\n";
    }

    /**
     * Starts Tomcat on {@code base} (jvmRoute tc1), deploying what {@code base/webapps} holds with Tomcat's deployer,
     * which checks every second with {@code undeployOldVersions}; each check releases a permit of {@code checks}.
     */
    private org.apache.catalina.Host start(Path base, Semaphore checks) throws LifecycleException {
        tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        tomcat.getConnector().setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        tomcat.getEngine().setJvmRoute("tc1");
        tomcat.getEngine().setBackgroundProcessorDelay(1);
        org.apache.catalina.core.StandardHost host = (org.apache.catalina.core.StandardHost) tomcat.getHost();
        host.setAppBase(base.resolve("webapps").toString());
        host.setAutoDeploy(true);
        host.setUndeployOldVersions(true);
        host.addLifecycleListener(new HostConfig());
        host.addLifecycleListener(event -> {
            if (Lifecycle.PERIODIC_EVENT.equals(event.getType())) {
                checks.release(); // after the deployer's check: it was added first
            }
        });
        tomcat.start();
        return host;
    }

    private String app() {
        return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/app";
    }

    /** The old version's manager, as the deployer sees it. */
    private static org.apache.catalina.DistributedManager versionOne(org.apache.catalina.Host host) {
        return (org.apache.catalina.DistributedManager) ((org.apache.catalina.Context) host.findChild("/app##1"))
                .getManager();
    }

    /**
     * Non-sticky: no session in memory between requests, so a count of those alone let the deployer undeploy the old
     * version at its first check after the new one came; its user then got a new session on the new version.
     */
    @Test
    void nonStickyTheOldVersionStaysUntilItsLastSessionEnded() throws Exception {
        Path base = Files.createTempDirectory("msm-undeploy");
        Path appBase = Files.createDirectories(base.resolve("webapps"));
        writeWebapp(appBase, "1", false);
        Semaphore checks = new Semaphore(0);
        org.apache.catalina.Host host = start(base, checks);
        String url = app() + "/counter";

        Browser early = new Browser();
        assertEquals("count=1 version=1", early.get(url).body);
        writeWebapp(appBase, "2", false);
        Browser noSession = new Browser();
        await("version 2 deployed", 20_000, () -> noSession.get(app() + "/version").body.equals("version=2"));
        assertEquals("count=1 version=2", new Browser().get(url).body, "a new user gets the new version");
        assertEquals("count=2 version=1", early.get(url).body, "the old version serves the session it began");
        org.apache.catalina.DistributedManager one = versionOne(host);
        // the request's end (msm's valve) may still run when the answer has arrived
        await("the session out of memory between requests", 5_000,
                () -> ((org.apache.catalina.Manager) one).getActiveSessions() == 0);
        assertEquals(1, one.getActiveSessionsFull(), "the one it watches");
        assertFullCountIsTheList(one, early.sessionId());

        checks.drainPermits();
        for (int count = 3; count <= 5; count++) { // its user goes on, one request after each check of the deployer
            assertTrue(checks.tryAcquire(1, 20, TimeUnit.SECONDS), "a check of the deployer");
            assertEquals("count=" + count + " version=1", early.get(url).body, "the old version is still there");
        }
        // no more requests: the session times out (6 s), and the deployer then undeploys the old version
        await("version 1 undeployed", 40_000, () -> host.findChild("/app##1") == null);
        assertTrue(early.get(url).body.endsWith("version=2"), "its user, back later, gets the new version");
    }

    /**
     * Sticky, after a restart: the sessions the stop left in memcached are not in memory until their next request, so
     * a count of those alone let the deployer undeploy the old version at its first check.
     */
    @Test
    void stickyAfterARestartTheOldVersionStaysForTheSessionsTheStopLeft() throws Exception {
        Path base = Files.createTempDirectory("msm-undeploy");
        Path appBase = Files.createDirectories(base.resolve("webapps"));
        writeWebapp(appBase, "1", true);
        start(base, new Semaphore(0));
        Browser early = new Browser();
        assertEquals("count=1 version=1", early.get(app() + "/counter").body);
        stop();
        writeWebapp(appBase, "2", true);

        Semaphore checks = new Semaphore(0);
        org.apache.catalina.Host host = start(base, checks);
        assertTrue(checks.tryAcquire(2, 20, TimeUnit.SECONDS), "two checks of the deployer");
        assertTrue(host.findChild("/app##1") != null, "the old version still deployed");
        org.apache.catalina.DistributedManager one = versionOne(host);
        assertEquals(1, one.getActiveSessionsFull(), "the session its last stop left");
        assertFullCountIsTheList(one, early.sessionId()); // watched, not held
        assertEquals("count=2 version=1", early.get(app() + "/counter").body, "the old version is still there");
        String id = early.sessionId();
        await("the session in memory", 5_000, () -> ((org.apache.catalina.Manager) one).getActiveSessions() == 1);
        assertEquals(1, one.getActiveSessionsFull(), "held (and watched, if still): counted once");
        assertFullCountIsTheList(one, id);
    }

    /** The full count is what the manager webapp lists ({@code findSessions}), counted without listing. */
    private static void assertFullCountIsTheList(org.apache.catalina.DistributedManager m, String... ids) {
        assertEquals(java.util.Set.of(ids), m.getSessionIdsFull());
        assertEquals(((org.apache.catalina.Manager) m).findSessions().length, m.getActiveSessionsFull());
    }
}
