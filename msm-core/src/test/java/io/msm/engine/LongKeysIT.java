package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.node.SessionIdFormat;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import io.msm.testing.TestTranscoderFactory;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The longest session id msm takes from a client, behind a long key prefix, on real memcached: its keys (and the
 * {@code bak:} and {@code lock:} ones) would be over memcached's 250 bytes, which memcached answers with
 * {@code CLIENT_ERROR} and the client with a closed connection, on every such request.
 */
class LongKeysIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    @Test
    void theLongestIdBehindALongPrefixCostsNoConnectionAndIsStoredLockedAndLoaded() {
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, MEMCACHED.nodesAttribute("n1", "n2"))
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .set(MsmConfig.STICKY, "false").set(MsmConfig.LOCKING_MODE, "all")
                .build(getClass().getClassLoader());
        String prefix = "context".repeat(15) + "_";
        String id = "A".repeat(SessionIdFormat.MAX_LENGTH - 3) + "-n1";
        MemcachedServer n1 = MEMCACHED.server(0);
        try (SessionEngine e = SessionEngine.start(config, new EngineContext("/app", getClass().getClassLoader(), null,
                prefix, System::currentTimeMillis))) {
            assertTrue(e.isValidId(id));
            assertEquals(LoadResult.Status.NOT_FOUND, e.load(id).status(), "the first call opens a connection");
            long connections = n1.stat("total_connections");
            for (int i = 0; i < 5; i++) {
                LoadResult r = e.load(id);
                assertEquals(LoadResult.Status.NOT_FOUND, r.status(), r.reason());
            }
            // (each stat() call opens a connection of its own)
            assertEquals(connections + 1, n1.stat("total_connections"), "no connection closed and opened again");

            TestSession s = new TestSession(id, System.currentTimeMillis());
            e.created(s);
            SessionLock lock = e.lock(id);
            assertNotNull(lock);
            e.requestStarted(s);
            s.set("count", 1);
            e.requestEnded(s);
            e.unlock(lock);
            assertTrue(e.awaitIdle(5000));
            assertEquals(1, e.statistics().get(Counter.BACKUPS));
            assertEquals(1, e.statistics().get(Counter.SECONDARY_WRITES));
            assertEquals(0, e.statistics().get(Counter.BACKUP_FAILURES));
            LoadResult loaded = e.load(id);
            assertTrue(loaded.isFound(), loaded.status() + " " + loaded.reason());
            assertEquals(1, loaded.attributes().get("count"));
        }
        for (String key : n1.keys()) {
            assertTrue(key.getBytes(StandardCharsets.UTF_8).length <= 250, key);
        }
    }
}
