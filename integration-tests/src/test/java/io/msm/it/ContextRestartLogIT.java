package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedServer;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.loader.WebappClassLoaderBase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What an operator reads in Tomcat's log when a context with msm is reloaded, stopped and started, or shut down with
 * its Tomcat, with every memcached node up all the time: no memory-leak warning (msm's threads, spymemcached's I/O
 * thread included, have ended when Tomcat's web application class loader looks for threads it started) and no line
 * about a node's availability (nothing changed). A node down at start is logged once, and so is its return.
 */
class ContextRestartLogIT extends MsmIT {
    private static final int CYCLES = 20;

    /** The ways a context is stopped: the manager app's reload, stop and start, shutdown.sh (the whole Tomcat). */
    private enum Stop { RELOAD, STOP_START, SHUTDOWN }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"true", "false"})
    void reloadsStopsAndShutdownsLogNoLeakAndNoAvailabilityChange(String sticky) throws LifecycleException {
        try (LogCapture tomcatLog = LogCapture.of("org.apache.catalina");
                LogCapture msmLog = LogCapture.of("io.msm")) {
            EmbeddedTomcat tc = webapp(sticky);
            Browser browser = new Browser();
            for (int cycle = 1; cycle <= CYCLES; cycle++) {
                Browser.Page page = browser.get(tc.url("/counter"));
                assertEquals(cycle, page.count(), "the session continues across restarts: " + page);
                awaitBackups(tc);
                Stop stop = Stop.values()[cycle % Stop.values().length];
                switch (stop) {
                    case RELOAD:
                        tc.context().reload();
                        break;
                    case STOP_START:
                        tc.context().stop();
                        tc.context().start();
                        break;
                    default:
                        tc.stop();
                        tc = webapp(sticky);
                        break;
                }
                assertEquals(LifecycleState.STARTED, tc.context().getState(), "after " + stop);
            }
            tc.stop();

            List<String> leaks = lines(tomcatLog.records, "failed to");
            assertTrue(leaks.isEmpty(), leaks.size() + " leak warning(s) in " + (CYCLES + 1) + " stops: " + leaks);
            List<String> availability = lines(msmLog.records, "available");
            assertTrue(availability.isEmpty(), "nodes were up all the time: " + availability);
            List<String> msmWarnings = new ArrayList<>();
            for (LogRecord r : msmLog.records) {
                // but for the one every start of a context without sessionProtection gives (SecurityIT checks it)
                if (r.getLevel().intValue() >= Level.WARNING.intValue()
                        && !LogCapture.fullText(r).contains("sessionProtection=\"none\"")) {
                    msmWarnings.add(LogCapture.fullText(r));
                }
            }
            assertTrue(msmWarnings.isEmpty(), "msm warned: " + msmWarnings);
        }
    }

    @Test
    void aNodeDownAtStartIsLoggedOnceAndSoIsItsReturn() {
        MemcachedServer n2 = server("n2");
        n2.kill();
        try (LogCapture msmLog = LogCapture.of("io.msm")) {
            EmbeddedTomcat tc = tomcat("tc1", "operationTimeout", "500");
            assertEquals(List.of("n1"), tc.manager().engine().availableNodes());
            List<String> down = lines(msmLog.records, "available");
            assertEquals(1, down.size(), down.toString());
            assertTrue(down.get(0).contains("memcached node n2 is unavailable (not reachable at start: "), down.get(0));

            n2.start();
            await("n2 available", 10_000, () -> tc.manager().engine().availableNodes().contains("n2"));
            await("its log line", 1000, () -> lines(msmLog.records, "available").size() == 2);
            List<String> back = lines(msmLog.records, "available");
            assertTrue(back.get(1).contains("memcached node n2 is available again"), back.toString());
        } finally {
            if (!n2.isRunning()) {
                n2.start(); // for the other tests
            }
        }
    }

    /**
     * A Tomcat whose context has its own web application class loader (Tomcat's leak detection runs for it) and gets
     * its servlets again at every start, as a webapp reads its web.xml again: Tomcat forgets a context's servlets
     * when it stops.
     */
    private EmbeddedTomcat webapp(String sticky) {
        EmbeddedTomcat tc = tomcat("tc1", "sticky", sticky);
        Context context = tc.context();
        assertTrue(context.getLoader().getClassLoader() instanceof WebappClassLoaderBase,
                String.valueOf(context.getLoader().getClassLoader()));
        context.addLifecycleListener(event -> {
            if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType()) && context.findChild("counter") == null) {
                context.removeParameter("route"); // kept by Tomcat, unlike the servlets
                TestApp.install(context, tc.route());
            }
        });
        return tc;
    }

    /** The records containing {@code text}, each with its logger name. */
    private static List<String> lines(List<LogRecord> records, String text) {
        List<String> found = new ArrayList<>();
        for (LogRecord r : records) {
            String line = LogCapture.fullText(r);
            if (line.contains(text)) {
                found.add(r.getLoggerName() + ": " + line);
            }
        }
        return found;
    }
}
