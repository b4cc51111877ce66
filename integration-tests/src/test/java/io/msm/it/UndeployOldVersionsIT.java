package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    /** Writes {@code app##<version>} into {@code appBase}: msm with {@code sticky}, a session timeout of 5 s. */
    private static void writeWebapp(Path appBase, String version, boolean sticky) {
        Path dir = appBase.resolve("app##" + version);
        try {
            Files.createDirectories(dir.resolve("META-INF"));
            Files.createDirectories(dir.resolve("WEB-INF"));
            Files.writeString(dir.resolve("META-INF/context.xml"), "<Context>\n"
                    + "  <JarScanner scanClassPath=\"false\"/>\n"
                    + "  <Manager className=\"io.msm.tomcat.MemcachedSessionManager\" memcachedNodes=\"" + nodes()
                    + "\" sticky=\"" + sticky + "\" maxInactiveInterval=\"5\"/>\n"
                    + "</Context>\n", StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("WEB-INF/web.xml"),
                    "<web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.1\" metadata-complete=\"true\">\n"
                    + "  <context-param><param-name>version</param-name><param-value>" + version
                    + "</param-value></context-param>\n"
                    + "  <servlet><servlet-name>counter</servlet-name><servlet-class>"
                    + VersionCounter.class.getName() + "</servlet-class></servlet>\n"
                    + "  <servlet-mapping><servlet-name>counter</servlet-name><url-pattern>/counter</url-pattern>"
                    + "</servlet-mapping>\n"
                    + "  <servlet><servlet-name>version</servlet-name><servlet-class>"
                    + VersionOnly.class.getName() + "</servlet-class></servlet>\n"
                    + "  <servlet-mapping><servlet-name>version</servlet-name><url-pattern>/version</url-pattern>"
                    + "</servlet-mapping>\n"
                    + "</web-app>\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void theOldVersionStaysUntilItsLastSessionEnded(boolean sticky) throws Exception {
        Path base = Files.createTempDirectory("msm-undeploy");
        Path appBase = Files.createDirectories(base.resolve("webapps"));
        writeWebapp(appBase, "1", sticky);
        tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        tomcat.getConnector().setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        tomcat.getEngine().setJvmRoute("tc1");
        tomcat.getEngine().setBackgroundProcessorDelay(1); // the deployer's checks every second
        org.apache.catalina.core.StandardHost host = (org.apache.catalina.core.StandardHost) tomcat.getHost();
        host.setAppBase(appBase.toString());
        host.setAutoDeploy(true);
        host.setUndeployOldVersions(true);
        host.addLifecycleListener(new HostConfig());
        Semaphore checks = new Semaphore(0);
        host.addLifecycleListener(event -> {
            if (Lifecycle.PERIODIC_EVENT.equals(event.getType())) {
                checks.release(); // after the deployer's check: it was added first
            }
        });
        tomcat.start();
        String app = "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/app";
        String url = app + "/counter";

        Browser early = new Browser();
        assertEquals("count=1 version=1", early.get(url).body);
        writeWebapp(appBase, "2", sticky);
        Browser noSession = new Browser();
        await("version 2 deployed", 20_000, () -> noSession.get(app + "/version").body.equals("version=2"));
        assertEquals("count=1 version=2", new Browser().get(url).body, "a new user gets the new version");

        assertEquals("count=2 version=1", early.get(url).body, "the old version serves the session it began");
        checks.drainPermits();
        for (int count = 3; count <= 5; count++) { // its user goes on, one request after each check of the deployer
            assertTrue(checks.tryAcquire(1, 20, TimeUnit.SECONDS), "a check of the deployer");
            assertEquals("count=" + count + " version=1", early.get(url).body, "the old version is still there");
        }

        // no more requests: the session times out (5 s), and the deployer then undeploys the old version
        await("version 1 undeployed", 30_000, () -> host.findChild("/app##1") == null);
        assertTrue(early.get(url).body.endsWith("version=2"), "its user, back later, gets the new version");
    }
}
