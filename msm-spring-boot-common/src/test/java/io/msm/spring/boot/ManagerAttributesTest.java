package io.msm.spring.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

class ManagerAttributesTest {
    private static final ClassLoader LOADER = ManagerAttributesTest.class.getClassLoader();

    private static MsmProperties withNodes() {
        MsmProperties p = new MsmProperties();
        p.setMemcachedNodes(List.of("n1:127.0.0.1:11211"));
        return p;
    }

    @Test
    void everyAttributeHasAPropertyInKebabCase() {
        assertEquals("msm.memcached-nodes", ManagerAttributes.propertyName("memcachedNodes"));
        assertEquals("msm.copy-collections-for-serialization",
                ManagerAttributes.propertyName("copyCollectionsForSerialization"));
        assertEquals("msm.sticky", ManagerAttributes.propertyName("sticky"));
    }

    @Test
    void durationsAndSizesBecomeTheAttributesUnits() {
        MsmProperties p = withNodes();
        p.setOperationTimeout(Duration.ofSeconds(2));
        p.setLockExpiration(Duration.ofMinutes(1));
        p.setMaxInactiveInterval(Duration.ofMinutes(-1));
        p.setCompressionThreshold(DataSize.ofKilobytes(64));
        p.setSticky(false);
        ManagerAttributes a = ManagerAttributes.validated(p, LOADER);
        assertEquals("2000", a.attributes().get(MsmConfig.OPERATION_TIMEOUT));
        assertEquals("60", a.attributes().get(MsmConfig.LOCK_EXPIRATION));
        assertEquals("-60", a.attributes().get(MsmConfig.MAX_INACTIVE_INTERVAL));
        assertEquals("65536", a.attributes().get(MsmConfig.COMPRESSION_THRESHOLD));
        assertEquals("false", a.attributes().get(MsmConfig.STICKY));
        assertEquals(null, a.attributes().get(MsmConfig.ENABLED), "msm.enabled is the starter's, not the manager's");
    }

    @Test
    void everyBadPropertyIsReportedAtOnceByItsPropertyName() {
        MsmProperties p = new MsmProperties();
        p.setMemcachedNodes(List.of("n1:localhost"));
        p.setLockingMode("sometimes");
        p.setLockExpiration(Duration.ofMillis(1500));
        p.setOperationTimeout(Duration.ofNanos(1500));
        p.setMaxAttributeSize(DataSize.ofGigabytes(4));
        p.setUsername("alice");
        MsmPropertiesException e = assertThrows(MsmPropertiesException.class,
                () -> ManagerAttributes.validated(p, LOADER));
        List<String> problems = e.problems();
        String all = String.join("\n", problems);
        assertTrue(all.contains("msm.memcached-nodes=\"n1:localhost\""), all);
        assertTrue(all.contains("msm.locking-mode=\"sometimes\""), all);
        assertTrue(all.contains("msm.lock-expiration=PT1.5S: expected whole seconds"), all);
        assertTrue(all.contains("msm.operation-timeout=PT0.0000015S: expected whole milliseconds"), all);
        assertTrue(all.contains("msm.max-attribute-size=4294967296B"), all);
        assertTrue(all.contains("msm.password (not set)"), all);
        assertTrue(e.getMessage().startsWith(problems.size() + " invalid msm properties:"), e.getMessage());
    }

    @Test
    void aListOfNodesIsOneAttributeAndHugeDurationsAreReportedNotThrown() {
        MsmProperties p = new MsmProperties();
        p.setMemcachedNodes(List.of("n1:127.0.0.1:11211", "n2:127.0.0.1:11212"));
        assertEquals("n1:127.0.0.1:11211,n2:127.0.0.1:11212",
                ManagerAttributes.validated(p, LOADER).attributes().get(MsmConfig.MEMCACHED_NODES));
        p.setOperationTimeout(Duration.ofSeconds(Long.MAX_VALUE));
        MsmPropertiesException e = assertThrows(MsmPropertiesException.class,
                () -> ManagerAttributes.validated(p, LOADER));
        assertTrue(e.problems().get(0).startsWith("msm.operation-timeout=") && e.problems().get(0).endsWith("too long"),
                e.problems().toString());
    }

    @Test
    void secretsAreRecognisedInTheFormsTheActuatorShows() {
        for (String key : List.of("msm.session-keys", "MSM_SESSIONKEYS", "sessionKeys", "msm.password", "password",
                "msm.tls-trust-store-password", "MSM_TLSKEYSTOREPASSWORD", "tlsKeyStorePassword")) {
            assertTrue(MsmSecrets.isSecret(key), key);
        }
        for (String key : List.of("msm.memcached-nodes", "msm.username", "msm.session-key-file", "spring.datasource.url",
                "msm.tls-trust-store", "msm.tls")) {
            assertTrue(!MsmSecrets.isSecret(key), key);
        }
    }

    @Test
    void attributeNamesAreReplacedOnlyWhereTheyNameTheAttribute() {
        assertEquals("msm.session-keys and msm.session-key-file are both set: use one of them",
                ManagerAttributes.inPropertyNames("sessionKeys and sessionKeyFile are both set: use one of them"));
        assertEquals("msm.sticky=\"maybe\": expected true or false; non-sticky sessions",
                ManagerAttributes.inPropertyNames("sticky=\"maybe\": expected true or false; non-sticky sessions"));
    }
}
