package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Requests carrying several session cookies. Tomcat looks up each one before the request reaches msm's valve, so
 * their cost is msm's to bound: a client sending 150 well-formed random ids (what fits in Tomcat's default 8 KB of
 * headers) costs at most two memcached calls, counted by memcached itself; a browser's real session among two
 * cookies is still found, whichever comes first.
 */
class SessionCookiesIT extends MsmIT {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int COOKIES = 150;

    private EmbeddedTomcat start(String sticky, String lockingMode) {
        return sticky.equals("true") ? tomcat("tc1") : tomcat("tc1", "sticky", "false", "lockingMode", lockingMode);
    }

    /** A well-formed msm id of this cluster that no session has. */
    private static String randomId(String node, boolean sticky) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            sb.append(String.format("%02X", RANDOM.nextInt(256)));
        }
        return sb + "-" + node + (sticky ? ".tc1" : "");
    }

    private static String cookieHeader(List<String> ids) {
        StringBuilder sb = new StringBuilder();
        for (String id : ids) {
            sb.append(sb.length() == 0 ? "" : "; ").append("JSESSIONID=").append(id);
        }
        return sb.toString();
    }

    private static long total(Map<String, Long> calls) {
        return calls.values().stream().mapToLong(Long::longValue).sum();
    }

    @ParameterizedTest(name = "sticky={0}, lockingMode={1}")
    @CsvSource({"true,none", "false,none", "false,all"})
    void manyRandomSessionCookiesCostAtMostTwoMemcachedCalls(String sticky, String lockingMode) {
        EmbeddedTomcat tc1 = start(sticky, lockingMode);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < COOKIES; i++) {
            ids.add(randomId(i % 2 == 0 ? "n1" : "n2", sticky.equals("true")));
        }
        MemcachedCalls before = MemcachedCalls.of(MEMCACHED.servers());
        Browser.Page p = new Browser().get(tc1.url("/read"), "Cookie", cookieHeader(ids));
        awaitBackups(tc1);
        Map<String, Long> calls = MemcachedCalls.of(MEMCACHED.servers()).since(before);
        assertEquals(200, p.status, p.body);
        assertEquals("no-session", p.body);
        System.out.printf("SessionCookiesIT sticky=%s lockingMode=%s: %d session cookies cost %s%n", sticky,
                lockingMode, COOKIES, calls);
        assertTrue(total(calls) <= 2, COOKIES + " session cookies cost " + calls);
    }

    @ParameterizedTest(name = "sticky={0}, lockingMode={1}")
    @CsvSource({"true,none", "false,none", "false,all"})
    void ofTwoSessionCookiesTheOneWhoseSessionExistsIsUsed(String sticky, String lockingMode) {
        EmbeddedTomcat tc1 = start(sticky, lockingMode);
        EmbeddedTomcat tc2 = start(sticky, lockingMode);
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String real = b.sessionId();
        awaitBackups(tc1);
        String stale = randomId(nodeOf(real), sticky.equals("true"));
        int count = 1;
        for (EmbeddedTomcat t : List.of(tc1, tc2)) { // tc2 does not hold it in memory in either mode
            for (boolean realFirst : new boolean[] {true, false}) {
                List<String> order = realFirst ? List.of(real, stale) : List.of(stale, real);
                Browser.Page p = new Browser().get(t.url("/counter"), "Cookie", cookieHeader(order));
                count++;
                assertEquals(count, p.count(), t.route() + ", real session's cookie " + (realFirst ? "first" : "second")
                        + ": " + p.body);
                real = p.field("id"); // a sticky session taken over by tc2 gets tc2's route
                awaitBackups(t);
            }
        }
    }

    @ParameterizedTest(name = "lockingMode={0}")
    @CsvSource({"none", "all"})
    void manyRandomSessionCookiesOfADeadNodeCostAtMostTwoCallsAndNoWait(String lockingMode) {
        EmbeddedTomcat tc1 = start("false", lockingMode);
        server("n1").kill();
        await("n1 unavailable", 2000, () -> tc1.manager().getMsmAvailableNodes().equals("n2"));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < COOKIES; i++) {
            ids.add(randomId("n1", false));
        }
        MemcachedCalls before = MemcachedCalls.of(MEMCACHED.servers());
        Browser.Page p = new Browser().get(tc1.url("/read"), "Cookie", cookieHeader(ids));
        awaitBackups(tc1);
        Map<String, Long> calls = MemcachedCalls.of(MEMCACHED.servers()).since(before);
        assertEquals("no-session", p.body);
        System.out.printf("SessionCookiesIT lockingMode=%s, n1 down: %d session cookies of n1 cost %s in %d ms%n",
                lockingMode, COOKIES, calls, p.millis);
        assertTrue(total(calls) <= 2, COOKIES + " session cookies cost " + calls);
        assertTrue(p.millis < 1000, "answered in " + p.millis + " ms");
    }
}
