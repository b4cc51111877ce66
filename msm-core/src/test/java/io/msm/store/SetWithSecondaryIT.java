package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link MemcachedSessionStore#setWithSecondary}: both copies with one wait, on two real memcached processes. */
class SetWithSecondaryIT {
    private static final int KEEP = SessionStore.KEEP_EXPIRATION;
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private static SessionStore store() throws Exception {
        return TwoNodeStores.open(MEMCACHED);
    }

    private static SessionStore.Secondary setBoth(SessionStore s, byte[] value, long secondaryTimeout) {
        return s.setWithSecondary("n1", "k", 100, value, 1000, "n2", "bak:k", 100, secondaryTimeout);
    }

    @Test
    void bothCopiesAreStoredWithOneSetOnEachNode() throws Exception {
        try (SessionStore s = store()) {
            long sets1 = MEMCACHED.server(0).stat("cmd_set");
            long sets2 = MEMCACHED.server(1).stat("cmd_set");
            for (int i = 1; i <= 3; i++) { // the later ones on pooled connections
                assertEquals(SessionStore.Secondary.STORED, setBoth(s, new byte[] {(byte) i}, 1000));
                assertArrayEquals(new byte[] {(byte) i}, s.getWithTtl("n1", "k", KEEP, 1000).value());
                assertArrayEquals(new byte[] {(byte) i}, s.getWithTtl("n2", "bak:k", KEEP, 1000).value());
            }
            assertEquals(3, MEMCACHED.server(0).stat("cmd_set") - sets1);
            assertEquals(3, MEMCACHED.server(1).stat("cmd_set") - sets2);
        }
    }

    @Test
    void aSilentSecondaryTimesOutAfterItsOwnTimeoutAndItsLateAnswerIsNeverReadAsAnother() throws Exception {
        try (SessionStore s = store()) {
            assertEquals(SessionStore.Secondary.STORED, setBoth(s, new byte[] {1}, 1000)); // pools a connection
            MEMCACHED.server(1).pause();
            long start = System.nanoTime();
            assertEquals(SessionStore.Secondary.TIMED_OUT, setBoth(s, new byte[] {2}, 200));
            long waited = (System.nanoTime() - start) / 1_000_000;
            assertTrue(waited >= 190 && waited < 1000, "waited " + waited + " ms");
            assertArrayEquals(new byte[] {2}, s.getWithTtl("n1", "k", KEEP, 1000).value(), "the primary is stored");
            MEMCACHED.server(1).resume();
            assertEquals(SessionStore.Secondary.STORED, setBoth(s, new byte[] {3}, 1000));
            assertArrayEquals(new byte[] {3}, s.getWithTtl("n2", "bak:k", KEEP, 1000).value());
        }
    }

    @Test
    void aRestartedSecondaryIsWrittenOnANewConnectionAndAKilledOneFailsWithoutFailingThePrimary() throws Exception {
        try (SessionStore s = store()) {
            assertEquals(SessionStore.Secondary.STORED, setBoth(s, new byte[] {1}, 1000)); // pools a connection
            MEMCACHED.server(1).kill();
            MEMCACHED.server(1).start(); // empty; the pooled connection is dead
            assertEquals(SessionStore.Secondary.STORED, setBoth(s, new byte[] {2}, 1000));
            assertArrayEquals(new byte[] {2}, s.getWithTtl("n2", "bak:k", KEEP, 1000).value());
            MEMCACHED.server(1).kill();
            long start = System.nanoTime();
            assertEquals(SessionStore.Secondary.FAILED, setBoth(s, new byte[] {3}, 1000));
            assertTrue((System.nanoTime() - start) / 1_000_000 < 1000, "refused, not waited for");
            assertArrayEquals(new byte[] {3}, s.getWithTtl("n1", "k", KEEP, 1000).value());
            MEMCACHED.server(1).start();
        }
    }

    @Test
    void aFailedPrimaryIsThrownAsBySet() throws Exception {
        try (SessionStore s = store()) {
            MEMCACHED.server(0).kill();
            assertThrows(StoreException.class, () -> {
                for (int i = 0; i < 3; i++) { // the first may still find a pooled connection, retried on a new one
                    setBoth(s, new byte[] {1}, 1000);
                }
            });
            MEMCACHED.server(0).start();
        }
    }
}
