package io.msm.it.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.http.Browser;
import io.msm.test.memcached.MemcachedExtension;
import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * msm's Micrometer meters through the actuator ({@code /actuator/metrics}, {@code /actuator/prometheus}) after a
 * known sequence of requests: the values are the Manager's JMX statistics, and Tomcat's own session meters still
 * move.
 */
class StarterMetricsIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private static final Pattern VALUE = Pattern.compile("\"statistic\":\"(\\w+)\",\"value\":([-0-9.E]+)");

    @Test
    void metricsAndPrometheusShowTheJmxStatisticsAndTomcatsSessionMetersStillMove() throws Exception {
        try (Instance i = Instance.start("tc1", "msm.memcached-nodes=" + MEMCACHED.nodesAttribute("n1", "n2"),
                "msm.session-backup-async=false", "server.tomcat.mbeanregistry.enabled=true",
                "management.endpoints.web.exposure.include=health,metrics,prometheus")) {
            Browser user = new Browser();
            Browser other = new Browser();
            assertEquals(0.0, metric(i, "tomcat.sessions.active.current", "VALUE"));
            for (int n = 1; n <= 3; n++) {
                assertEquals("count=" + n, user.get(i.url("/count")).body());
            }
            other.get(i.url("/count"));
            i.awaitBackups();
            assertEquals(2.0, metric(i, "tomcat.sessions.active.current", "VALUE"), "Tomcat's own meter moves");
            assertEquals("invalidated", other.get(i.url("/invalidate")).body());
            i.awaitBackups();
            assertEquals(1.0, metric(i, "tomcat.sessions.active.current", "VALUE"));

            ObjectName manager = managerMBean();
            assertEquals(2.0, metric(i, "msm.session.creations", "COUNT"));
            assertJmx(i, manager, "msm.session.creations", "COUNT", "msmSessionsCreated");
            assertJmx(i, manager, "msm.backups", "COUNT", "msmBackups");
            assertJmx(i, manager, "msm.deletes", "COUNT", "msmDeletes");
            assertJmx(i, manager, "msm.backup.failures", "COUNT", "msmBackupFailures");
            assertTrue(metric(i, "msm.backups", "COUNT") >= 3, "each changed request stored its session");
            assertTrue(metric(i, "msm.deletes", "COUNT") >= 1, "the invalidated session was deleted");
            double count = metric(i, "msm.backup", "COUNT");
            double totalSeconds = metric(i, "msm.backup", "TOTAL_TIME");
            double jmxMeanMillis = ((Number) jmx(manager, "msmBackupMeanMillis")).doubleValue();
            assertEquals(jmxMeanMillis, totalSeconds / count * 1000, 1e-6, "the backup timer's mean is JMX's");
            assertEquals(2.0, metric(i, "msm.nodes.available", "VALUE"));
            assertEquals(String.join(",", "n1", "n2"), jmx(manager, "msmAvailableNodes"));

            String prometheus = new Browser().get(i.url("/actuator/prometheus")).body();
            Matcher m = Pattern.compile("(?m)^msm_session_creations_total\\{[^}]*context=\"/\"[^}]*} (\\S+)$")
                    .matcher(prometheus);
            assertTrue(m.find(), prometheus);
            assertEquals(2.0, Double.parseDouble(m.group(1)));
            assertTrue(prometheus.contains("msm_backup_seconds_count{"), "the backup timer, in Prometheus' form");
            assertTrue(prometheus.contains("msm_nodes_available{"), "the gauge of available nodes");
        }
    }

    private static void assertJmx(Instance i, ObjectName manager, String meter, String statistic, String attribute)
            throws Exception {
        assertEquals(((Number) jmx(manager, attribute)).doubleValue(), metric(i, meter, statistic),
                meter + " is JMX's " + attribute);
    }

    private static double metric(Instance i, String name, String statistic) {
        HttpResponse<String> r = new Browser().get(i.url("/actuator/metrics/" + name));
        assertEquals(200, r.statusCode(), name + ": " + r.body());
        Matcher m = VALUE.matcher(r.body());
        while (m.find()) {
            if (m.group(1).equals(statistic)) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no " + statistic + " in " + r.body());
    }

    /** Tomcat's MBean of the context's Manager (Boot registers Tomcat's MBeans with mbeanregistry enabled). */
    private static ObjectName managerMBean() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = server.queryNames(new ObjectName("*:type=Manager,*"), null);
        assertEquals(1, names.size(), names.toString());
        return names.iterator().next();
    }

    private static Object jmx(ObjectName name, String attribute) throws Exception {
        return ManagementFactory.getPlatformMBeanServer().getAttribute(name, attribute);
    }
}
