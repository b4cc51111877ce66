package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.tomcat.util.IntrospectionUtils;
import org.apache.tomcat.util.modeler.Registry;
import org.junit.jupiter.api.Test;

/**
 * The manager's setters and getters follow msm-core's attribute declarations: Tomcat's digester (which sets each XML
 * attribute by reflection) reaches every attribute, and JMX (which describes the MBean from the public getters) reads
 * each one but the secrets, and the {@code msm*} statistics.
 */
class ManagerAttributesTest {
    private static final Set<String> SECRETS = Set.of(MsmConfig.PASSWORD, MsmConfig.SESSION_KEYS,
            MsmConfig.TLS_TRUST_STORE_PASSWORD, MsmConfig.TLS_KEY_STORE_PASSWORD);

    @Test
    void tomcatSetsEveryDeclaredAttributeByItsName() {
        MemcachedSessionManager m = new MemcachedSessionManager();
        List<String> unreachable = new ArrayList<>();
        for (String attribute : MsmConfig.ATTRIBUTES) {
            if (!IntrospectionUtils.setProperty(m, attribute, "v-" + attribute)) {
                unreachable.add(attribute);
            }
        }
        assertEquals(List.of(), unreachable, "attributes the digester cannot set");
        for (String attribute : MsmConfig.ATTRIBUTES) {
            Object shown = IntrospectionUtils.getProperty(m, attribute);
            assertEquals(SECRETS.contains(attribute) ? null : "v-" + attribute, shown, attribute);
        }
    }

    @Test
    void jmxReadsTheAttributesButNotTheSecretsAndTheStatistics() throws Exception {
        MemcachedSessionManager m = new MemcachedSessionManager();
        m.setSticky("false");
        Registry registry = Registry.getRegistry(null, null);
        ObjectName name = new ObjectName("MsmTest:type=Manager,context=/attributes");
        registry.registerComponent(m, name, null);
        try {
            MBeanServer server = registry.getMBeanServer();
            List<String> shown = new ArrayList<>();
            for (MBeanAttributeInfo info : server.getMBeanInfo(name).getAttributes()) {
                if (info.isReadable()) { // a secret is a write-only attribute
                    shown.add(info.getName());
                }
            }
            for (String attribute : MsmConfig.ATTRIBUTES) {
                assertEquals(!SECRETS.contains(attribute), shown.contains(attribute), attribute + " in " + shown);
            }
            assertEquals("false", server.getAttribute(name, MsmConfig.STICKY));
            assertEquals(0L, server.getAttribute(name, "msmBackups"), "no engine: zero");
            assertEquals(0.0, server.getAttribute(name, "msmLoadMeanMillis"));
            assertEquals("", server.getAttribute(name, "msmAvailableNodes"));
            assertTrue(shown.contains("msmPendingDeletes"), shown.toString());
            assertFalse(shown.contains("configAttribute"), shown.toString());
        } finally {
            registry.unregisterComponent(name);
        }
    }
}
