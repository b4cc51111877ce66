package io.msm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.testing.TestTranscoderFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class MsmConfigTest {

    private static MsmConfig.Builder valid() {
        return MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:11211,n2:127.0.0.1:11212")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName());
    }

    private static MsmConfig build(MsmConfig.Builder b) {
        return b.build(MsmConfigTest.class.getClassLoader());
    }

    @Test
    void defaultsFollowTheAnchor() {
        MsmConfig c = build(valid());
        assertEquals(2, c.nodes().size());
        assertEquals("n1", c.nodes().get(0).id());
        assertEquals(11212, c.nodes().get(1).port());
        assertTrue(c.nodeIdsInSessionIds());
        assertTrue(c.sticky());
        assertEquals(LockingMode.NONE, c.lockingMode());
        assertEquals(5, c.lockExpirationSeconds());
        assertEquals(1000, c.operationTimeoutMillis());
        assertTrue(c.sessionBackupAsync());
        assertEquals(100, c.sessionBackupTimeoutMillis());
        assertEquals(Runtime.getRuntime().availableProcessors(), c.backupThreadCount());
        assertEquals(MemcachedProtocol.TEXT, c.memcachedProtocol());
        assertTrue(c.enableStatistics());
        assertTrue(c.enabled());
        assertFalse(c.maxInactiveInterval().isPresent());
        assertEquals("", c.storageKeyPrefix().resolve("localhost", "/app", ""));
        assertTrue(c.warnings().isEmpty());
    }

    @Test
    void singleNodeWithoutIdCarriesNoNodeIdInSessionIds() {
        MsmConfig c = build(valid().set(MsmConfig.MEMCACHED_NODES, "127.0.0.1:11211"));
        assertFalse(c.nodeIdsInSessionIds());
        assertEquals("127.0.0.1:11211", c.nodes().get(0).id());
    }

    @Test
    void nodesMaySeparateWithWhitespaceAndUseIpv6() {
        MsmConfig c = build(valid().set(MsmConfig.MEMCACHED_NODES, " n1:127.0.0.1:1 \n n_2:[::1]:2 "));
        assertEquals(List.of("n1", "n_2"), List.of(c.nodes().get(0).id(), c.nodes().get(1).id()));
        assertEquals("::1", c.nodes().get(1).host());
    }

    @Test
    void failoverNodesAreMarked() {
        MsmConfig c = build(valid().set(MsmConfig.FAILOVER_NODES, "n2"));
        assertFalse(c.nodes().get(0).isFailover());
        assertTrue(c.nodes().get(1).isFailover());
    }

    @Test
    void oneErrorNamesEveryBadAttributeAndValue() {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> build(
                MsmConfig.builder()
                        .set(MsmConfig.MEMCACHED_NODES, "n1:localhost")
                        .set(MsmConfig.FAILOVER_NODES, "n9")
                        .set(MsmConfig.REQUEST_URI_IGNORE_PATTERN, "*.png")
                        .set(MsmConfig.TRANSCODER_FACTORY_CLASS, "com.example.NoSuchFactory")
                        .set(MsmConfig.STICKY, "yes")
                        .set(MsmConfig.OPERATION_TIMEOUT, "-5")));
        String m = e.getMessage();
        assertTrue(m.contains("memcachedNodes=\"n1:localhost\""), m);
        assertTrue(m.contains("<id>:<host>:<port>"), m);
        assertTrue(m.contains("requestUriIgnorePattern=\"*.png\""), m);
        assertTrue(m.contains("transcoderFactoryClass=\"com.example.NoSuchFactory\""), m);
        assertTrue(m.contains("sticky=\"yes\""), m);
        assertTrue(m.contains("operationTimeout=\"-5\""), m);
        assertTrue(m.contains("failoverNodes=\"n9\": unknown node id n9 (memcachedNodes names n1)"), m);
        assertEquals(6, e.problems().size(), m);
    }

    @Test
    void unknownFailoverNodeIsNamed() {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.FAILOVER_NODES, "n3")));
        assertTrue(e.getMessage().contains("failoverNodes=\"n3\": unknown node id n3 (memcachedNodes has n1, n2)"),
                e.getMessage());
    }

    @Test
    void everyNodeFailoverIsRefused() {
        assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.FAILOVER_NODES, "n1,n2")));
    }

    @Test
    void duplicateIdsAndAddressesAreRefused() {
        assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:1,n1:127.0.0.1:2")));
        assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:1,n2:127.0.0.1:1")));
        assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:70000")));
    }

    @Test
    void classThatIsNoFactoryIsRefused() {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.TRANSCODER_FACTORY_CLASS, String.class.getName())));
        assertTrue(e.getMessage().contains("does not implement io.msm.spi.TranscoderFactory"), e.getMessage());
    }

    @Test
    void saslNeedsBinaryProtocolAndBothCredentials() {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.USERNAME, "u")));
        assertTrue(e.getMessage().contains("memcachedProtocol"), e.getMessage());
        assertTrue(e.getMessage().contains("password (not set)"), e.getMessage());
        MsmConfig c = build(valid().set(MsmConfig.USERNAME, "u").set(MsmConfig.PASSWORD, "secret")
                .set(MsmConfig.MEMCACHED_PROTOCOL, "binary"));
        assertEquals(MemcachedProtocol.BINARY, c.memcachedProtocol());
        assertFalse(c.toString().contains("secret"), "password must be masked");
    }

    @Test
    void lockingModes() {
        assertEquals(LockingMode.AUTO, build(valid().set(MsmConfig.LOCKING_MODE, "auto")).lockingMode());
        MsmConfig c = build(valid().set(MsmConfig.LOCKING_MODE, "uriPattern:/cart/.*"));
        assertEquals(LockingMode.URI_PATTERN, c.lockingMode());
        assertEquals("/cart/.*", c.lockingUriPattern().get().pattern());
        assertThrows(InvalidConfigurationException.class, () -> build(valid().set(MsmConfig.LOCKING_MODE, "some")));
        assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.LOCKING_MODE, "uriPattern:(")));
    }

    @Test
    void storageKeyPrefixTokens() {
        MsmConfig c = build(valid().set(MsmConfig.STORAGE_KEY_PREFIX, "static:shop, host ,context,webappVersion"));
        // as memcached-session-manager built it: the context's name, values joined with ':', then '_'
        assertEquals("shop:localhost:/app##3:3_", c.storageKeyPrefix().resolve("localhost", "/app##3", "3"));
        assertEquals("shop:localhost_", c.storageKeyPrefix().resolve("localhost", "", ""), "the root context");
        // its documentation's example: host "hst", context "ctxt", version 001
        MsmConfig hashed = build(valid().set(MsmConfig.STORAGE_KEY_PREFIX, "host.hash,context.hash,webappVersion"));
        assertEquals("e93c085e:45e6345f:001_", hashed.storageKeyPrefix().resolve("hst", "ctxt", "001"));
        assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.STORAGE_KEY_PREFIX, "nonsense")));
    }

    @Test
    void anchorSerializerClassNameIsMappedWithAWarning() {
        MsmConfig.Builder b = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:1")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, "de.javakaffee.web.msm.JavaSerializationTranscoderFactory");
        // the mapped class lives in msm-serializer-java, which core's tests do not see
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> build(b));
        assertTrue(e.getMessage().contains(MsmConfig.DEFAULT_TRANSCODER_FACTORY_CLASS), e.getMessage());
    }

    @Test
    void anchorKryoClassNameIsMappedToOurs() {
        MsmConfig.Builder b = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:1")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, "de.javakaffee.web.msm.serializer.kryo.KryoTranscoderFactory");
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> build(b));
        assertTrue(e.getMessage().contains("io.msm.serializer.kryo.KryoTranscoderFactory not found"), e.getMessage());
    }

    @Test
    void oddButLegalValuesWarn() {
        MsmConfig c = build(valid().set(MsmConfig.SESSION_BACKUP_ASYNC, "false")
                .set(MsmConfig.SESSION_BACKUP_TIMEOUT, "5000"));
        assertEquals(1, c.warnings().size(), c.warnings().toString());
        assertTrue(c.warnings().get(0).contains("sessionBackupTimeout=\"5000\""));
    }

    @Test
    void lockingModeNoneIsTheStickyDefaultAndDoesNotWarn() {
        MsmConfig explicitNone = build(valid().set(MsmConfig.LOCKING_MODE, "none"));
        assertTrue(explicitNone.warnings().isEmpty(), explicitNone.warnings().toString());
        for (String mode : List.of("all", "auto", "uriPattern:/cart/.*")) {
            MsmConfig locking = build(valid().set(MsmConfig.LOCKING_MODE, mode));
            assertEquals(1, locking.warnings().size(), mode + ": " + locking.warnings());
            assertTrue(locking.warnings().get(0).contains("ignored in sticky mode"), locking.warnings().toString());
        }
        MsmConfig lockFailure = build(valid().set(MsmConfig.LOCKING_MODE, "none").set(MsmConfig.LOCK_FAILURE, "fail"));
        assertEquals(1, lockFailure.warnings().size(), lockFailure.warnings().toString());
    }

    @Test
    void legacySessionsAreReadOnlyWhenAskedAndUnderKeysTheOldManagerCouldHaveWritten() {
        assertEquals(LegacySessions.OFF, build(valid()).legacySessions());
        assertEquals(LegacySessions.READ, build(valid().set(MsmConfig.LEGACY_SESSIONS, "Read")).legacySessions());
        InvalidConfigurationException bad = assertThrows(InvalidConfigurationException.class,
                () -> build(valid().set(MsmConfig.LEGACY_SESSIONS, "yes")));
        assertTrue(bad.getMessage().contains("legacySessions=\"yes\": expected off, read or readWrite"), bad.getMessage());
        // memcached-session-manager refused a token with a space (it did not trim): it never stored under one
        InvalidConfigurationException token = assertThrows(InvalidConfigurationException.class, () -> build(valid()
                .set(MsmConfig.LEGACY_SESSIONS, "read").set(MsmConfig.STORAGE_KEY_PREFIX, "host, context")));
        assertTrue(token.getMessage().contains("storageKeyPrefix=\"host, context\": with legacySessions=\"read\""),
                token.getMessage());
        assertTrue(build(valid().set(MsmConfig.STORAGE_KEY_PREFIX, "host, context")).warnings().isEmpty(),
                "msm alone trims tokens");
        MsmConfig signed = build(valid().set(MsmConfig.LEGACY_SESSIONS, "read")
                .set(MsmConfig.SESSION_PROTECTION, "sign").set(MsmConfig.SESSION_KEYS, KEY_1));
        assertEquals(1, signed.warnings().size(), signed.warnings().toString());
        assertTrue(signed.warnings().get(0).contains("neither signed nor encrypted"), signed.warnings().toString());
        assertTrue(signed.toString().contains("legacySessions=read"), signed.toString());
        assertEquals(LegacySessions.READ_WRITE, build(valid().set(MsmConfig.LEGACY_SESSIONS, "readWrite"))
                .legacySessions());
        InvalidConfigurationException writeSigned = assertThrows(InvalidConfigurationException.class, () -> build(
                valid().set(MsmConfig.LEGACY_SESSIONS, "readWrite").set(MsmConfig.SESSION_PROTECTION, "sign")
                        .set(MsmConfig.SESSION_KEYS, KEY_1)));
        assertTrue(writeSigned.getMessage().contains("legacySessions=\"readWrite\": not with sessionProtection=\"sign\""),
                writeSigned.getMessage());
    }

    /**
     * The README's switch keeps every attribute: an old cluster on memcached-session-manager's Kryo serializer reads
     * attributes only as Kryo wrote them, and deletes a session whose attributes it cannot read (its
     * loadFromMemcached), so readWrite (old format, Java-serialized attributes) would end every session msm stores.
     */
    @Test
    void readWriteIsRefusedWhenTheOldManagerWroteWithItsKryoSerializer() {
        String oldKryo = "de.javakaffee.web.msm.serializer.kryo.KryoTranscoderFactory";
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> build(valid()
                .set(MsmConfig.LEGACY_SESSIONS, "readWrite").set(MsmConfig.TRANSCODER_FACTORY_CLASS, oldKryo)));
        assertTrue(e.getMessage().contains("legacySessions=\"readWrite\": not with transcoderFactoryClass=\""
                + oldKryo + "\""), e.getMessage());
    }

    @Test
    void theEffectiveConfigurationShowsEveryAttributeAndNoSecret() {
        MsmConfig c = build(valid().set(MsmConfig.USERNAME, "u").set(MsmConfig.PASSWORD, "pw-secret")
                .set(MsmConfig.MEMCACHED_PROTOCOL, "binary").set(MsmConfig.SESSION_PROTECTION, "sign")
                .set(MsmConfig.SESSION_KEYS, KEY_1));
        String shown = c.toString();
        for (String attribute : MsmConfig.ATTRIBUTES) {
            assertTrue(shown.contains("\n  " + attribute + "="), attribute + " in " + shown);
        }
        assertTrue(shown.contains("password=******"), shown);
        assertTrue(shown.contains("sessionKeys=1 key(s), not shown"), shown);
        assertFalse(shown.contains("pw-secret") || shown.contains(KEY_1), shown);
        assertTrue(shown.contains("operationTimeout=1000ms") && shown.contains("memcachedProtocol=binary"), shown);
    }

    @Test
    void unknownAttributeIsAProgrammingError() {
        assertThrows(IllegalArgumentException.class, () -> MsmConfig.builder().set("memcachedNode", "x"));
    }

    @Test
    void couchbaseBucketUrlsOfTheOldManagerAreRefusedByName() {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                () -> MsmConfig.builder().set("memcachedNodes", "http://10.0.0.1:8091/pools")
                        .build(getClass().getClassLoader()));
        assertTrue(e.getMessage().contains("Couchbase/Membase bucket URL"), e.getMessage());
        assertTrue(e.getMessage().contains("memcachedNodes=\"http://10.0.0.1:8091/pools\""), e.getMessage());
    }

    private static final String KEY_1 = java.util.Base64.getEncoder().encodeToString(new byte[32]);
    private static final String KEY_2 = java.util.Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef"
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));

    @Test
    void sessionProtectionTakesKeysInlineOrFromAFileAndNeverShowsThem(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        MsmConfig defaults = build(valid());
        assertEquals(SessionProtection.NONE, defaults.sessionProtection());
        assertTrue(defaults.sessionKeys().isEmpty());
        assertEquals(MsmConfig.DEFAULT_COMPRESSION_THRESHOLD, defaults.compressionThreshold());
        assertEquals(0, defaults.maxAttributeSize());

        MsmConfig inline = build(valid().set(MsmConfig.SESSION_PROTECTION, "sign")
                .set(MsmConfig.SESSION_KEYS, KEY_2 + ", " + KEY_1));
        assertEquals(SessionProtection.SIGN, inline.sessionProtection());
        assertEquals(2, inline.sessionKeys().size());
        assertEquals('0', inline.sessionKeys().get(0)[0], "the first key writes");
        assertFalse(inline.toString().contains(KEY_1) || inline.toString().contains(KEY_2), inline.toString());

        java.nio.file.Path file = dir.resolve("keys");
        java.nio.file.Files.writeString(file, "# current\n" + KEY_1 + "\n\n# previous\n" + KEY_2 + "\n");
        java.nio.file.Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString(
                "rw-------"));
        MsmConfig fromFile = build(valid().set(MsmConfig.SESSION_PROTECTION, "encrypt")
                .set(MsmConfig.SESSION_KEY_FILE, file.toString()));
        assertEquals(SessionProtection.ENCRYPT, fromFile.sessionProtection());
        assertEquals(2, fromFile.sessionKeys().size());
        assertEquals(0, fromFile.sessionKeys().get(0)[0]);
        assertTrue(fromFile.warnings().isEmpty(), fromFile.warnings().toString());

        java.nio.file.Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString(
                "rw-r--r--"));
        MsmConfig readable = build(valid().set(MsmConfig.SESSION_PROTECTION, "encrypt")
                .set(MsmConfig.SESSION_KEY_FILE, file.toString()));
        assertTrue(readable.warnings().toString().contains("readable by every user"), readable.warnings().toString());
    }

    @Test
    void badSecurityAttributesAreNamedWithoutRevealingKeys(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        String shortKey = java.util.Base64.getEncoder().encodeToString(new byte[16]);
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> build(valid()
                .set(MsmConfig.SESSION_PROTECTION, "hmac")
                .set(MsmConfig.SESSION_KEYS, shortKey + " not*base64 " + KEY_1 + " " + KEY_1)
                .set(MsmConfig.COMPRESSION_THRESHOLD, "-1")
                .set(MsmConfig.MAX_ATTRIBUTE_SIZE, "big")
                .set(MsmConfig.DESERIALIZATION_FILTER, "maxdepth=x;com.example.*")));
        String m = e.getMessage();
        assertTrue(m.contains("sessionProtection=\"hmac\": expected none, sign or encrypt"), m);
        assertTrue(m.contains("key 1 of 4 has 16 bytes, at least 32"), m);
        assertTrue(m.contains("key 2 of 4 is not base64"), m);
        assertTrue(m.contains("key 4 of 4 repeats an earlier key"), m);
        assertFalse(m.contains(shortKey) || m.contains(KEY_1) || m.contains("not*base64"), m);
        assertTrue(m.contains("compressionThreshold=\"-1\": expected a whole number >= 0"), m);
        assertTrue(m.contains("maxAttributeSize=\"big\""), m);
        assertTrue(m.contains("deserializationFilter=\"maxdepth=x;com.example.*\": not a valid JEP 290 filter"), m);

        assertTrue(assertThrows(InvalidConfigurationException.class, () -> build(valid()
                .set(MsmConfig.SESSION_PROTECTION, "sign"))).getMessage().contains("needs keys"));
        assertTrue(assertThrows(InvalidConfigurationException.class, () -> build(valid()
                .set(MsmConfig.SESSION_KEYS, KEY_1))).getMessage()
                .contains("sessionProtection (not set, none): keys are configured"));
        assertTrue(assertThrows(InvalidConfigurationException.class, () -> build(valid()
                .set(MsmConfig.SESSION_PROTECTION, "sign").set(MsmConfig.SESSION_KEYS, KEY_1)
                .set(MsmConfig.SESSION_KEY_FILE, "/x"))).getMessage().contains("both set"));
        String missing = dir.resolve("nope").toString();
        assertTrue(assertThrows(InvalidConfigurationException.class, () -> build(valid()
                .set(MsmConfig.SESSION_PROTECTION, "sign").set(MsmConfig.SESSION_KEY_FILE, missing))).getMessage()
                .contains("sessionKeyFile=\"" + missing + "\": cannot read"));
    }
}
