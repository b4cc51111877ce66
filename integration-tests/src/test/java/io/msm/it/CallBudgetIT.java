package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The memcached-call budget of DESIGN section 5 for sticky mode (issue item 10), counted by memcached itself: 0 calls
 * for a request that only reads the session, exactly one {@code set} for one that changes it, 0 for one that
 * touches no attribute. Also: the counters are attributes of the Manager's MBean.
 */
class CallBudgetIT extends MsmIT {

    private static Map<String, Long> delta(MemcachedCalls before) {
        return MemcachedCalls.of(MEMCACHED.servers()).since(before);
    }

    @ParameterizedTest(name = "memcachedProtocol={0}, sessionBackupAsync={1}")
    @CsvSource({"text,true", "text,false", "binary,true", "binary,false"})
    void stickyRequestsCostWhatTheDesignSays(String protocol, String async) throws Exception {
        EmbeddedTomcat tc1 = tomcat("tc1", "memcachedProtocol", protocol, "sessionBackupAsync", async);
        Browser b = new Browser();
        b.get(tc1.url("/counter"));
        awaitBackups(tc1);

        MemcachedCalls before = MemcachedCalls.of(MEMCACHED.servers());
        assertEquals("1", b.get(tc1.url("/read")).field("count"));
        awaitBackups(tc1);
        assertEquals(Map.of(), delta(before), "a request that only reads the session");

        before = MemcachedCalls.of(MEMCACHED.servers());
        b.get(tc1.url("/none"));
        awaitBackups(tc1);
        assertEquals(Map.of(), delta(before), "a request that touches no attribute");

        before = MemcachedCalls.of(MEMCACHED.servers());
        assertEquals(2, b.get(tc1.url("/counter")).count());
        if (async.equals("false")) {
            assertEquals(Map.of("cmd_set", 1L), delta(before), "stored before the response arrived");
        }
        awaitBackups(tc1);
        assertEquals(Map.of("cmd_set", 1L), delta(before), "a request that changes the session");

        before = MemcachedCalls.of(MEMCACHED.servers());
        b.get(tc1.url("/cart?add=apple"));
        awaitBackups(tc1); // (two changes in quick succession may share one write)
        b.get(tc1.url("/cart?add=pear")); // changes a list in place, no setAttribute
        awaitBackups(tc1);
        assertEquals(Map.of("cmd_set", 2L), delta(before), "changes made in place are noticed");

        MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = mbeans.queryNames(new ObjectName("engine-tc1:type=Manager,*"), null);
        assertEquals(1, names.size(), names.toString());
        ObjectName manager = names.iterator().next();
        assertEquals(4L, mbeans.getAttribute(manager, "msmBackups"));
        assertEquals(tc1.manager().getMsmBackupsUnchanged(), mbeans.getAttribute(manager, "msmBackupsUnchanged"));
        assertEquals("n1,n2", mbeans.getAttribute(manager, "msmAvailableNodes"));
        assertTrue((Double) mbeans.getAttribute(manager, "msmBackupMeanMillis") > 0);
        assertTrue(mbeans.getMBeanInfo(manager).toString().contains("msmUnsavedSessions"));
    }
}
