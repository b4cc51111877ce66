package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A garbage or truncated blob under a session's key (issue item 6). */
class UnreadableSessionIT extends MsmIT {

    @Test
    void unreadableBlobGivesAFreshSessionLoggedOnceAndCounted() {
        EmbeddedTomcat tc1 = tomcat("tc1");
        EmbeddedTomcat tc2 = tomcat("tc2");
        Browser garbage = new Browser();
        Browser truncated = new Browser();
        for (Browser b : List.of(garbage, truncated)) {
            b.get(tc1.url("/counter"));
            assertEquals(2, b.get(tc1.url("/counter")).count());
        }
        awaitBackups(tc1);
        tc1.stop();
        String g = garbage.sessionId();
        String t = truncated.sessionId();
        server(nodeOf(g)).set(g, "this is not a session, just some bytes someone wrote".getBytes(
                StandardCharsets.US_ASCII), 0);
        byte[] full = server(nodeOf(t)).get(t);
        assertNotNull(full);
        server(nodeOf(t)).set(t, Arrays.copyOf(full, full.length / 2), 0);

        try (LogCapture log = LogCapture.of("io.msm")) {
            for (Browser b : List.of(garbage, truncated)) {
                Browser.Page p = b.get(tc2.url("/counter"));
                assertEquals(200, p.status);
                assertEquals(1, p.count(), "a fresh session");
                assertFalse(p.body.contains("Exception"), p.body);
                assertNotNull(p.setCookie("JSESSIONID"), "with a new cookie");
            }
            // a session id is a bearer token: a log line names it by a hash, with its node and route
            assertEquals(List.of(), log.containing(randomOf(g)), "no line holds the id");
            assertEquals(List.of(), log.containing(randomOf(t)), "no line holds the id");
            List<String> aboutG = log.containing(io.msm.internal.LogIds.of(g));
            List<String> aboutT = log.containing(io.msm.internal.LogIds.of(t));
            assertEquals(1, aboutG.size(), "logged once: " + aboutG);
            assertEquals(1, aboutT.size(), "logged once: " + aboutT);
            assertTrue(aboutG.get(0).contains("bad magic"), aboutG.get(0));
            assertTrue(aboutT.get(0).contains("truncated"), aboutT.get(0));
        }
        assertEquals(2, tc2.manager().getMsmUnreadableSessions());
        assertEquals(2, garbage.get(tc2.url("/counter")).count(), "the fresh session works");
    }
}
