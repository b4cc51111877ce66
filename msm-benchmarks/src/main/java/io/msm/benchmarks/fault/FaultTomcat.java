package io.msm.benchmarks.fault;

import io.msm.benchmarks.ForkedJvm;
import io.msm.benchmarks.e2e.EndToEndBenchmark;
import io.msm.tomcat.MemcachedSessionManager;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;

/**
 * One Tomcat of the fault suite, in its own JVM so that it can be killed with SIGKILL: an embedded Tomcat 9 with msm
 * and a counter servlet. Arguments: {@code <jvmRoute> <memcachedNodes> <sticky> [<attribute>=<value>...]} (more
 * Manager attributes). Prints {@code PORT <n>} once it serves, then runs until killed.
 */
public final class FaultTomcat {
    /**
     * System property: how long (ms) the engine remembers when it refreshed each secondary copy, instead of msm's 60 s
     * (non-sticky; see {@link io.msm.engine.BenchmarkSeams#keepSecondaryRefreshTimes}).
     */
    static final String SECONDARY_REFRESH_KEPT_MILLIS = "msm.fault.secondaryRefreshKeptMillis";
    private static final Logger[] QUIET = {Logger.getLogger("org.apache"), Logger.getLogger("net.spy")};

    private FaultTomcat() {
    }

    public static void main(String[] args) throws Exception {
        for (Logger l : QUIET) {
            l.setLevel(Level.WARNING);
        }
        Tomcat tomcat = EndToEndBenchmark.newTomcat(args[0]);
        Context context = (Context) tomcat.getHost().findChild("");
        MemcachedSessionManager manager = new MemcachedSessionManager();
        manager.setMemcachedNodes(args[1]);
        manager.setSticky(args[2]);
        for (int i = 3; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            ForkedJvm.setProperty(manager, kv[0], kv[1]);
        }
        context.setManager(manager);
        Tomcat.addServlet(context, "count", new Count()).addMapping("/count");
        Tomcat.addServlet(context, "heap", new HeapPage(manager)).addMapping("/heap");
        tomcat.start();
        long kept = Long.getLong(SECONDARY_REFRESH_KEPT_MILLIS, 0);
        if (kept > 0) {
            io.msm.engine.BenchmarkSeams.keepSecondaryRefreshTimes(manager.engine(), kept);
        }
        ForkedJvm.announce(tomcat.getConnector().getLocalPort());
        tomcat.getServer().await();
    }

    /**
     * {@code used=<bytes> sessions=<n> unsaved=<n>}: used heap ({@code ?gc=true}: after a full GC), sessions in memory,
     * sessions waiting for a memcached node. Uses no session.
     */
    static final class HeapPage extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final transient MemcachedSessionManager manager;

        HeapPage(MemcachedSessionManager manager) {
            this.manager = manager;
        }

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            if (Boolean.parseBoolean(req.getParameter("gc"))) {
                memory.gc();
            }
            resp.setContentType("text/plain");
            resp.getWriter().print("used=" + memory.getHeapMemoryUsage().getUsed() + " sessions="
                    + manager.getActiveSessions() + " unsaved=" + manager.getMsmUnsavedSessions());
        }
    }

    /** {@code count=N}: the session's counter after this request. */
    static final class Count extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            Integer c = (Integer) s.getAttribute("count");
            int next = c == null ? 1 : c + 1;
            s.setAttribute("count", next);
            resp.setContentType("text/plain");
            resp.getWriter().print("count=" + next);
        }
    }
}
