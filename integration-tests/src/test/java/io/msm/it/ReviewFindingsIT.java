package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Regression tests for defects found in review: logout, parallel requests after failover, cross-context. */
class ReviewFindingsIT extends MsmIT {

    @Test
    void loggedOutSessionIsNotReloadedFromMemcached() {
        EmbeddedTomcat tc1 = tomcat("tc1"); // asynchronous backup: the delete runs after the response
        Browser b = new Browser();
        b.get(tc1.url("/set?name=user&value=alice"));
        String id = b.sessionId();
        awaitBackups(tc1);
        assertEquals("after=none", b.get(tc1.url("/logout")).body, "invalidated means gone, in the same request");
        Browser stale = new Browser();
        stale.setCookie("JSESSIONID", id);
        assertEquals("no-session", stale.get(tc1.url("/dump")).body, "the old cookie opens nothing");
        awaitBackups(tc1);
        assertNull(server(nodeOf(id)).get(id));
    }

    @Test
    void parallelRequestsWithTheOldCookieAfterAFailoverShareOneSession() throws Exception {
        EmbeddedTomcat tc1 = tomcat("tc1");
        EmbeddedTomcat tc2 = tomcat("tc2");
        Browser b = new Browser();
        b.get(tc1.url("/set?name=start&value=1"));
        String old = b.sessionId();
        awaitBackups(tc1);
        tc1.stop();
        // two requests of one user reach tc2 at about the same time, both with the tc1 cookie
        Browser first = new Browser();
        first.setCookie("JSESSIONID", old);
        Browser second = new Browser();
        second.setCookie("JSESSIONID", old);
        TestApp.resetHold();
        CompletableFuture<Browser.Page> slow = CompletableFuture.supplyAsync(
                () -> first.get(tc2.url("/hold?name=a&value=1")));
        assertTrue(TestApp.held.await(10, TimeUnit.SECONDS), "the first request has the session");
        Browser.Page fast = second.get(tc2.url("/set?name=b&value=2")); // while the first one still runs
        TestApp.release.countDown();
        Browser.Page slowPage = slow.get(10, TimeUnit.SECONDS);
        assertTrue(slowPage.body.startsWith("held id="), slowPage.body);
        assertEquals(fast.field("id"), slowPage.field("id"), "one session");
        assertEquals("tc2", routeOf(fast.field("id")));
        assertEquals(randomOf(old), randomOf(fast.field("id")));
        Browser.Page dump = second.get(tc2.url("/dump"));
        assertEquals("attrs=a:1,b:2,start:1", dump.body.split(" ")[0], dump.body);
        assertEquals(1, tc2.manager().getActiveSessions());
    }

    @Test
    void crossContextDispatchKeepsTheTargetWebappsSession() {
        EmbeddedTomcat tc1 = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes())
                .with("storageKeyPrefix", "context").withOtherContext().start());
        Browser b = new Browser();
        for (int i = 1; i <= 3; i++) {
            Browser.Page p = b.get(tc1.url("/dispatch"));
            assertEquals(i, p.count(), "the included webapp's counter: " + p.body);
        }
        String id = b.sessionId();
        // stored by the /other webapp's own manager and backup threads
        await("the target webapp's session to be stored", 5000, () -> server(nodeOf(id)).get("/other_" + id) != null);
    }
}
