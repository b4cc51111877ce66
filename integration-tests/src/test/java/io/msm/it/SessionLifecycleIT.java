package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Invalidation, id changes, listeners and activation, ignored requests, attribute filter and key prefix. */
class SessionLifecycleIT extends MsmIT {

    @Test
    void invalidateDeletesTheSessionFromMemcached() {
        EmbeddedTomcat tc1 = tomcat("tc1");
        Browser b = new Browser();
        b.get(tc1.url("/counter"));
        String id = b.sessionId();
        awaitBackups(tc1);
        assertNotNull(server(nodeOf(id)).get(id));
        b.get(tc1.url("/invalidate"));
        awaitBackups(tc1);
        assertNull(server(nodeOf(id)).get(id));
        assertTrue(TestApp.EVENTS.contains("destroyed tc1 " + id));
    }

    /**
     * A session invalidated and a new one started in the same request (a login with session migration): the request
     * holds two sessions one after the other; the new one is stored, the old one deleted, in both modes.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "sticky={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void aSessionRenewedWithinOneRequestIsStoredUnderItsNewIdOnly(boolean sticky) {
        String[] mode = {"sticky", String.valueOf(sticky)};
        EmbeddedTomcat tc1 = tomcat("tc1", mode);
        EmbeddedTomcat tc2 = tomcat("tc2", mode);
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        String old = b.sessionId();
        awaitBackups(tc1);
        Browser.Page renewed = b.get(tc1.url("/renew"));
        assertEquals(2, renewed.count());
        assertEquals(old, renewed.field("old"));
        String fresh = b.sessionId();
        assertEquals(renewed.field("id"), fresh);
        assertNotEquals(old, fresh);
        awaitBackups(tc1);
        if (sticky) {
            assertNull(server(nodeOf(old)).get(old), "the invalidated session is deleted");
        } else {
            assertTombstone(server(nodeOf(old)).get(old), "the invalidated session's key holds a tombstone");
        }
        assertNotNull(server(nodeOf(fresh)).get(fresh), "the new one is stored");
        assertEquals(3, b.get(tc2.url("/counter")).count(), "the other Tomcat reads the new session");
        Browser replay = new Browser();
        replay.setCookie("JSESSIONID", old);
        assertEquals(1, replay.get(tc2.url("/counter")).count(), "the old id opens nothing");
    }

    @Test
    void changeSessionIdStoresTheNewIdAndDeletesTheOld() {
        EmbeddedTomcat tc1 = tomcat("tc1");
        EmbeddedTomcat tc2 = tomcat("tc2");
        Browser b = new Browser();
        b.get(tc1.url("/counter"));
        String old = b.sessionId();
        awaitBackups(tc1);
        Browser.Page rotated = b.get(tc1.url("/rotate"));
        String fresh = b.sessionId();
        assertNotEquals(old, fresh);
        assertEquals(rotated.field("id"), fresh);
        assertTrue(TestApp.EVENTS.contains("idChanged tc1 " + old + " " + fresh));
        awaitBackups(tc1);
        assertNull(server(nodeOf(old)).get(old), "the old id no longer opens the session");
        assertNotNull(server(nodeOf(fresh)).get(fresh));
        tc1.stop();
        assertEquals(2, b.get(tc2.url("/counter")).count());
    }

    @Test
    void listenersAndActivationFireWhereTheSessionLives() {
        EmbeddedTomcat tc1 = tomcat("tc1");
        EmbeddedTomcat tc2 = tomcat("tc2");
        Browser b = new Browser();
        b.get(tc1.url("/activation"));
        String id = b.sessionId();
        assertTrue(TestApp.EVENTS.contains("created tc1 " + id));
        awaitBackups(tc1);
        tc1.stop();
        assertTrue(TestApp.EVENTS.contains("passivate tc1 " + id), "passivated when tc1 stops");
        assertFalse(TestApp.EVENTS.contains("destroyed tc1 " + id), "not destroyed: it lives on");
        b.get(tc2.url("/activation"));
        String taken = b.sessionId();
        assertTrue(TestApp.EVENTS.stream().anyMatch(e -> e.startsWith("activate tc2 ")), TestApp.EVENTS.toString());
        assertFalse(TestApp.EVENTS.contains("created tc2 " + taken), "taken over, not created");
    }

    @Test
    void readingOnlyImmutableValuesSerializesNothingButReadingAMutableOneDoes() {
        EmbeddedTomcat tc1 = tomcat("tc1");
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        b.get(tc1.url("/cart?add=apple"));
        awaitBackups(tc1);
        io.msm.stats.MsmStatistics stats = tc1.manager().engine().statistics();
        long serializations = stats.count(io.msm.stats.MsmStatistics.Timer.SERIALIZATION);
        for (int i = 0; i < 5; i++) {
            assertEquals("1", b.get(tc1.url("/read")).field("count")); // reads an Integer
        }
        awaitBackups(tc1);
        assertEquals(serializations, stats.count(io.msm.stats.MsmStatistics.Timer.SERIALIZATION),
                "an Integer read from the session cannot have changed it");
        b.get(tc1.url("/cart")); // reads a list, which the request could have changed in place
        awaitBackups(tc1);
        assertEquals(serializations + 1, stats.count(io.msm.stats.MsmStatistics.Timer.SERIALIZATION));
    }

    @Test
    void ignoredRequestsNeitherLoadNorStoreSessions() {
        EmbeddedTomcat tc1 = tomcat("tc1", "requestUriIgnorePattern", ".*\\.(png|css)$");
        EmbeddedTomcat tc2 = tomcat("tc2", "requestUriIgnorePattern", ".*\\.(png|css)$");
        Browser b = new Browser();
        MemcachedCalls before = MemcachedCalls.of(MEMCACHED.servers());
        b.get(tc1.url("/img/logo.png")); // the webapp creates a session on an ignored request
        awaitBackups(tc1);
        assertEquals(Map.of(), MemcachedCalls.of(MEMCACHED.servers()).since(before), "nothing stored");

        assertEquals(1, b.get(tc1.url("/counter")).count(), "the same session, now used by a real request");
        awaitBackups(tc1);
        assertNotNull(server(nodeOf(b.sessionId())).get(b.sessionId()));

        before = MemcachedCalls.of(MEMCACHED.servers());
        b.get(tc2.url("/style.png")); // tc2 does not hold the session: still no look-up
        b.get(tc1.url("/again.png"));
        awaitBackups(tc1);
        awaitBackups(tc2);
        assertEquals(Map.of(), MemcachedCalls.of(MEMCACHED.servers()).since(before));
    }

    @Test
    void attributeFilterAndKeyPrefixDecideWhatIsStoredWhere() {
        String[] config = {"sessionAttributeFilter", "count", "storageKeyPrefix", "static:shop,context"};
        EmbeddedTomcat tc1 = tomcat("tc1", config);
        EmbeddedTomcat tc2 = tomcat("tc2", config);
        Browser b = new Browser();
        b.get(tc1.url("/counter"));
        b.get(tc1.url("/cart?add=apple"));
        String id = b.sessionId();
        awaitBackups(tc1);
        assertNull(server(nodeOf(id)).get(id));
        // as memcached-session-manager named them (the root context's name is empty)
        assertNotNull(server(nodeOf(id)).get("shop_" + id), "keys carry the prefix");
        tc1.stop();
        assertEquals(2, b.get(tc2.url("/counter")).count(), "count is stored");
        assertEquals("cart=[]", b.get(tc2.url("/cart")).body, "cart is filtered out");
    }

    @Test
    void listChangedInPlaceIsCarriedToTheOtherTomcat() {
        EmbeddedTomcat tc1 = tomcat("tc1");
        EmbeddedTomcat tc2 = tomcat("tc2");
        Browser b = new Browser();
        b.get(tc1.url("/cart?add=a"));
        b.get(tc1.url("/cart?add=b"));
        awaitBackups(tc1);
        tc1.stop();
        assertEquals("cart=[a, b]", b.get(tc2.url("/cart")).body);
    }
}
