package io.msm.it.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.spring.boot.MsmSessionManagers;
import io.msm.test.http.Browser;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.tomcat.MemcachedSessionManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * The {@code msm.*} properties: what a Spring Boot developer sees when one is wrong (Boot's failure analysis, naming
 * the property and the value), when msm stays off, Boot's duration and size forms, and an application's customizer.
 */
class StarterPropertiesIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(1);

    @BeforeEach
    void forget() {
        RecordingFailureReporter.last = null;
    }

    private static String nodes() {
        return "msm.memcached-nodes=" + MEMCACHED.nodesAttribute("n1");
    }

    /** Starts an instance that must fail; returns Boot's failure analysis of it. */
    private static FailureAnalysis failedStart(String... properties) {
        assertThrows(Exception.class, () -> Instance.start("bad", properties).close());
        FailureAnalysis a = RecordingFailureReporter.last;
        assertNotNull(a, "Spring Boot analysed the failure");
        return a;
    }

    @Test
    void invalidValuesFailTheStartNamingEachPropertyAndValue() {
        FailureAnalysis a = failedStart("msm.memcached-nodes=n1:localhost", "msm.locking-mode=sometimes");
        String d = a.getDescription();
        assertTrue(d.contains("2 invalid msm properties"), d);
        assertTrue(d.contains("msm.memcached-nodes=\"n1:localhost\""), d);
        assertTrue(d.contains("msm.locking-mode=\"sometimes\""), d);
        assertTrue(a.getAction().contains("msm.enabled=false"), a.getAction());
    }

    @Test
    void aDurationThatIsNoWholeNumberOfTheAttributesUnitFailsTheStart() {
        String d = failedStart(nodes(), "msm.lock-expiration=1500ms").getDescription();
        assertTrue(d.contains("msm.lock-expiration=PT1.5S: expected whole seconds"), d);
    }

    @Test
    void aValueBootCannotConvertFailsTheStartWithBootsOwnAnalysis() {
        FailureAnalysis a = failedStart(nodes(), "msm.operation-timeout=soon");
        assertTrue(a.getDescription().contains("msm.operation-timeout"), a.getDescription());
        assertTrue(a.getDescription().contains("soon"), a.getDescription());
    }

    @Test
    void aMisspelledPropertyFailsTheStart() {
        FailureAnalysis a = failedStart(nodes(), "msm.locking-mod=all");
        assertTrue(a.getDescription().contains("msm.locking-mod: not an msm property"), a.getDescription());
    }

    /** The command line (and environment variables) are checked as well, and a misspelled secret is not shown. */
    @Test
    void aMisspelledCommandLinePropertyFailsTheStartNamedWithoutItsValue() {
        FailureAnalysis a = failedStart(nodes(), "--msm.pasword=hunter2");
        assertTrue(a.getDescription().contains("msm.pasword: not an msm property"), a.getDescription());
        assertTrue(!a.getDescription().contains("hunter2") && !a.getAction().contains("hunter2"), a.getDescription());
    }

    @Test
    void nodesAsAListAsYamlWritesThem() {
        String[] nodes = MEMCACHED.nodesAttribute("n1").split(",");
        try (Instance i = Instance.start("tc1", "msm.memcached-nodes[0]=" + nodes[0])) {
            assertEquals(MEMCACHED.nodesAttribute("n1"), i.manager().getMemcachedNodes());
        }
    }

    @Test
    void secretsStayMaskedInTheActuatorEvenWithShowValuesAlways() {
        String key = java.util.Base64.getEncoder().encodeToString(new byte[32]).replace('A', 'k');
        try (Instance i = Instance.start("tc1", nodes(), "msm.session-protection=sign", "msm.session-keys=" + key,
                "management.endpoints.web.exposure.include=configprops,env",
                "management.endpoint.configprops.show-values=always", "management.endpoint.env.show-values=always")) {
            for (String endpoint : new String[] {"/actuator/configprops", "/actuator/env"}) {
                String body = new Browser().get(i.url(endpoint)).body();
                assertTrue(body.contains("session-protection") || body.contains("sessionProtection"), body);
                assertTrue(!body.contains(key), endpoint + " shows msm.session-keys: " + body);
            }
        }
    }

    @Test
    void durationsAndSizesAreReadAsBootWritesThem() {
        try (Instance i = Instance.start("tc1", nodes(), "msm.operation-timeout=2s", "msm.lock-expiration=1m",
                "msm.compression-threshold=64KB", "msm.sticky=false")) {
            MemcachedSessionManager m = i.manager();
            assertEquals("2000", m.getOperationTimeout());
            assertEquals(2000, m.engine().config().operationTimeoutMillis());
            assertEquals("60", m.getLockExpiration());
            assertEquals("65536", m.getCompressionThreshold());
            assertEquals("false", m.getSticky());
        }
    }

    @Test
    void anApplicationsCustomizerChangesTheManagerAfterTheProperties() {
        try (Instance i = Instance.start("tc1", nodes(), "msm.operation-timeout=500ms",
                "test.operation-timeout=777")) {
            assertEquals(777, i.manager().engine().config().operationTimeoutMillis());
        }
    }

    @Test
    void withoutMemcachedNodesOrWithEnabledFalseOrBlankNodesTomcatKeepsItsOwnManager() {
        for (String[] properties : new String[][] {{}, {nodes(), "msm.enabled=false"}, {"msm.memcached-nodes= "}}) {
            try (Instance i = Instance.start("tc1", properties)) {
                assertTrue(i.app.getBeansOfType(MsmSessionManagers.class).isEmpty(), "no msm");
                Browser user = new Browser();
                user.get(i.url("/count"));
                assertEquals("count=2", user.get(i.url("/count")).body(), "sessions work as before");
            }
        }
    }
}
