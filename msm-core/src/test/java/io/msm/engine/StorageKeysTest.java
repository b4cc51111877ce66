package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.SessionProtection;
import io.msm.store.MemcachedKeys;
import java.util.List;
import org.junit.jupiter.api.Test;

class StorageKeysTest {
    private static final byte[] KEY = new byte[32];
    private static final byte[] OTHER = new byte[32];

    static {
        for (int i = 0; i < 32; i++) {
            KEY[i] = (byte) i;
            OTHER[i] = (byte) (i + 1);
        }
    }

    @Test
    void withoutProtectionAKeyIsPrefixAndIdAsEver() {
        StorageKeys keys = new StorageKeys("p_", SessionProtection.NONE, List.of());
        assertEquals(1, keys.names());
        assertEquals("p_ABC-n1.tc1", keys.primary("ABC-n1.tc1", 0));
        assertEquals("bak:p_ABC-n1", keys.secondary("ABC-n1", 0));
        assertEquals(List.of("lock:p_ABC-n1"), keys.locks("ABC-n1"));
        assertEquals("p_msm:probe", keys.probe());
        assertEquals("caf\u00e9_ABC-n1", new StorageKeys("caf\u00e9_", SessionProtection.NONE, List.of())
                .primary("ABC-n1", 0), "UTF-8 is sent as it is");
    }

    /** Stored keys must not change between versions: sessions would be lost at an upgrade. */
    @Test
    void aProtectedNameIsAStableKeyedHashOfTheId() {
        StorageKeys keys = new StorageKeys("p_", SessionProtection.SIGN, List.of(KEY));
        // HMAC-SHA256(HMAC-SHA256(key, "msm key names v1"), id), 24 bytes in base64url, computed independently
        assertEquals("p_Z5K3oY93kpIszzzUPLgn-Iq_MqGioJxM", keys.primary("ABC-n1.tc1", 0));
        assertEquals("bak:p_Z5K3oY93kpIszzzUPLgn-Iq_MqGioJxM", keys.secondary("ABC-n1.tc1", 0));
        assertEquals(List.of("lock:p_Z5K3oY93kpIszzzUPLgn-Iq_MqGioJxM"), keys.locks("ABC-n1.tc1"));
        assertEquals(keys.primary("ABC-n1.tc1", 0),
                new StorageKeys("p_", SessionProtection.ENCRYPT, List.of(KEY)).primary("ABC-n1.tc1", 0));
        assertNotEquals(keys.primary("ABC-n1.tc1", 0), keys.primary("ABC-n1.tc2", 0));
    }

    @Test
    void anIdNamedAgainGetsItsOwnNameAndNoOtherIdIsGivenIt() {
        StorageKeys keys = new StorageKeys("p_", SessionProtection.SIGN, List.of(KEY, OTHER));
        String id = "ABC-n1.tc1";
        String first = keys.primary(id, 0);
        assertEquals("p_Z5K3oY93kpIszzzUPLgn-Iq_MqGioJxM", first);
        assertEquals(first, keys.primary(id, 0));
        assertEquals("bak:" + first, keys.secondary(id, 0));
        assertNotEquals(first, keys.primary(id, 1), "the second key's name");
        assertEquals(first, keys.primary(id, 0));
        assertEquals(first, keys.primary(new String(id), 0), "an equal string: named again, the same name");
        assertNotEquals(first, keys.primary("ABC-n1.tc2", 0));
        assertEquals(first, keys.primary(id, 0));
    }

    @Test
    void withSeveralKeysEachHasANameTheFirstWrittenAndLocksInOneOrder() {
        StorageKeys oldFirst = new StorageKeys("p_", SessionProtection.SIGN, List.of(KEY, OTHER));
        StorageKeys newFirst = new StorageKeys("p_", SessionProtection.SIGN, List.of(OTHER, KEY));
        assertEquals(2, oldFirst.names());
        assertEquals(oldFirst.primary("ABC-n1", 0), newFirst.primary("ABC-n1", 1));
        assertEquals(oldFirst.primary("ABC-n1", 1), newFirst.primary("ABC-n1", 0));
        assertEquals(oldFirst.locks("ABC-n1"), newFirst.locks("ABC-n1"));
        assertEquals(1, new StorageKeys("p_", SessionProtection.SIGN, List.of(KEY, KEY.clone())).names(),
                "a key listed twice has one name");
    }

    /** The claim on a session's end is named like its other keys: an id in clear only without protection. */
    @Test
    void claimsAreNamedLikeTheSessionsOtherKeysOnePerNameInOneOrder() {
        assertEquals(List.of("end:p_ABC-n1.tc1"),
                new StorageKeys("p_", SessionProtection.NONE, List.of()).claims("ABC-n1.tc1"));
        assertEquals(List.of("end:p_Z5K3oY93kpIszzzUPLgn-Iq_MqGioJxM"),
                new StorageKeys("p_", SessionProtection.SIGN, List.of(KEY)).claims("ABC-n1.tc1"));
        StorageKeys oldFirst = new StorageKeys("p_", SessionProtection.SIGN, List.of(KEY, OTHER));
        StorageKeys newFirst = new StorageKeys("p_", SessionProtection.SIGN, List.of(OTHER, KEY));
        assertEquals(2, oldFirst.claims("ABC-n1").size());
        assertEquals(oldFirst.claims("ABC-n1"), newFirst.claims("ABC-n1"));
        assertEquals("p_msm-expiry:1f:0", oldFirst.unnamed("msm-expiry:1f:0"));
    }

    @Test
    void aKeyMemcachedCannotTakeIsStoredUnderItsHash() {
        StorageKeys keys = new StorageKeys("p_", SessionProtection.NONE, List.of());
        String id = "A".repeat(250);
        assertEquals("msm:h7KxlKvKBmCb9keSBU7UVMKpkpiZMQ1I0A3VsjbeMH4", keys.primary(id, 0));
        assertNotEquals(keys.primary(id, 0), keys.secondary(id, 0));
        assertNotEquals(keys.secondary(id, 0), keys.lock(id, 0));
        StorageKeys spaced = new StorageKeys("my app_", SessionProtection.NONE, List.of());
        assertTrue(spaced.primary("ABC-n1", 0).startsWith("msm:"));
        assertTrue(spaced.claims("ABC-n1").get(0).startsWith("msm:"));
        assertTrue(spaced.unnamed("msm-expiry:1f:0").startsWith("msm:"));
        String longPrefix = "x".repeat(230) + "_";
        for (SessionProtection p : SessionProtection.values()) {
            StorageKeys k = new StorageKeys(longPrefix, p, p == SessionProtection.NONE ? List.of() : List.of(KEY));
            for (String key : List.of(k.primary("ABC-n1", 0), k.secondary("ABC-n1", 0), k.lock("ABC-n1", 0),
                    k.claims("ABC-n1").get(0), k.unnamed("msm-expiry:1f:0"), k.probe())) {
                assertTrue(MemcachedKeys.isSendable(key), key);
            }
        }
    }
}
