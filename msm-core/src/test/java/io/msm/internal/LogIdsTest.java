package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LogIdsTest {
    private static final String ID = "9A1F0C3B5D7E9F11223344556677889A-n1.tc1";

    @Test
    void anIdKeepsItsNodeAndRouteAndLosesItsSecret() {
        String shown = LogIds.of(ID);
        assertTrue(shown.matches("#[0-9a-f]{8}-n1\\.tc1"), shown);
        assertFalse(shown.contains("9A1F0C3B"), shown);
        assertEquals(shown, LogIds.of(ID), "the same on every call (and every Tomcat)");
        assertNotEquals(shown, LogIds.of("9A1F0C3B5D7E9F11223344556677889B-n1.tc1"));
        assertTrue(LogIds.of("ABCDEF0123-n2").matches("#[0-9a-f]{8}-n2"));
        assertTrue(LogIds.of("ABCDEF0123.tc1").matches("#[0-9a-f]{8}\\.tc1"));
        assertTrue(LogIds.of("ABCDEF0123").matches("#[0-9a-f]{8}"));
    }

    @Test
    void aKeyKeepsItsKindAndLosesTheId() {
        assertTrue(LogIds.key("bak:p_" + ID).matches("bak:#[0-9a-f]{8}"), LogIds.key("bak:p_" + ID));
        assertTrue(LogIds.key("lock:" + ID).matches("lock:#[0-9a-f]{8}"));
        assertTrue(LogIds.key("p_" + ID).matches("#[0-9a-f]{8}"));
        assertEquals("p_msm:taken:tc1", LogIds.key("p_msm:taken:tc1"));
    }

    @Test
    void storeErrorsNameTheKeyWithoutTheId() {
        String message = io.msm.store.StoreException.timeout("get", "p_" + ID, "n1", 300, "connected").getMessage();
        assertFalse(message.contains("9A1F0C3B"), message);
        assertTrue(message.contains(LogIds.key("p_" + ID)), message);
    }

    /**
     * {@code storageKeyPrefix="static:msm:"} (a namespace a user may well choose) makes every session key start with
     * {@code msm:}, as msm's own keys and the hashed form of an unsendable key do: a store error must still not show
     * the session id in the log.
     */
    @Test
    void aKeyWhosePrefixStartsAsMsmsOwnKeysStillLosesTheId() {
        String prefix = io.msm.config.MsmConfig.builder()
                .set(io.msm.config.MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:11211")
                .set(io.msm.config.MsmConfig.TRANSCODER_FACTORY_CLASS, io.msm.testing.TestTranscoderFactory.class.getName())
                .set(io.msm.config.MsmConfig.STORAGE_KEY_PREFIX, "static:msm:")
                .build(getClass().getClassLoader()).storageKeyPrefix().resolve("localhost", "/app", "");
        String message = io.msm.store.StoreException.timeout("get", prefix + ID, "n1", 300, "connected").getMessage();
        assertFalse(message.contains("9A1F0C3B"), message);
    }

    /**
     * {@code storageKeyPrefix="msm:"}, non-sticky without a jvmRoute: an id of Tomcat's 32 hex characters on a node
     * named {@code memcached1} makes a session key of {@code msm:} and 43 characters of the base64url alphabet, the
     * shape of the hashed form of an unsendable key, which LogIds.key shows in full.
     */
    @Test
    void aSessionKeyShapedLikeAHashedKeyStillLosesTheId() {
        String id = "9A1F0C3B5D7E9F11223344556677AABB-memcached1";
        String message = io.msm.store.StoreException.timeout("get", "msm:" + id, "memcached1", 300, "connected")
                .getMessage();
        assertFalse(message.contains("9A1F0C3B"), message);
    }
}
