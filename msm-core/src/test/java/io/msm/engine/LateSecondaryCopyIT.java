package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import io.msm.config.MsmConfig;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.net.TcpProxy;
import io.msm.testing.TestTranscoderFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A secondary copy written before a logout and applied by memcached after the logout's delete of it must not live on
 * (non-sticky, real memcached): it is the session before the logout, and any Tomcat reads it when the primary's node
 * fails. Tomcat tc1 reaches n2 through a {@link TcpProxy} that holds that one write on its way.
 */
class LateSecondaryCopyIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);
    /** Long enough that the held write is answered within it (it is held only while the logout runs). */
    private static final int OPERATION_TIMEOUT = 5000;
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF-n1";
    private static final String BAK = SessionEngine.BAK_PREFIX + "p_" + ID;
    /** Added to tc1's clock: the refresh of a secondary copy comes due without waiting for it. */
    private final AtomicLong ahead = new AtomicLong();

    private SessionEngine start(String name, String nodes) {
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, nodes)
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .set(MsmConfig.OPERATION_TIMEOUT, String.valueOf(OPERATION_TIMEOUT))
                .set(MsmConfig.STICKY, "false").build(LateSecondaryCopyIT.class.getClassLoader());
        return SessionEngine.start(config, new EngineContext(name, LateSecondaryCopyIT.class.getClassLoader(), null,
                "p_", () -> System.currentTimeMillis() + ahead.get()));
    }

    private static boolean n2HoldsTheCopy() {
        return MEMCACHED.server(1).keys().contains(BAK);
    }

    /** Session {@code ID}, stored by one request on {@code tc}, then its secondary copy evicted from n2. */
    private static TestSession storedWithoutItsCopy(SessionEngine tc) {
        TestSession s = new TestSession(ID, System.currentTimeMillis());
        tc.created(s);
        tc.requestStarted(s);
        s.set("user", "alice");
        tc.requestEnded(s);
        assertTrue(tc.awaitIdle(5000));
        assertTrue(n2HoldsTheCopy(), "the secondary copy is on n2: " + MEMCACHED.server(1).keys());
        MEMCACHED.server(1).set(BAK, new byte[] {0}, -1); // evicted: expired at once
        assertFalse(n2HoldsTheCopy());
        return s;
    }

    /**
     * A read-only request refreshes S's secondary copy (due after half the slack); the copy is gone from n2 (evicted),
     * so it is written again, asynchronously, and the proxy holds that write. The user logs out meanwhile: the end
     * deletes the copy on n2 (over another connection; none there yet). Then the held write lands.
     */
    @Test
    void aCopyWrittenBeforeTheLogoutAndLandingAfterItsDeleteIsDeletedAgain() throws Exception {
        try (TcpProxy toN2 = TcpProxy.to(MEMCACHED.server(1).port());
                SessionEngine tc1 = start("/tc1", "n1:127.0.0.1:" + MEMCACHED.server(0).port()
                        + ",n2:127.0.0.1:" + toN2.port());
                SessionEngine tc2 = start("/tc2", MEMCACHED.nodesAttribute("n1", "n2"))) {
            TestSession s = storedWithoutItsCopy(tc1);

            CountDownLatch held = toN2.hold("set " + BAK + " ");
            ahead.addAndGet(TimeUnit.SECONDS.toMillis(Slack.seconds(s.maxInactive))); // refresh due
            s.thisAccessed = System.currentTimeMillis() + ahead.get();
            tc1.requestStarted(s); // read only
            tc1.requestEnded(s);
            assertTrue(held.await(5, TimeUnit.SECONDS), "the refresh writes the missing copy again, held");

            s.active = false;
            tc1.expired(s); // the logout
            assertFalse(n2HoldsTheCopy(), "nothing there to delete yet");
            long written = tc1.statistics().get(Counter.SECONDARY_WRITES);
            toN2.release(); // the pre-logout copy lands
            assertTrue(tc1.awaitIdle(5000)); // its answer, and what tc1 did about it
            assertEquals(written + 1, tc1.statistics().get(Counter.SECONDARY_WRITES), "memcached stored it");
            assertFalse(n2HoldsTheCopy(), "the pre-logout copy lives on n2: " + MEMCACHED.server(1).keys());

            MEMCACHED.server(0).kill();
            await("n1 unavailable on tc2", () -> {
                tc2.load(ID);
                return !tc2.availableNodes().contains("n1");
            });
            LoadResult r = tc2.load(ID);
            assertFalse(r.isFound(), "the logged-out session came back from its secondary copy: " + r.status());
        }
    }

    /**
     * The same, but the copy is another Tomcat's: tc2 (reaching n2 through the proxy) serves a read-only request of
     * the session, refreshes its copy (evicted from n2, so written again, asynchronously) and the proxy holds that
     * write; the user logs out on tc1 meanwhile. tc2 never learns of the logout, so nothing deletes the copy when it
     * lands: the logout's mark on n2 keeps every Tomcat from reading it.
     */
    @Test
    void aCopyAnotherTomcatWroteBeforeTheLogoutAndLandingAfterItsDeleteIsNotRead() throws Exception {
        try (TcpProxy toN2 = TcpProxy.to(MEMCACHED.server(1).port());
                SessionEngine tc1 = start("/tc1", MEMCACHED.nodesAttribute("n1", "n2"));
                SessionEngine tc2 = start("/tc2", "n1:127.0.0.1:" + MEMCACHED.server(0).port()
                        + ",n2:127.0.0.1:" + toN2.port());
                SessionEngine tc3 = start("/tc3", MEMCACHED.nodesAttribute("n1", "n2"))) {
            TestSession s = storedWithoutItsCopy(tc1);

            LoadResult r = tc2.load(ID);
            assertTrue(r.isFound(), r.status() + " " + r.reason());
            TestSession there = TestSession.loadedFrom(r, System.currentTimeMillis());
            tc2.loaded(there, r);
            CountDownLatch held = toN2.hold("set " + BAK + " ");
            tc2.requestStarted(there); // read only: the copy's refresh is due on tc2 (never refreshed there)
            tc2.requestEnded(there);
            assertTrue(held.await(5, TimeUnit.SECONDS), "tc2 writes the missing copy again, held");

            s.active = false;
            tc1.expired(s); // the logout, on tc1
            assertFalse(n2HoldsTheCopy(), "nothing there to delete yet");
            toN2.release(); // tc2's pre-logout copy lands
            assertTrue(tc2.awaitIdle(5000));
            assertTrue(n2HoldsTheCopy(), "tc2's copy is on n2 (tc2 never saw the logout)");

            MEMCACHED.server(0).kill();
            for (SessionEngine e : new SessionEngine[] {tc2, tc3}) {
                await("n1 unavailable", () -> {
                    e.load(ID);
                    return !e.availableNodes().contains("n1");
                });
                LoadResult after = e.load(ID);
                assertFalse(after.isFound(), "the logged-out session came back from its secondary copy: "
                        + after.status());
            }
        }
    }
}
