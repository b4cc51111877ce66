package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What the engine relies on from a {@link SessionStore}, asserted once for every implementation: the core's
 * in-memory double and the real stores on a real memcached (text and binary protocol). A subclass gives a store whose
 * node {@link #node()} is up and empty of the keys used here (each test uses its own keys).
 */
public abstract class SessionStoreContract {
    private static final long TIMEOUT = 1000;

    /** The store under test, its node {@link #node()} up. */
    protected abstract SessionStore store();

    /** A node of {@link #store()}. */
    protected String node() {
        return "n1";
    }

    /** Whether the store reports the time to live and refreshes it in a read ({@link SessionStore#getWithTtl}). */
    protected boolean readsTtl() {
        return true;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aSetValueIsReadBackAndAMissingKeyIsNull() {
        SessionStore s = store();
        assertNull(s.get(node(), "contract-missing", TIMEOUT));
        assertNull(s.getWithTtl(node(), "contract-missing", 100, TIMEOUT).value());
        assertFalse(s.getWithTtl(node(), "contract-missing", 100, TIMEOUT).refreshed());
        s.set(node(), "contract-set", 100, bytes("one"), TIMEOUT);
        assertArrayEquals(bytes("one"), s.get(node(), "contract-set", TIMEOUT));
        s.set(node(), "contract-set", 100, bytes("two"), TIMEOUT);
        assertArrayEquals(bytes("two"), s.get(node(), "contract-set", TIMEOUT));
    }

    @Test
    void getWithTtlTellsTheTimeLeftBeforeItsRefresh() {
        SessionStore s = store();
        s.set(node(), "contract-ttl", 100, bytes("v"), TIMEOUT);
        StoredValue v = s.getWithTtl(node(), "contract-ttl", 500, TIMEOUT);
        assertArrayEquals(bytes("v"), v.value());
        StoredValue after = s.getWithTtl(node(), "contract-ttl", SessionStore.KEEP_EXPIRATION, TIMEOUT);
        assertFalse(after.refreshed());
        if (readsTtl()) {
            assertTrue(v.refreshed());
            assertTrue(v.ttlSeconds() >= 98 && v.ttlSeconds() <= 100, "the time it had left: " + v.ttlSeconds());
            assertTrue(after.ttlSeconds() >= 498 && after.ttlSeconds() <= 500, "refreshed to " + after.ttlSeconds());
            s.set(node(), "contract-forever", 0, bytes("v"), TIMEOUT);
            assertEquals(StoredValue.NO_EXPIRY,
                    s.getWithTtl(node(), "contract-forever", SessionStore.KEEP_EXPIRATION, TIMEOUT).ttlSeconds());
        } else {
            assertFalse(v.refreshed());
            assertEquals(StoredValue.UNKNOWN_TTL, v.ttlSeconds());
        }
    }

    @Test
    void addStoresOnlyWhatIsNotThere() {
        SessionStore s = store();
        assertTrue(s.add(node(), "contract-add", 100, bytes("first"), TIMEOUT) >= 0);
        assertEquals(-1, s.add(node(), "contract-add", 100, bytes("second"), TIMEOUT));
        assertEquals(SessionStore.EXISTS, s.storeIf(node(), "contract-add", 100, bytes("third"), SessionStore.ADD,
                TIMEOUT));
        assertArrayEquals(bytes("first"), s.get(node(), "contract-add", TIMEOUT));
    }

    @Test
    void storeIfStoresOnlyOnTheVersionRead() {
        SessionStore s = store();
        assertEquals(SessionStore.NOT_FOUND, s.storeIf(node(), "contract-cas", 100, bytes("x"), 12345, TIMEOUT));
        s.set(node(), "contract-cas", 100, bytes("v1"), TIMEOUT);
        StoredValue read = s.gets(node(), "contract-cas", TIMEOUT);
        assertArrayEquals(bytes("v1"), read.value());
        assertTrue(read.cas() != 0, "a version");
        assertTrue(s.storeIf(node(), "contract-cas", 100, bytes("v2"), read.cas(), TIMEOUT) >= 0);
        assertEquals(SessionStore.EXISTS, s.storeIf(node(), "contract-cas", 100, bytes("v3"), read.cas(), TIMEOUT),
                "the version read is gone");
        assertArrayEquals(bytes("v2"), s.get(node(), "contract-cas", TIMEOUT));
        assertTrue(s.storeIf(node(), "contract-cas", 100, bytes("v4"), SessionStore.ANY, TIMEOUT) >= 0);
        assertArrayEquals(bytes("v4"), s.get(node(), "contract-cas", TIMEOUT));
        assertNull(s.gets(node(), "contract-cas-missing", TIMEOUT).value());
    }

    @Test
    void touchAndDeleteSayWhetherTheKeyWasThere() {
        SessionStore s = store();
        assertFalse(s.touch(node(), "contract-touch", 100, TIMEOUT));
        assertFalse(s.delete(node(), "contract-touch", TIMEOUT));
        s.set(node(), "contract-touch", 100, bytes("v"), TIMEOUT);
        assertTrue(s.touch(node(), "contract-touch", 200, TIMEOUT));
        assertTrue(s.delete(node(), "contract-touch", TIMEOUT));
        assertNull(s.get(node(), "contract-touch", TIMEOUT));
        assertFalse(s.delete(node(), "contract-touch", TIMEOUT));
    }

    @Test
    void appendAddsToAnExistingValueOnly() {
        SessionStore s = store();
        assertFalse(s.append(node(), "contract-append", bytes("a"), TIMEOUT));
        assertNull(s.get(node(), "contract-append", TIMEOUT));
        s.set(node(), "contract-append", 100, bytes("a"), TIMEOUT);
        assertTrue(s.append(node(), "contract-append", bytes("b"), TIMEOUT));
        assertArrayEquals(bytes("ab"), s.get(node(), "contract-append", TIMEOUT));
    }

    @Test
    void compareAndDeleteDeletesOnlyTheExpectedValue() {
        SessionStore s = store();
        s.set(node(), "contract-lock", 100, bytes("mine"), TIMEOUT);
        assertFalse(s.compareAndDelete(node(), "contract-lock", bytes("theirs"), 0, TIMEOUT));
        assertArrayEquals(bytes("mine"), s.get(node(), "contract-lock", TIMEOUT));
        assertTrue(s.compareAndDelete(node(), "contract-lock", bytes("mine"), 0, TIMEOUT));
        assertNull(s.get(node(), "contract-lock", TIMEOUT));
        assertFalse(s.compareAndDelete(node(), "contract-lock", bytes("mine"), 0, TIMEOUT));
    }

    @Test
    void setAsyncTellsWhenStored() throws Exception {
        SessionStore s = store();
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        s.setAsync(node(), "contract-async", 100, bytes("v"), done::complete);
        assertTrue(done.get(5, TimeUnit.SECONDS));
        assertArrayEquals(bytes("v"), s.get(node(), "contract-async", TIMEOUT));
        CompletableFuture<Boolean> refused = new CompletableFuture<>();
        s.setAsync(node(), "contract async", 100, bytes("v"), refused::complete);
        assertFalse(refused.get(5, TimeUnit.SECONDS), "not a memcached key");
    }

    @Test
    void storeWithSecondaryStoresBothCopies() {
        SessionStore s = store();
        SessionStore.Paired p = s.storeWithSecondary(node(), "contract-primary", 100, bytes("v"), SessionStore.ADD,
                TIMEOUT, node(), "contract-secondary", 100, TIMEOUT);
        assertTrue(p.primary >= 0);
        assertEquals(SessionStore.Secondary.STORED, p.secondary);
        assertArrayEquals(bytes("v"), s.get(node(), "contract-primary", TIMEOUT));
        assertArrayEquals(bytes("v"), s.get(node(), "contract-secondary", TIMEOUT));
        assertEquals(SessionStore.EXISTS, s.storeWithSecondary(node(), "contract-primary", 100, bytes("w"),
                SessionStore.ADD, TIMEOUT, node(), "contract-secondary", 100, TIMEOUT).primary);
    }

    @Test
    void aKeyMemcachedWouldRefuseIsAStoreErrorAndNothingIsStored() {
        SessionStore s = store();
        for (String key : new String[] {"contract key", "contract\nkey", "k".repeat(MemcachedKeys.MAX_BYTES + 1)}) {
            assertThrows(StoreException.class, () -> s.set(node(), key, 100, bytes("v"), TIMEOUT));
            assertThrows(StoreException.class, () -> s.get(node(), key, TIMEOUT));
        }
        s.set(node(), "contract-after", 100, bytes("v"), TIMEOUT);
        assertArrayEquals(bytes("v"), s.get(node(), "contract-after", TIMEOUT), "the connection still works");
    }
}
