package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tomcat's parallel deployment (a new version of a webapp deployed next to the running one, {@code /app##2} beside
 * {@code /app##1}): a user whose session began on the old version stays on it, on this Tomcat and on another one after
 * a failover, and new users get the new version. Tomcat picks the version by asking each version's manager, newest
 * first, whether it has the request's session ({@code findSession}, before any valve runs): msm's manager of the new
 * version must not answer yes for a session of the old one (the default {@code storageKeyPrefix},
 * {@code webappVersion}, keeps their keys apart).
 */
class ParallelDeploymentIT extends MsmIT {

    private EmbeddedTomcat versionOne(String route, boolean sticky, String... attributes) {
        EmbeddedTomcat.Builder b = EmbeddedTomcat.on(route).with("memcachedNodes", nodes())
                .with("sticky", String.valueOf(sticky)).contextPath("/app").webappVersion("1");
        for (int i = 0; i < attributes.length; i += 2) {
            b.with(attributes[i], attributes[i + 1]);
        }
        return track(b.expiryCheckEvery(1).start());
    }

    /** The sessionDestroyed events of session {@code id}, each {@code destroyed <route>[##<version>] <id>}. */
    private static List<String> destroyed(String id) {
        return TestApp.EVENTS.stream().filter(e -> e.startsWith("destroyed ") && e.endsWith(" " + id))
                .collect(Collectors.toList());
    }

    /**
     * Sessions of both versions left when their Tomcat stops are handed to its next start, each to its own version:
     * each times out there with one sessionDestroyed, in the version it belongs to (the list a stop leaves is under
     * each version's key prefix).
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void sessionsOfBothVersionsLeftAtAStopAreEndedByTheirOwnVersionAfterTheRestart(boolean sticky) {
        EmbeddedTomcat tc1 = versionOne("tc1", sticky, "maxInactiveInterval", "3");
        Browser early = new Browser();
        early.get(tc1.url("/counter"));
        tc1.deployVersion("2");
        Browser late = new Browser();
        late.get(tc1.url("/counter"));
        String one = early.sessionId();
        String two = late.sessionId();
        tc1.stop();
        EmbeddedTomcat again = versionOne("tc1", sticky, "maxInactiveInterval", "3");
        again.deployVersion("2");
        await("both sessions ended", 15_000, () -> !destroyed(one).isEmpty() && !destroyed(two).isEmpty());
        assertEquals(List.of("destroyed tc1 " + one), destroyed(one));
        assertEquals(List.of("destroyed tc1##2 " + two), destroyed(two));
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void aSessionOfTheOldVersionStaysOnItAndNewSessionsGetTheNewOne(boolean sticky) {
        EmbeddedTomcat tc1 = versionOne("tc1", sticky);
        Browser early = new Browser();
        assertEquals("tc1", early.get(tc1.url("/counter")).field("route"));
        tc1.deployVersion("2");

        Browser.Page p = early.get(tc1.url("/counter"));
        assertEquals(2, p.count(), p.body);
        assertEquals("tc1", p.field("route"), "the old version serves the session it began");
        Browser late = new Browser();
        p = late.get(tc1.url("/counter"));
        assertEquals(1, p.count(), p.body);
        assertEquals("tc1##2", p.field("route"), "a new user gets the new version");
        assertEquals(3, early.get(tc1.url("/counter")).count());
        assertEquals(2, late.get(tc1.url("/counter")).count());
        awaitBackups(tc1);

        // another Tomcat with both versions takes over (the first one stopped, as in a rolling restart)
        EmbeddedTomcat tc2 = versionOne("tc2", sticky);
        tc2.deployVersion("2");
        tc1.stop();
        p = early.get(tc2.url("/counter"));
        assertEquals(4, p.count(), p.body);
        assertEquals("tc2", p.field("route"), "after a failover too, on the old version");
        p = late.get(tc2.url("/counter"));
        assertEquals(3, p.count(), p.body);
        assertEquals("tc2##2", p.field("route"));
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void aRequestOfTheOldVersionCostsNoMoreCallsStickyAndTwoMoreNonSticky(boolean sticky) {
        EmbeddedTomcat tc1 = versionOne("tc1", sticky);
        Browser b = new Browser();
        b.get(tc1.url("/counter"));
        b.get(tc1.url("/read"));
        awaitBackups(tc1);
        MemcachedCalls before = MemcachedCalls.of(MEMCACHED.servers());
        b.get(tc1.url("/read"));
        awaitBackups(tc1);
        Map<String, Long> alone = MemcachedCalls.of(MEMCACHED.servers()).since(before);

        tc1.deployVersion("2");
        b.get(tc1.url("/read"));
        awaitBackups(tc1);
        before = MemcachedCalls.of(MEMCACHED.servers());
        Browser.Page p = b.get(tc1.url("/read"));
        awaitBackups(tc1);
        assertEquals("tc1", p.field("route"), p.body);
        Map<String, Long> expected = new java.util.TreeMap<>(alone);
        if (!sticky) {
            // while Tomcat picks the version: the new one looks for the session under its own key (a miss), the old
            // one loads it; the request then loads it as it always does (a non-sticky session is current only in a
            // request)
            expected.merge("cmd_get", 1L, Long::sum);
            expected.merge("cmd_touch", 1L, Long::sum);
        } // sticky: the new version sees that the old one holds the session in memory and asks memcached nothing
        assertEquals(expected, new java.util.TreeMap<>(MemcachedCalls.of(MEMCACHED.servers()).since(before)),
                "a read-only request of the old version, with the new one deployed beside it");
    }

    /**
     * Sticky: a session of the old version another Tomcat took over carries a new id there; a request that still sends
     * the former id (a parallel request, a link with the id in its URL) is found by the new version under the id it
     * moved to, and costs no more memcached calls than without the new version.
     */
    @org.junit.jupiter.api.Test
    void aRequestWithTheFormerIdOfASessionTheOldVersionTookOverCostsNoMoreCalls() {
        EmbeddedTomcat tc2 = versionOne("tc2", true);
        Browser b = new Browser();
        b.get(tc2.url("/counter"));
        String former = b.sessionId();
        awaitBackups(tc2);
        EmbeddedTomcat tc1 = versionOne("tc1", true);
        Browser.Page p = b.get(tc1.url("/counter"));
        assertEquals(2, p.count(), p.body);
        assertEquals("tc1", routeOf(b.sessionId()), "taken over: this Tomcat's id");
        awaitBackups(tc1);
        Map<String, Long> alone = staleRead(tc1, former);

        tc1.deployVersion("2");
        assertEquals(alone, staleRead(tc1, former), "with the new version beside the old one");
    }

    /** A read-only request of {@code tc} that sends a session's former id: the calls it made. */
    private static Map<String, Long> staleRead(EmbeddedTomcat tc, String formerId) {
        Browser stale = new Browser();
        stale.setCookie("JSESSIONID", formerId);
        MemcachedCalls before = MemcachedCalls.of(MEMCACHED.servers());
        Browser.Page p = stale.get(tc.url("/read"));
        assertEquals("tc1", p.field("route"), p.body);
        assertEquals("2", p.field("count"), p.body);
        awaitBackups(tc);
        return MemcachedCalls.of(MEMCACHED.servers()).since(before);
    }

    @org.junit.jupiter.api.Test
    void aKeyPrefixWithoutTheVersionIsWarnedAboutAtTheStartOfAVersion() {
        String warning = "does not name the version";
        try (LogCapture log = LogCapture.of("io.msm")) {
            EmbeddedTomcat tc1 = versionOne("tc1", true);
            tc1.deployVersion("2");
            assertEquals(List.of(), log.containing(warning), "the default prefix names the version");
            EmbeddedTomcat tc2 = versionOne("tc2", true, "storageKeyPrefix", "static:shop");
            tc2.deployVersion("2");
            List<String> lines = log.containing(warning);
            assertEquals(2, lines.size(), lines.toString());
            assertTrue(lines.get(0).contains("[127.0.0.1/app##1] deployed as version 1, and "
                    + "storageKeyPrefix=\"static:shop\" does not name the version"), lines.get(0));
            assertTrue(lines.get(1).startsWith("[127.0.0.1/app##2] deployed as version 2"), lines.get(1));
        }
    }
}
