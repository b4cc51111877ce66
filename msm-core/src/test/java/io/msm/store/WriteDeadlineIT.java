package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedExtension;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A memcached that stops reading (a frozen process, a partition that drops packets without a reset) cannot hold a
 * writing thread beyond the call's timeout: a value larger than the socket buffers would otherwise block the write
 * until the peer reads again, however long that takes. memcached runs with {@code -I 16m} so that such values are
 * legal; the process is frozen with SIGSTOP.
 */
class WriteDeadlineIT {
    private static final int KEEP = SessionStore.KEEP_EXPIRATION;
    /** Far more than loopback's socket buffers hold while the reader is frozen. */
    private static final int LARGE = 12 * 1024 * 1024;
    private static final long TIMEOUT = 300;

    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2).withArgs("-I", "16m");

    private static SessionStore store() throws Exception {
        return TwoNodeStores.open(MEMCACHED);
    }

    private static byte[] large(int fill) {
        byte[] b = new byte[LARGE];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    @Test
    void aSetToAFrozenNodeTimesOutInsteadOfBlockingTheWriter() throws Exception {
        try (SessionStore s = store()) {
            s.set("n1", "k", 100, large(1), 5000); // the node takes large values while it reads
            MEMCACHED.server(0).pause();
            try {
                long start = System.nanoTime();
                StoreException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                        () -> assertThrows(StoreException.class, () -> s.set("n1", "k", 100, large(2), TIMEOUT)));
                long waited = (System.nanoTime() - start) / 1_000_000;
                assertTrue(e.isTimeout(), e::toString);
                assertTrue(waited >= TIMEOUT - 10 && waited < TIMEOUT + 700, "waited " + waited + " ms");
            } finally {
                MEMCACHED.server(0).resume();
            }
            s.set("n1", "k", 100, large(3), 5000); // a new connection: the half-written one was closed
            assertArrayEquals(large(3), s.getWithTtl("n1", "k", KEEP, 5000).value());
        }
    }

    @Test
    void aFrozenSecondaryTimesOutAloneWhileThePrimaryIsStored() throws Exception {
        try (SessionStore s = store()) {
            MEMCACHED.server(1).pause();
            try {
                long start = System.nanoTime();
                SessionStore.Secondary outcome = assertTimeoutPreemptively(Duration.ofSeconds(10),
                        () -> s.setWithSecondary("n1", "k", 100, large(4), 5000, "n2", "bak:k", 100, TIMEOUT));
                long waited = (System.nanoTime() - start) / 1_000_000;
                assertEquals(SessionStore.Secondary.TIMED_OUT, outcome);
                assertTrue(waited >= TIMEOUT - 10 && waited < TIMEOUT + 2000, "waited " + waited + " ms");
            } finally {
                MEMCACHED.server(1).resume();
            }
            assertArrayEquals(large(4), s.getWithTtl("n1", "k", KEEP, 5000).value(), "the primary is stored");
            assertEquals(SessionStore.Secondary.STORED,
                    s.setWithSecondary("n1", "k", 100, large(5), 5000, "n2", "bak:k", 100, 5000));
            assertArrayEquals(large(5), s.getWithTtl("n2", "bak:k", KEEP, 5000).value());
        }
    }
}
