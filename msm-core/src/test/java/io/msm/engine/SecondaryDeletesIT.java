package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import io.msm.config.MemcachedNode;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.net.TcpProxy;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A logout must not be undone by a secondary copy (non-sticky, real memcached). Session S is on n1, its secondary copy
 * on n2. n2 does not answer while S ends (paused: its data survives), answers again later, and later still n1 dies: a
 * request with S's old cookie then reads the secondary copies. If the pre-logout copy were still on n2, the logged-out
 * session would be back, logged in, for as long as the copy's TTL. So the delete of a secondary copy that could not be
 * made when the session ended is made when its node is available again.
 */
class SecondaryDeletesIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);
    private static final MemcachedEngines ENGINES = new MemcachedEngines(MEMCACHED);

    /** A logged-in session on n1, stored by {@code e} (its secondary copy on n2), still held by {@code e}. */
    private static TestSession loggedIn(SessionEngine e) {
        TestSession s = ENGINES.loggedIn(e);
        assertTrue(holdsSecondaryCopy(1, s.id()), "the secondary copy is on n2: " + MEMCACHED.server(1).keys());
        return s;
    }

    /** The user logs out on {@code e}: the session is invalidated there. */
    private static void logout(SessionEngine e, TestSession s) {
        s.active = false;
        e.expired(s);
        assertTrue(e.awaitIdle(5000));
    }

    private static boolean holdsSecondaryCopy(int server, String id) {
        return MEMCACHED.server(server).keys().contains(SessionEngine.BAK_PREFIX + "p_" + id);
    }

    /** n2 answers again and {@code e} uses it again (and has done what waited for it). */
    private static void n2Back(SessionEngine e) throws InterruptedException {
        MEMCACHED.server(1).resume();
        await("n2 available again", 5000, () -> e.availableNodes().contains("n2"));
        assertTrue(e.awaitIdle(5000));
    }

    /** n1 dies; on each of {@code tomcats}, a request with the old cookie must not find the session. */
    private static void n1DiesAndTheOldCookieFindsNothing(String id, SessionEngine... tomcats)
            throws InterruptedException {
        MEMCACHED.server(0).kill();
        for (SessionEngine e : tomcats) {
            await("n1 unavailable", 5000, () -> !e.availableNodes().contains("n1"));
            LoadResult r = e.load(id);
            assertFalse(r.isFound(), "the logged-out session came back from its secondary copy: " + r.status()
                    + " user=" + (r.isFound() ? r.attributes().get("user") : null));
        }
        assertFalse(holdsSecondaryCopy(1, id), "the pre-logout copy is still on n2: " + MEMCACHED.server(1).keys());
    }

    /**
     * The Tomcat that ends S had given up on n2 (a call timed out): the copy there could not be deleted at the logout,
     * and is when n2 is back.
     */
    @Test
    void aLogoutWhileTheSecondaryNodeIsUnavailableIsNotUndoneWhenThePrimaryDiesLater() throws Exception {
        try (SessionEngine tc1 = ENGINES.start("/tc1", false); SessionEngine tc2 = ENGINES.start("/tc2", false)) {
            TestSession s = loggedIn(tc1);
            ENGINES.pausedAndGivenUp(tc1, "n2");
            logout(tc1, s);
            n2Back(tc1);
            n1DiesAndTheOldCookieFindsNothing(s.id(), tc1, tc2);
        }
    }

    /**
     * The Tomcat that ends S reaches n2 through a network that drops everything for a while (n2 still available for
     * it when S ends): the delete is lost (a store error: it times out) and n2 given up on; the delete is made when n2
     * is back. (A paused memcached cannot lose it: the delete that timed out waits in its socket and is made when it
     * resumes, so that variant passed before the fix.)
     */
    @Test
    void aSecondaryDeleteLostInAPartitionAtTheLogoutIsMadeWhenItsNodeIsBack() throws Exception {
        try (TcpProxy toN2 = TcpProxy.to(MEMCACHED.server(1).port());
                SessionEngine tc1 = ENGINES.start("/tc1", "n1:127.0.0.1:" + MEMCACHED.server(0).port()
                        + ",n2:127.0.0.1:" + toN2.port(), false);
                SessionEngine tc2 = ENGINES.start("/tc2", false)) {
            TestSession s = loggedIn(tc1);
            toN2.partition();
            assertTrue(tc1.availableNodes().contains("n2"), "tc1 has not noticed yet");
            logout(tc1, s);
            assertFalse(tc1.availableNodes().contains("n2"), "the delete timed out: n2 given up on");
            toN2.heal();
            await("n2 available again", 5000, () -> tc1.availableNodes().contains("n2"));
            assertTrue(tc1.awaitIdle(5000));
            n1DiesAndTheOldCookieFindsNothing(s.id(), tc1, tc2);
        }
    }

    /**
     * Discovery removes n2 while the delete of the copy there waits (a pod that failed its readiness: its memcached
     * and data live on), then adds it again under its id: the Tomcat that ended S does not read the copy, and deletes
     * it once n2 is back (its housekeeping: a node added again is not reported as recovered).
     */
    @Test
    void aSecondaryDeleteWaitingForANodeRemovedAndAddedAgainIsMadeWhenItIsBack() throws Exception {
        try (SessionEngine tc1 = ENGINES.start("/tc1", false)) {
            List<MemcachedNode> both = tc1.nodes();
            List<MemcachedNode> n1Only = MemcachedEngines.without(tc1, "n2");
            TestSession s = loggedIn(tc1);
            ENGINES.pausedAndGivenUp(tc1, "n2");
            logout(tc1, s);
            tc1.changeNodes(n1Only, 0);
            MEMCACHED.server(1).resume();
            tc1.changeNodes(both, 0);
            await("n2 available again", 5000, () -> tc1.availableNodes().contains("n2"));
            assertTrue(tc1.awaitIdle(5000));
            await("the copy on n2 deleted", 5000, () -> !holdsSecondaryCopy(1, s.id()));
            n1DiesAndTheOldCookieFindsNothing(s.id(), tc1);
        }
    }
}
