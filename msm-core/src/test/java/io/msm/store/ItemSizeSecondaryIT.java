package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import io.msm.testing.TestTranscoderFactory;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The paired write ({@link SessionStore#setWithSecondary}) sends the same bytes to two nodes, which may hold items of
 * different sizes ({@code -I}): a value the secondary cannot hold is not sent to it (memcached would read it whole
 * only to refuse it), while the primary, which holds it, stores it.
 */
class ItemSizeSecondaryIT {
    /** n1: holds items up to 2 MB. */
    @RegisterExtension
    static final MemcachedExtension LARGE_ITEMS = MemcachedExtension.servers(1).withArgs("-I", "2m");
    /** n2: memcached's default, items up to 1 MB. */
    @RegisterExtension
    static final MemcachedExtension DEFAULT_ITEMS = MemcachedExtension.servers(1);

    private static SessionStore store() throws Exception {
        MsmConfig config = MsmConfig.builder()
                .set(MsmConfig.MEMCACHED_NODES,
                        LARGE_ITEMS.nodesAttribute("n1") + "," + DEFAULT_ITEMS.nodesAttribute("n2"))
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(ItemSizeSecondaryIT.class.getClassLoader());
        SessionStore s = MemcachedSessionStore.open(config, MemcachedSessionStore.ConnectionListener.NONE);
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!(s.isConnected("n1") && s.isConnected("n2")) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return s;
    }

    private static byte[] filled(int size, int fill) {
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    @Test
    void aValueTooLargeForTheSecondaryIsStoredOnThePrimaryAndNotSentToTheSecondary() throws Exception {
        MemcachedServer secondary = DEFAULT_ITEMS.server(0);
        try (SessionStore s = store()) {
            byte[] value = filled(1536 * 1024, 1); // fits 2 MB items, not 1 MB ones
            for (int i = 0; i < 2; i++) { // the secondary's limit asked, then known
                long readBefore = secondary.stat("bytes_read");
                assertEquals(SessionStore.Secondary.FAILED,
                        s.setWithSecondary("n1", "k", 100, value, 5000, "n2", "bak:k", 100, 5000));
                long read = secondary.stat("bytes_read") - readBefore;
                assertTrue(read < value.length, "the secondary was sent " + read + " bytes of a copy it cannot hold");
                assertArrayEquals(value, s.get("n1", "k", 5000), "the primary holds it");
            }
            assertEquals(0, secondary.stat("store_too_large"));
            byte[] small = filled(1000, 2);
            assertEquals(SessionStore.Secondary.STORED,
                    s.setWithSecondary("n1", "k", 100, small, 5000, "n2", "bak:k", 100, 5000));
            assertArrayEquals(small, s.get("n2", "bak:k", 5000));
        }
    }

    @Test
    void aFrozenSecondaryAskedForItsItemSizeTimesOutWithinItsOwnTimeout() throws Exception {
        MemcachedServer secondary = DEFAULT_ITEMS.server(0);
        try (SessionStore s = store()) {
            byte[] value = filled(768 * 1024, 3); // large: the secondary's limit is asked before it is sent
            secondary.pause();
            try {
                long start = System.nanoTime();
                assertEquals(SessionStore.Secondary.TIMED_OUT,
                        s.setWithSecondary("n1", "k", 100, value, 5000, "n2", "bak:k", 100, 300));
                long waited = (System.nanoTime() - start) / 1_000_000;
                assertTrue(waited < 300 + 1000, "waited " + waited + " ms for a secondary timeout of 300 ms");
            } finally {
                secondary.resume();
            }
            assertArrayEquals(value, s.get("n1", "k", 5000), "the primary holds it");
        }
    }
}
