package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code HttpSessionListener.sessionDestroyed} (and {@code valueUnbound}) fire exactly once in the cluster for each
 * session that ends, with its last attributes, and never for a session still in use on another Tomcat: timeouts in
 * both modes (non-sticky, where no Tomcat holds an idle session; sticky, for sessions a stop or a reload left in
 * memcached, and after a takeover), invalidation and logout. Sessions time out after 3 s (memcached keeps them 3 s
 * more); the waits are bounded.
 */
class SessionDestroyedIT extends MsmIT {
    private static final String TIMEOUT = "3";

    private EmbeddedTomcat nonSticky(String route) {
        return tomcat(route, "sticky", "false", "maxInactiveInterval", TIMEOUT);
    }

    private EmbeddedTomcat sticky(String route) {
        return track(EmbeddedTomcat.on(route).with("memcachedNodes", nodes())
                .with("maxInactiveInterval", TIMEOUT).expiryCheckEvery(1).start());
    }

    /** The events of one session (whatever its id became: takeovers change the route, node moves the node). */
    private static List<String> events(String kind, String sessionId) {
        String random = randomOf(sessionId);
        return TestApp.EVENTS.stream().filter(e -> e.startsWith(kind + " ") && e.contains(random))
                .collect(Collectors.toList());
    }

    private static void awaitDestroyed(String id, long maxMillis) {
        await("sessionDestroyed of the session", maxMillis, () -> !events("destroyed", id).isEmpty());
    }

    /** Waits until none of {@code tomcats} watches the session any more: each has decided about it. */
    private static void awaitSettled(String id, EmbeddedTomcat... tomcats) {
        await("every Tomcat done with the session", 15_000, () -> {
            for (EmbeddedTomcat t : tomcats) {
                if (t.manager().engine() != null && t.manager().engine().expiry().watches(id)) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Exactly one sessionDestroyed, with the attributes of the last request, one valueUnbound, nothing left. */
    private static void assertEndedOnce(String id, Integer count, String probe) {
        assertEquals(1, events("destroyed", id).size(), TestApp.EVENTS.toString());
        assertEquals(1, events("destroyedWith", id).size());
        assertTrue(events("destroyedWith", id).get(0).endsWith(" count=" + count), events("destroyedWith", id).get(0));
        if (probe != null) {
            List<String> unbound = events("unbound", id);
            assertEquals(1, unbound.size(), unbound.toString());
            assertTrue(unbound.get(0).endsWith(" " + probe), unbound.get(0));
        }
    }

    /** The listener fired after the timeout (3 s) counted from the last request's start, never before. */
    private static void assertNeverEarly(String what, long lastRequestNanos) {
        long millis = (System.nanoTime() - lastRequestNanos) / 1_000_000;
        System.out.printf("SessionDestroyedIT: %s: sessionDestroyed %d ms after the last request started (timeout "
                + "%s s)%n", what, millis, TIMEOUT);
        assertTrue(millis >= 3000, what + ": " + millis + " ms");
    }

    // ====================================================================== non-sticky

    @Test
    void nonStickyTimeoutFiresOnceOnOneTomcatWithTheLastAttributes() {
        EmbeddedTomcat tc1 = nonSticky("tc1");
        EmbeddedTomcat tc2 = nonSticky("tc2");
        Browser b = new Browser();
        b.get(tc1.url("/bind?value=p1"));
        String id = b.sessionId();
        assertEquals(1, b.get(tc2.url("/counter")).count());
        long lastRequest = System.nanoTime();
        assertEquals(2, b.get(tc1.url("/counter")).count()); // both Tomcats served it

        awaitDestroyed(id, 12_000);
        assertNeverEarly("non-sticky", lastRequest);
        awaitSettled(id, tc1, tc2);
        assertEndedOnce(id, 2, "p1");
        // non-sticky, an ended session leaves its tombstone (as a logout does), not a delete
        assertTombstone(server(nodeOf(id)).get(id), "ended in memcached");
        assertNull(server(nodeOf(id).equals("n1") ? "n2" : "n1").get("bak:" + id), "its secondary copy deleted");
        assertEquals("no-session", b.get(tc2.url("/read")).body);
    }

    @Test
    void nonStickySessionInUseOnAnotherTomcatIsNotDestroyed() throws Exception {
        EmbeddedTomcat tc1 = nonSticky("tc1");
        EmbeddedTomcat tc2 = nonSticky("tc2");
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        long start = System.nanoTime();
        while (System.nanoTime() - start < 10_000_000_000L) { // beyond the copy's 6 s lifetime: tc1 looks at it meanwhile
            assertEquals("1", b.get(tc2.url("/read")).field("count"));
            Thread.sleep(1000); // the user's pace in real time: the session's lifetime is what is measured
        }
        assertEquals(List.of(), events("destroyed", id), "in use on tc2 all along");

        awaitDestroyed(id, 12_000); // now idle
        awaitSettled(id, tc1, tc2);
        assertEndedOnce(id, 1, null);
    }

    @Test
    void nonStickySessionOfAStoppedTomcatIsDestroyedOnceAfterItsRestart() {
        EmbeddedTomcat tc1 = nonSticky("tc1");
        EmbeddedTomcat tc2 = nonSticky("tc2");
        Browser b = new Browser();
        b.get(tc1.url("/bind?value=p2"));
        String served = b.sessionId();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        Browser other = new Browser();
        assertEquals(1, other.get(tc1.url("/counter")).count());
        String movedOn = other.sessionId();
        tc1.stop(); // leaves what it watched to its next start
        assertEquals(2, other.get(tc2.url("/counter")).count()); // this one goes on, on tc2
        EmbeddedTomcat tc1Again = nonSticky("tc1");

        awaitDestroyed(served, 12_000);
        awaitDestroyed(movedOn, 12_000);
        awaitSettled(served, tc1Again, tc2);
        awaitSettled(movedOn, tc1Again, tc2);
        assertEndedOnce(served, 1, "p2");
        assertEndedOnce(movedOn, 2, null);
    }

    @Test
    void nonStickyInvalidateAndLogoutFireOnceWhereCalled() {
        EmbeddedTomcat tc1 = nonSticky("tc1");
        EmbeddedTomcat tc2 = nonSticky("tc2");
        Browser b = new Browser();
        b.get(tc1.url("/bind?value=p3"));
        String id = b.sessionId();
        assertEquals(1, b.get(tc2.url("/counter")).count());
        b.get(tc2.url("/invalidate"));
        assertEquals(List.of("destroyed tc2 " + id), events("destroyed", id));

        Browser c = new Browser();
        assertEquals(1, c.get(tc2.url("/counter")).count());
        String other = c.sessionId();
        assertEquals(2, c.get(tc1.url("/counter")).count());
        assertEquals("after=none", c.get(tc1.url("/logout")).body);
        assertEquals(List.of("destroyed tc1 " + other), events("destroyed", other));

        awaitSettled(id, tc1, tc2); // both looked at them when they would have timed out
        awaitSettled(other, tc1, tc2);
        assertEndedOnce(id, 1, "p3");
        assertEndedOnce(other, 2, null);
    }

    @Test
    void expireSessionByIdEndsASessionThisTomcatDoesNotHold() {
        EmbeddedTomcat tc1 = nonSticky("tc1");
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        assertTrue(List.of(tc1.manager().findSessions()).stream().anyMatch(s -> s.getId().equals(id)),
                "listed although no request holds it");
        tc1.manager().expireSession(id); // what JMX's expireSession and the manager webapp do
        assertEquals(List.of("destroyed tc1 " + id), events("destroyed", id));
        assertTombstone(server(nodeOf(id)).get(id), "ended in memcached (non-sticky: a tombstone)");
        assertEquals("no-session", b.get(tc1.url("/read")).body);
    }

    // ====================================================================== sticky

    @Test
    void stickyTimeoutOfASessionInMemoryFiresOnce() {
        EmbeddedTomcat tc1 = sticky("tc1");
        Browser b = new Browser();
        b.get(tc1.url("/bind?value=p4"));
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();

        awaitDestroyed(id, 12_000);
        assertEndedOnce(id, 1, "p4");
        assertEquals(List.of("destroyed tc1 " + id), events("destroyed", id));
    }

    @Test
    void stickySessionLeftByAStopIsDestroyedOnceByTheRestartedTomcat() {
        EmbeddedTomcat tc1 = sticky("tc1");
        Browser b = new Browser();
        b.get(tc1.url("/bind?value=p5"));
        long lastRequest = System.nanoTime();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        awaitBackups(tc1);
        tc1.stop();
        EmbeddedTomcat tc1Again = sticky("tc1");

        awaitDestroyed(id, 12_000);
        assertNeverEarly("sticky, left by a stop", lastRequest);
        awaitSettled(id, tc1Again);
        assertEndedOnce(id, 1, "p5");
        assertEquals(List.of("destroyed tc1 " + id), events("destroyed", id));
        awaitBackups(tc1Again); // sticky with sessionBackupAsync (the default): its delete runs on a backup thread
        assertNull(server(nodeOf(id)).get(id));
    }

    @Test
    void stickySessionLeftByAReloadIsDestroyedOnce() throws Exception {
        EmbeddedTomcat tc1 = sticky("tc1");
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        awaitBackups(tc1);
        tc1.context().reload();

        awaitDestroyed(id, 12_000);
        awaitSettled(id, tc1);
        assertEndedOnce(id, 1, null);
    }

    @Test
    void stickyTakeoverFiresOnlyWhereTheSessionLives() {
        EmbeddedTomcat tc1 = sticky("tc1");
        EmbeddedTomcat tc2 = sticky("tc2");
        Browser b = new Browser();
        b.get(tc1.url("/bind?value=p6"));
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        awaitBackups(tc1);
        assertEquals(2, b.get(tc2.url("/counter")).count()); // the balancer sent the user to tc2: taken over
        String taken = b.sessionId();
        assertTrue(taken.endsWith(".tc2"), taken);
        awaitBackups(tc2);

        // tc1 still holds its former copy; it times out there as well as on tc2
        await("tc1 dropped its former copy", 12_000, () -> !tc1.manager().listSessionIds().contains(id));
        awaitDestroyed(taken, 12_000);
        assertEndedOnce(taken, 2, "p6");
        assertEquals(List.of("destroyed tc2 " + taken), events("destroyed", id));
    }

    /**
     * Sticky: a slow request on tc1 (a logout) is still running when the balancer sends the user's next request to tc2,
     * which takes the session over; tc1 drops its copy (the notice), then the slow request invalidates it. The logout
     * ends the session everywhere: tc2, where it lives, ends it (told by a notice, within its next read of them) and
     * fires sessionDestroyed, once in the cluster; tc1 fires nothing for its dropped copy.
     */
    @Test
    void stickyLogoutOnTheTomcatASessionWasTakenFromEndsItWhereItLives() throws Exception {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).start());
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        awaitBackups(tc1);
        TestApp.resetHold();
        Browser tab = new Browser(); // the same user's slow logout, still on tc1
        tab.setCookie("JSESSIONID", id);
        java.util.concurrent.CompletableFuture<Browser.Page> slow = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> tab.get(tc1.url("/hold?invalidate=true")));
        assertTrue(TestApp.held.await(10, java.util.concurrent.TimeUnit.SECONDS), "the slow request has the session");
        assertEquals(2, b.get(tc2.url("/counter")).count()); // the balancer gave up on tc1 for a moment: taken over
        String taken = b.sessionId();
        assertTrue(taken.endsWith(".tc2"), taken);
        awaitBackups(tc2);
        await("tc1 dropped its former copy", 12_000, () -> !tc1.manager().listSessionIds().contains(id));
        TestApp.release.countDown();
        Browser.Page logout = slow.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(200, logout.status, logout.body);
        assertTrue(logout.body.contains("invalidated"), logout.body);

        await("tc2 ended the session", 5_000, () -> !tc2.manager().listSessionIds().contains(taken));
        assertEquals(List.of("destroyed tc2 " + taken), events("destroyed", id), "once, where it lived");
        assertEquals(1, b.get(tc2.url("/counter")).count(), "logged out on tc2");
        Browser old = new Browser();
        old.setCookie("JSESSIONID", id);
        assertEquals(1, old.get(tc1.url("/counter")).count(), "the former id is dead on tc1");
        Browser again = new Browser();
        again.setCookie("JSESSIONID", taken);
        assertEquals(1, again.get(tc1.url("/counter")).count(), "the taken id is dead on tc1");
        assertEquals(List.of("destroyed tc2 " + taken), events("destroyed", id), "still once");
    }

    /**
     * Sticky: the user's old cookie reaches tc1 right after tc2 took the session over, before tc1's next background read
     * of its notices, and logs out there. tc1 reads its notices before it ends a session, so the logout ends the
     * session where it lives (tc2), once.
     */
    @Test
    void stickyLogoutRightAfterATakeoverEndsTheSessionWhereItLives() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).start());
        EmbeddedTomcat tc2 = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).start());
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        awaitBackups(tc1);
        Browser old = new Browser();
        old.setCookie("JSESSIONID", id);
        assertEquals(2, b.get(tc2.url("/counter")).count()); // taken over
        String taken = b.sessionId();
        assertTrue(taken.endsWith(".tc2"), taken);
        old.get(tc1.url("/invalidate")); // at once: tc1's background read may not have run yet

        await("tc2 ended the session", 5_000, () -> !tc2.manager().listSessionIds().contains(taken));
        assertEquals(List.of("destroyed tc2 " + taken), events("destroyed", id), "once, where it lived");
        assertEquals(1, b.get(tc2.url("/counter")).count(), "logged out on tc2");
    }

    @Test
    void stickySessionTakenOverAfterAStopIsDestroyedOnceWhereItLives() {
        EmbeddedTomcat tc1 = sticky("tc1");
        EmbeddedTomcat tc2 = sticky("tc2");
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String id = b.sessionId();
        awaitBackups(tc1);
        tc1.stop();
        assertEquals(2, b.get(tc2.url("/counter")).count());
        String taken = b.sessionId();
        EmbeddedTomcat tc1Again = sticky("tc1"); // watches the id it left, which tc2 took over

        awaitDestroyed(taken, 12_000);
        awaitSettled(id, tc1Again);
        assertEndedOnce(taken, 2, null);
        assertEquals(List.of("destroyed tc2 " + taken), events("destroyed", id));
    }

    @Test
    void stickyInvalidateAndLogoutFireOnce() {
        EmbeddedTomcat tc1 = sticky("tc1");
        Browser b = new Browser();
        b.get(tc1.url("/bind?value=p7"));
        String id = b.sessionId();
        b.get(tc1.url("/invalidate"));
        Browser c = new Browser();
        assertEquals(1, c.get(tc1.url("/counter")).count());
        String other = c.sessionId();
        assertEquals("after=none", c.get(tc1.url("/logout")).body);
        awaitBackups(tc1);
        tc1.stop(); // nothing of them is left for a restart to end again
        EmbeddedTomcat tc1Again = sticky("tc1");
        assertEquals(0, tc1Again.manager().engine().expiry().size());
        assertEndedOnce(id, null, "p7");
        assertEndedOnce(other, 1, null);
    }
}
