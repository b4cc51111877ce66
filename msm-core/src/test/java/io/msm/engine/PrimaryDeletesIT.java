package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.testing.TestTranscoderFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A logout must not be undone by the session's primary copy on a node that discovery removed and added again (real
 * memcached). Session S is on n1. n1 does not answer while S ends on Tomcat tc1 (paused: its data survives), so the
 * delete (non-sticky: the tombstone) of S's key waits for n1. Discovery removes n1 meanwhile (a pod that failed its
 * readiness) and adds it again under its id, with its data. Another Tomcat, tc2, never saw the logout: if the delete
 * were forgotten with the removal, tc2 would load the logged-out session from n1, logged in, for as long as its TTL.
 */
class PrimaryDeletesIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);
    private static final AtomicInteger IDS = new AtomicInteger();
    /** The default: a paused node is given up on after it, once. */
    private static final int OPERATION_TIMEOUT = 1000;

    private static SessionEngine start(String name, boolean sticky) {
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, MEMCACHED.nodesAttribute("n1", "n2"))
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .set(MsmConfig.OPERATION_TIMEOUT, String.valueOf(OPERATION_TIMEOUT))
                .set(MsmConfig.STICKY, String.valueOf(sticky)).build(PrimaryDeletesIT.class.getClassLoader());
        return SessionEngine.start(config, new EngineContext(name, PrimaryDeletesIT.class.getClassLoader(), null,
                "p_", System::currentTimeMillis));
    }

    /** A logged-in session on n1, stored by {@code e}, still held by {@code e}. */
    private static TestSession loggedIn(SessionEngine e) {
        String id = String.format("%032X", IDS.incrementAndGet()) + "-n1";
        TestSession s = new TestSession(id, System.currentTimeMillis());
        e.created(s);
        e.requestStarted(s);
        s.set("user", "alice");
        e.requestEnded(s);
        assertTrue(e.awaitIdle(5000));
        assertTrue(MEMCACHED.server(0).keys().contains("p_" + id), "stored on n1: " + MEMCACHED.server(0).keys());
        return s;
    }

    /** n1 is paused and {@code e} has given up on it (a call timed out). */
    private static void n1Unavailable(SessionEngine e) throws InterruptedException {
        MEMCACHED.server(0).pause();
        LoadResult r = e.load(String.format("%032X", IDS.incrementAndGet()) + "-n1"); // times out: n1 suspect
        assertEquals(LoadResult.Status.UNAVAILABLE, r.status(), r.reason());
        await("n1 unavailable", 5000, () -> !e.availableNodes().contains("n1"));
    }

    private void theLogoutStaysWhenTheNodeIsRemovedAndAddedAgain(boolean sticky) throws Exception {
        try (SessionEngine tc1 = start("/tc1", sticky); SessionEngine tc2 = start("/tc2", sticky)) {
            List<MemcachedNode> both = tc1.nodes();
            List<MemcachedNode> n2Only = List.of(
                    both.stream().filter(n -> n.id().equals("n2")).findFirst().orElseThrow());
            TestSession s = loggedIn(tc1);
            n1Unavailable(tc1);
            s.active = false;
            tc1.expired(s, List.of()); // the logout
            assertTrue(tc1.awaitIdle(5000));
            assertTrue(tc1.pendingDeletes() > 0, "the delete of S's key waits for n1");
            tc1.changeNodes(n2Only, 0);
            MEMCACHED.server(0).resume();
            tc1.changeNodes(both, 0);
            await("n1 available again", 5000, () -> tc1.availableNodes().contains("n1"));
            await("tc1 made the deletes that waited for n1", 5000, () -> tc1.pendingDeletes() == 0);
            assertTrue(tc1.awaitIdle(5000));
            LoadResult r = tc2.load(s.id());
            assertFalse(r.isFound(), "the logged-out session came back from n1 on another Tomcat: " + r.status()
                    + " user=" + (r.isFound() ? r.attributes().get("user") : null));
        }
    }

    @Test
    void nonSticky() throws Exception {
        theLogoutStaysWhenTheNodeIsRemovedAndAddedAgain(false);
    }

    @Test
    void sticky() throws Exception {
        theLogoutStaysWhenTheNodeIsRemovedAndAddedAgain(true);
    }
}
