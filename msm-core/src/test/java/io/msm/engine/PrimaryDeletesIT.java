package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import io.msm.config.MemcachedNode;
import io.msm.test.memcached.MemcachedExtension;
import java.util.List;
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
    private static final MemcachedEngines ENGINES = new MemcachedEngines(MEMCACHED);

    /** A logged-in session on n1, stored by {@code e}, still held by {@code e}. */
    private static TestSession loggedIn(SessionEngine e) {
        TestSession s = ENGINES.loggedIn(e);
        assertTrue(MEMCACHED.server(0).keys().contains("p_" + s.id()), "stored on n1: " + MEMCACHED.server(0).keys());
        return s;
    }

    private void theLogoutStaysWhenTheNodeIsRemovedAndAddedAgain(boolean sticky) throws Exception {
        try (SessionEngine tc1 = ENGINES.start("/tc1", sticky); SessionEngine tc2 = ENGINES.start("/tc2", sticky)) {
            List<MemcachedNode> both = tc1.nodes();
            List<MemcachedNode> n2Only = MemcachedEngines.without(tc1, "n1");
            TestSession s = loggedIn(tc1);
            ENGINES.pausedAndGivenUp(tc1, "n1");
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
