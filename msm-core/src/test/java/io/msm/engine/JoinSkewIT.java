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
 * Two non-sticky Tomcats (two engines on the same memcached, one user's requests alternating between them) that see a
 * joining node differently: each Tomcat counts the join delay from when it learned of the node, so for up to a
 * discovery interval one already puts secondary copies on it (it takes sessions) while the other still puts them on
 * the next node (it is joining there). Then the session's node goes (removed, as in DiscoveryIT, or dead) and its
 * session is read from a secondary copy: the newest one must be read, whichever Tomcat wrote it.
 *
 * <p>The ring here is n1, n2, n3: n2 joins between n1 (the session's node) and n3 (where its copy went before).
 */
class JoinSkewIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(3);
    private static final AtomicInteger IDS = new AtomicInteger();
    /** Join delay of the Tomcat that is still joining n2 in a test: longer than any test. */
    private static final long STILL_JOINING_MILLIS = 600_000;

    private static MsmConfig config(String nodes) {
        return MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, nodes)
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .set(MsmConfig.STICKY, "false").build(JoinSkewIT.class.getClassLoader());
    }

    /** Both Tomcats share the key prefix: they serve the same sessions. */
    private static SessionEngine start(MsmConfig config, String name) {
        return SessionEngine.start(config, new EngineContext(name, JoinSkewIT.class.getClassLoader(), null, "p_",
                System::currentTimeMillis));
    }

    private static String node(String id, int server) {
        return id + ":127.0.0.1:" + MEMCACHED.server(server).port();
    }

    /** The nodes at the start: n1 and n3. */
    private static MsmConfig n1n3() {
        return config(node("n1", 0) + "," + node("n3", 2));
    }

    private static List<MemcachedNode> all() {
        return config(MEMCACHED.nodesAttribute("n1", "n2", "n3")).nodes();
    }

    /** n1 removed: n2 and n3 (n2 keeps what this Tomcat thinks of its join). */
    private static List<MemcachedNode> withoutN1() {
        return all().subList(1, 3);
    }

    /** A session on n1 with count 1, stored by {@code e} (its secondary copy on n3). */
    private static String stored(SessionEngine e) {
        String id = String.format("%032X", IDS.incrementAndGet()) + "-n1";
        TestSession s = new TestSession(id, System.currentTimeMillis());
        e.created(s);
        e.requestStarted(s);
        s.set("count", 1);
        e.requestEnded(s);
        e.released(s);
        assertTrue(e.awaitIdle(5000));
        return id;
    }

    /**
     * One request of the user on {@code e}: the session loaded from memcached, its count incremented and stored before
     * the response (as non-sticky requests do).
     *
     * @return the count the response shows
     */
    private static int increment(SessionEngine e, String id) {
        // copies are told apart by their last access in milliseconds: one user's requests come at least that apart
        long before = System.currentTimeMillis();
        while (System.currentTimeMillis() == before) {
            Thread.onSpinWait();
        }
        LoadResult r = e.load(id);
        assertTrue(r.isFound(), r.status() + " " + r.reason());
        TestSession s = TestSession.loadedFrom(r, System.currentTimeMillis());
        e.loaded(s, r);
        e.requestStarted(s);
        int count = (Integer) s.get("count") + 1;
        s.set("count", count);
        e.requestEnded(s);
        e.released(s);
        assertTrue(e.awaitIdle(5000));
        return count;
    }

    private static int countLoaded(SessionEngine e, String id) {
        LoadResult r = e.load(id);
        assertTrue(r.isFound(), r.status() + " " + r.reason());
        assertTrue(r.fromSecondary(), "n1 is gone here: read from a secondary copy");
        return (Integer) r.attributes().get("count");
    }

    /** Whether memcached server {@code server} holds a secondary copy. */
    private static boolean holdsACopy(int server) {
        return MEMCACHED.server(server).keys().stream().anyMatch(k -> k.startsWith("bak:"));
    }

    private static boolean n2Takes(SessionEngine e) {
        for (int i = 0; i < 6; i++) { // the selector goes round the nodes
            String id = e.newSessionId(String.format("%032X", i));
            if (id.endsWith("-n2")) {
                return true;
            }
        }
        return false;
    }

    /** n2 added on both: {@code takes} takes it at once, {@code joining} is still joining it (for longer than a test). */
    private static void skew(SessionEngine takes, SessionEngine joining) throws InterruptedException {
        takes.changeNodes(all(), 0);
        joining.changeNodes(all(), STILL_JOINING_MILLIS);
        await("n2 connected on both", 5000, () -> takes.availableNodes().contains("n2")
                && joining.availableNodes().contains("n2"));
        assertTrue(n2Takes(takes));
        assertFalse(n2Takes(joining));
    }

    /**
     * tc1 took n2 (its join delay passed), tc2 not yet: tc1's write puts the copy on n2, tc2's next write on n3. tc1,
     * n1 gone there, reads n2 first: it must not get its own older copy (the lost increment of DiscoveryIT: "count 73
     * after 73" on tc1 while it had dropped the removed node and taken the added one, before tc2 had).
     */
    @Test
    void theTomcatThatTookTheJoiningNodeFindsTheNewerCopyTheOtherPutOnTheNextNode() throws Exception {
        try (SessionEngine tc1 = start(n1n3(), "/tc1"); SessionEngine tc2 = start(n1n3(), "/tc2")) {
            String id = stored(tc1);
            skew(tc1, tc2);

            assertEquals(2, increment(tc1, id)); // its copy on n2
            assertEquals(3, increment(tc2, id)); // its copy on n3
            assertTrue(holdsACopy(1) && holdsACopy(2), "a copy on n2 (tc1's, older) and on n3 (tc2's)");
            tc1.changeNodes(withoutN1(), 0); // n1 removed on tc1 first (its memcached still runs)
            assertEquals(3, countLoaded(tc1, id), "the newest copy, tc2's, not tc1's own older one on n2");
            assertTrue(tc1.mayExist(id), "choosing among session cookies finds it where a load does");
        }
    }

    /**
     * The mirror image: tc1 took n2 and put the newest copy there, tc2 (n2 still joining there, so read last) lost n1
     * and reads n3 first, where its own older copy is.
     */
    @Test
    void theTomcatStillJoiningTheNodeFindsTheNewerCopyTheOtherPutOnIt() throws Exception {
        try (SessionEngine tc1 = start(n1n3(), "/tc1"); SessionEngine tc2 = start(n1n3(), "/tc2")) {
            String id = stored(tc1);
            skew(tc1, tc2);

            assertEquals(2, increment(tc2, id)); // its copy on n3
            assertEquals(3, increment(tc1, id)); // its copy on n2
            assertTrue(holdsACopy(1) && holdsACopy(2), "a copy on n2 (tc1's) and on n3 (tc2's, older)");
            tc2.changeNodes(withoutN1(), 0); // n1 removed on tc2 (n2 still joining there)
            assertEquals(3, countLoaded(tc2, id), "the newest copy, tc1's on n2, not tc2's own older one on n3");
        }
    }

    /**
     * A Tomcat started while the others still join n2 takes it at once (review of the first fix, which deleted
     * copies only while this Tomcat itself was joining a node): tc2, still joining n2, must still read tc1's newer
     * copy there after losing n1.
     */
    @Test
    void aTomcatStartedDuringTheJoinIsReadInItsNewestStateToo() throws Exception {
        try (SessionEngine tc2 = start(n1n3(), "/tc2")) {
            tc2.changeNodes(all(), STILL_JOINING_MILLIS);
            try (SessionEngine tc1 = start(config(MEMCACHED.nodesAttribute("n1", "n2", "n3")), "/tc1")) {
                String id = stored(tc2); // its copy on n3
                assertTrue(n2Takes(tc1));
                await("n2 connected on tc2", 5000, () -> tc2.availableNodes().contains("n2"));
                assertEquals(2, increment(tc1, id)); // its copy on n2
                assertEquals(3, increment(tc1, id));
                assertTrue(holdsACopy(1) && holdsACopy(2), "a copy on n2 (tc1's) and on n3 (tc2's, older)");
                tc2.changeNodes(withoutN1(), 0);
                assertEquals(3, countLoaded(tc2, id), "tc1's copy on n2, not tc2's own older one on n3");
            }
        }
    }
}
