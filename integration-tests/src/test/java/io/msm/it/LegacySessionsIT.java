package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.anchor.AnchorBlob;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Sessions memcached-session-manager 2.3.2 (its published jars, its Java serialization) stored, continued by msm with
 * {@code legacySessions="read"}: the same session (id, attributes, FORM login) on an msm Tomcat, stored in msm's
 * format from then on; found under the old manager's {@code storageKeyPrefix} layout; cut or altered blobs refused.
 */
class LegacySessionsIT extends MsmIT {
    static final String OLD_MANAGER = "de.javakaffee.web.msm.MemcachedBackupSessionManager";
    private static final java.util.Map<String, String> CREDENTIALS = java.util.Map.of("j_username", "alice",
            "j_password", "secret");

    private EmbeddedTomcat oldTomcat(String route, String... attributes) {
        EmbeddedTomcat.Builder b = EmbeddedTomcat.on(route).manager(OLD_MANAGER).with("memcachedNodes", nodes());
        for (int i = 0; i < attributes.length; i += 2) {
            b.with(attributes[i], attributes[i + 1]);
        }
        return track(b.start());
    }

    /** What memcached holds under {@code key} on the node of session {@code id}, once it holds {@code text}. */
    private static byte[] awaitStored(String id, String key, String text) {
        return awaitStored(id, key, text, () -> { });
    }

    /**
     * As above, for the old manager's asynchronous backup of a request's change: if its copy does not hold
     * {@code text} after a second, {@code nudge} (a request that reads the session's attributes) makes it back the
     * session up again. Its backup task records the session's access time when it ends; one still running from the
     * request before records the changing request's access as checked, and that request's own backup is skipped
     * (memcached-session-manager 2.3.2's BackupSessionTask and BackupSessionService; seen on loaded machines).
     */
    private static byte[] awaitStored(String id, String key, String text, Runnable nudge) {
        byte[][] value = new byte[1][];
        long[] nextNudge = {System.nanoTime() + TimeUnit.SECONDS.toNanos(1)};
        await("the old manager's backup of " + key + " holding " + text, 10_000, () -> {
            value[0] = server(nodeOf(id)).get(key);
            boolean stored = value[0] != null && new String(value[0], StandardCharsets.ISO_8859_1).contains(text);
            if (!stored && System.nanoTime() - nextNudge[0] > 0) {
                nudge.run();
                nextNudge[0] = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            }
            return stored;
        });
        return value[0];
    }

    private static String location(EmbeddedTomcat t, Browser.Page redirect) {
        String l = redirect.location();
        return l.startsWith("http") ? l.replaceFirst("http://[^/]+", "http://127.0.0.1:" + t.port()) : t.url(l);
    }

    @Test
    void aStickySessionWithAFormLoginContinuesOnMsmAndIsStoredInMsmsFormat() {
        // the old manager backs up synchronously where a test hands its sessions over: its asynchronous backups of
        // successive requests can land out of order (CI once loaded a copy without the cart memcached had held a
        // moment before, with the counter of the request before the cart's)
        EmbeddedTomcat old = EmbeddedTomcat.on("tc1").manager(OLD_MANAGER).with("memcachedNodes", nodes())
                .with("sessionBackupAsync", "false").formLogin().start();
        track(old);
        Browser b = new Browser();
        assertEquals("LOGIN-PAGE", b.get(old.url("/protected/page?x=1")).body);
        Browser.Page login = b.post(old.url("/j_security_check"), CREDENTIALS);
        assertEquals("user=alice x=1 method=GET", b.get(location(old, login)).body);
        b.get(old.url("/counter"));
        assertEquals(2, b.get(old.url("/counter")).count());
        assertEquals("cart=[apple]", b.get(old.url("/cart?add=apple")).body);
        String id = b.sessionId();
        assertTrue(AnchorBlob.looksLikeOne(awaitStored(id, id, "apple", () -> b.get(old.url("/dump")))),
                "stored in the old manager's format");
        old.stop();

        EmbeddedTomcat msm = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes())
                .with("legacySessions", "read").formLogin().start());
        assertEquals("user=alice x=2 method=GET", b.get(msm.url("/protected/page?x=2")).body, "still logged in");
        assertEquals(3, b.get(msm.url("/counter")).count(), "the same session");
        assertEquals("cart=[apple, pear]", b.get(msm.url("/cart?add=pear")).body);
        assertEquals(randomOf(id), randomOf(b.sessionId()), "the same id, taken over by tc2");
        assertEquals("tc2", routeOf(b.sessionId()));
        assertEquals(1, msm.manager().getMsmLegacySessionsLoaded());
        assertEquals(0, msm.manager().getMsmUnreadableSessions());
        awaitBackups(msm);
        byte[] stored = server(nodeOf(b.sessionId())).get(b.sessionId());
        assertNotNull(stored);
        assertArrayEquals("MSMB".getBytes(StandardCharsets.US_ASCII), Arrays.copyOf(stored, 4), "msm's format");

        EmbeddedTomcat next = tomcat("tc3");
        msm.stop();
        assertEquals(4, b.get(next.url("/counter")).count(), "msm's copy on the next Tomcat");
        assertEquals(0, next.manager().getMsmLegacySessionsLoaded());
    }

    @Test
    void aBasicLoginTheOldManagerStoredContinuesOnMsm() {
        EmbeddedTomcat old = track(EmbeddedTomcat.on("tc1").manager(OLD_MANAGER).with("memcachedNodes", nodes())
                .with("sessionBackupAsync", "false").basicLogin().start());
        Browser b = new Browser();
        b.get(old.url("/counter")); // a session for the authenticator to cache the principal in
        String basic = "Basic " + java.util.Base64.getEncoder().encodeToString(
                "alice:secret".getBytes(StandardCharsets.UTF_8));
        assertEquals("user=alice x=null method=GET", b.get(old.url("/protected/p"), "Authorization", basic).body);
        String id = b.sessionId();
        assertEquals("BASIC", AnchorBlob.parse(awaitStored(id, id, "alice",
                () -> b.get(old.url("/dump")))).authType());
        old.stop();

        EmbeddedTomcat msm = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes())
                .with("legacySessions", "read").basicLogin().start());
        Browser.Page p = b.get(msm.url("/protected/p")); // no Authorization header: the session's principal
        assertEquals(200, p.status, p.body);
        assertEquals("user=alice x=null method=GET", p.body);
    }

    @Test
    void aNonStickySessionWhoseNodeDiedContinuesFromTheOldManagersSecondaryCopy() {
        EmbeddedTomcat old = oldTomcat("tc1", "sticky", "false", "sessionBackupAsync", "false");
        Browser b = new Browser();
        b.get(old.url("/counter"));
        assertEquals(2, b.get(old.url("/counter")).count());
        b.get(old.url("/cart?add=done"));
        String id = b.sessionId();
        String node = nodeOf(id);
        String other = node.equals("n1") ? "n2" : "n1";
        // the old manager's copies on the next node: the blob, and the validity record (with the prefix twice)
        await("the old manager's secondary copy", 10_000, () -> {
            byte[] copy = server(other).get("bak:" + id);
            return copy != null && new String(copy, StandardCharsets.ISO_8859_1).contains("done");
        });
        await("its secondary validity record", 10_000, () -> server(other).get("bak:validity:" + id) != null);
        old.stop();

        EmbeddedTomcat msm = tomcat("tc2", "sticky", "false", "legacySessions", "read");
        server(node).kill();
        await("msm to notice", 2000, () -> !msm.manager().getMsmAvailableNodes().contains(node));
        Browser.Page p = b.get(msm.url("/counter"));
        assertEquals(3, p.count(), "continued from the old manager's secondary copy");
        assertEquals(other, nodeOf(b.sessionId()), "moved to a live node");
        assertEquals(1, msm.manager().getMsmLegacySessionsLoaded());
        assertEquals(4, b.get(msm.url("/counter")).count());
    }

    @Test
    void aNonStickySessionContinuesOnMsmAndTheOldManagersKeysGo() {
        EmbeddedTomcat old = oldTomcat("tc1", "sticky", "false", "sessionBackupAsync", "false");
        Browser b = new Browser();
        b.get(old.url("/counter"));
        assertEquals(2, b.get(old.url("/counter")).count());
        b.get(old.url("/cart?add=done"));
        String id = b.sessionId();
        byte[] blob = awaitStored(id, id, "done");
        awaitStored(id, "validity:" + id, "");
        old.stop();
        // the old manager writes a blob when the session changed and every access to its validity record: a blob
        // whose times are two hours old is alive if the record says so
        long twoHoursAgo = System.currentTimeMillis() - 7_200_000;
        java.nio.ByteBuffer.wrap(blob).putLong(12, twoHoursAgo).putLong(26, twoHoursAgo);
        server(nodeOf(id)).set(id, blob, 0);

        EmbeddedTomcat msm1 = tomcat("tc2", "sticky", "false", "legacySessions", "read");
        EmbeddedTomcat msm2 = tomcat("tc3", "sticky", "false", "legacySessions", "read");
        assertEquals(3, b.get(msm1.url("/counter")).count(), "the same session");
        // the old manager's non-sticky ids carry the jvmRoute; msm's do not (the cookie changes, the session stays)
        assertEquals(randomOf(id) + "-" + nodeOf(id), b.sessionId());
        assertEquals(4, b.get(msm2.url("/counter")).count());
        assertEquals(5, b.get(msm1.url("/counter")).count());
        assertEquals(1, msm1.manager().getMsmLegacySessionsLoaded() + msm2.manager().getMsmLegacySessionsLoaded(),
                "read in the old format once, in msm's since");
        await("the old manager's validity record deleted", 10_000,
                () -> server(nodeOf(id)).get("validity:" + id) == null);
        byte[] stored = server(nodeOf(id)).get(b.sessionId());
        assertTrue(!AnchorBlob.looksLikeOne(server(nodeOf(id)).get(id)), "the old manager's copy is gone");
        assertArrayEquals("MSMB".getBytes(StandardCharsets.US_ASCII), Arrays.copyOf(stored, 4), "msm's format");
    }

    @Test
    void nonStickyRequestsAlternatingBetweenAnOldAndAnMsmTomcatLoseNothingWithReadWrite() {
        // the old manager's non-sticky writes are asynchronous by default: the next request, sent at once, could
        // overtake them (its own race, whichever manager serves that request); synchronous, they land first
        EmbeddedTomcat old = track(EmbeddedTomcat.on("tc1").manager(OLD_MANAGER).with("memcachedNodes", nodes())
                .with("sticky", "false").with("sessionBackupAsync", "false").formLogin().start());
        EmbeddedTomcat msm = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).with("sticky", "false")
                .with("legacySessions", "readWrite").formLogin().start());
        Browser b = new Browser();
        // a FORM login on msm, used on both (each reads the login the other stored); a login begun on one Tomcat
        // and completed on another is not shown here: the old manager carries no session id note, which Tomcat
        // checks then (msm does: aFormLoginInProgressStoredInTheOldFormatCompletesOnAnotherMsmTomcat)
        assertEquals("LOGIN-PAGE", b.get(msm.url("/protected/page?x=1")).body);
        Browser.Page login = b.post(msm.url("/j_security_check"), CREDENTIALS);
        assertEquals("user=alice x=1 method=GET", b.get(location(msm, login)).body);
        assertEquals("user=alice x=2 method=GET", b.get(old.url("/protected/page?x=2")).body,
                "the login msm stored, read by the old manager");
        assertEquals("user=alice x=3 method=GET", b.get(msm.url("/protected/page?x=3")).body,
                "the login the old manager stored, read by msm");
        EmbeddedTomcat[] both = {old, msm};
        for (int i = 1; i <= 12; i++) {
            EmbeddedTomcat t = both[i % 2];
            assertEquals(i, b.get(t.url("/counter")).count(), "request " + i + " on " + t.route());
            assertEquals("user=alice x=" + i + " method=GET", b.get(t.url("/protected/page?x=" + i)).body);
        }
        assertEquals("cart=[a]", b.get(msm.url("/cart?add=a")).body);
        assertEquals("cart=[a, b]", b.get(old.url("/cart?add=b")).body);
        assertEquals("cart=[a, b, c]", b.get(msm.url("/cart?add=c")).body);
        String id = b.sessionId();
        assertTrue(AnchorBlob.looksLikeOne(server(nodeOf(id)).get(id)), "what msm stores, in the old format");
        assertTrue(msm.manager().getMsmLegacySessionsLoaded() >= 6, "every load on msm read the old format");
        assertEquals(0, msm.manager().getMsmUnreadableSessions());

        // a logout on msm ends the session for the old manager too
        assertEquals("after=none", b.get(msm.url("/logout")).body);
        Browser stolen = new Browser();
        stolen.setCookie("JSESSIONID", id);
        assertEquals("LOGIN-PAGE", stolen.get(old.url("/protected/page?x=0")).body, "logged out everywhere");
    }

    /**
     * readWrite, non-sticky, two memcached nodes: the node of a session msm stored fails during the rollout; the old
     * manager continues it from the secondary copies msm wrote as it writes them ({@code bak:} blob and validity
     * record on the next node), and msm continues what the old manager then stored.
     */
    @Test
    void aNodeFailingDuringTheRolloutLosesNoSessionWithReadWrite() {
        EmbeddedTomcat old = track(EmbeddedTomcat.on("tc1").manager(OLD_MANAGER).with("memcachedNodes", nodes())
                .with("sticky", "false").with("sessionBackupAsync", "false").start());
        EmbeddedTomcat msm = tomcat("tc2", "sticky", "false", "legacySessions", "readWrite");
        Browser b = new Browser();
        assertEquals(1, b.get(msm.url("/counter")).count());
        assertEquals(2, b.get(msm.url("/counter")).count());
        String id = b.sessionId();
        String other = nodeOf(id).equals("n1") ? "n2" : "n1";
        awaitBackups(msm);
        await("msm's secondary copies on " + other, 10_000, () -> server(other).get("bak:" + id) != null
                && server(other).get("bak:validity:" + id) != null);
        server(nodeOf(id)).kill();
        Browser.Page onOld = b.get(old.url("/counter"));
        assertEquals(200, onOld.status, onOld.body);
        assertEquals(3, onOld.count(), "the old manager continues from msm's secondary copies: " + onOld.body);
        assertEquals(other, nodeOf(b.sessionId()), "moved to the node that is up");
        assertEquals(4, b.get(msm.url("/counter")).count(), "and msm continues what the old manager stored");
    }

    /**
     * A BASIC login Tomcat cached in the session (sticky): the old manager's stored principal carries it to an msm
     * Tomcat (read), and msm's, stored in the old format (readWrite), back to an old Tomcat; no Authorization header
     * after the first request.
     */
    @Test
    void aBasicLoginCachedInTheSessionCrossesBothWays() {
        EmbeddedTomcat old = track(EmbeddedTomcat.on("tc1").manager(OLD_MANAGER).with("memcachedNodes", nodes())
                .with("sessionBackupAsync", "false").basicLogin().start());
        Browser b = new Browser();
        b.get(old.url("/counter"));
        String basic = "Basic " + java.util.Base64.getEncoder().encodeToString("alice:secret"
                .getBytes(StandardCharsets.UTF_8));
        assertEquals("user=alice x=1 method=GET", b.get(old.url("/protected/p?x=1"), "Authorization", basic).body);
        awaitStored(b.sessionId(), b.sessionId(), "alice", () -> b.get(old.url("/dump")));
        old.stop();

        EmbeddedTomcat msm = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes())
                .with("legacySessions", "readWrite").basicLogin().start());
        Browser.Page onMsm = b.get(msm.url("/protected/p?x=2"));
        assertEquals("user=alice x=2 method=GET", onMsm.body, "the old manager's login, on msm");
        b.get(msm.url("/cart?add=x"));
        awaitBackups(msm);
        msm.stop();

        EmbeddedTomcat old2 = track(EmbeddedTomcat.on("tc3").manager(OLD_MANAGER).with("memcachedNodes", nodes())
                .basicLogin().start());
        assertEquals("user=alice x=3 method=GET", b.get(old2.url("/protected/p?x=3")).body,
                "msm's login in the old format, on the old manager");
        assertEquals("cart=[x]", b.get(old2.url("/cart")).body);
    }

    @Test
    void aFormLoginInProgressStoredInTheOldFormatCompletesOnAnotherMsmTomcat() {
        EmbeddedTomcat first = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).with("sticky", "false")
                .with("legacySessions", "readWrite").formLogin().start());
        EmbeddedTomcat second = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes())
                .with("sticky", "false").with("legacySessions", "readWrite").formLogin().start());
        Browser b = new Browser();
        assertEquals("LOGIN-PAGE", b.get(first.url("/protected/page?x=5")).body);
        byte[] stored = awaitStored(b.sessionId(), b.sessionId(), "/protected/page");
        assertTrue(AnchorBlob.parse(stored).savedRequest().length > 0, "the saved request, in the old format");
        Browser.Page login = b.post(second.url("/j_security_check"), CREDENTIALS);
        assertTrue(String.valueOf(login.location()).endsWith("/protected/page?x=5"), "the saved request: " + login);
        assertEquals("user=alice x=5 method=GET", b.get(location(second, login)).body);
    }

    @Test
    void aStickyMsmTomcatThatStopsDuringTheRolloutHandsItsUsersToAnOldOneWithReadWrite() {
        EmbeddedTomcat msm = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes())
                .with("legacySessions", "readWrite").formLogin().start());
        EmbeddedTomcat old = track(EmbeddedTomcat.on("tc2").manager(OLD_MANAGER).with("memcachedNodes", nodes())
                .with("sessionBackupAsync", "false").formLogin().start());
        Browser b = new Browser();
        assertEquals("LOGIN-PAGE", b.get(msm.url("/protected/page?x=1")).body);
        Browser.Page login = b.post(msm.url("/j_security_check"), CREDENTIALS);
        assertEquals("user=alice x=1 method=GET", b.get(location(msm, login)).body);
        b.get(msm.url("/counter"));
        assertEquals(2, b.get(msm.url("/counter")).count());
        assertEquals("cart=[apple]", b.get(msm.url("/cart?add=apple")).body);
        awaitBackups(msm);
        msm.stop();

        assertEquals("user=alice x=2 method=GET", b.get(old.url("/protected/page?x=2")).body, "still logged in");
        assertEquals(3, b.get(old.url("/counter")).count(), "the old manager continues msm's session");
        assertEquals("cart=[apple, pear]", b.get(old.url("/cart?add=pear")).body);
        assertEquals("tc2", routeOf(b.sessionId()));
    }

    @Test
    void aSessionStoredUnderAPrefixNamingContextAndWebappVersionIsFound() {
        String prefix = "context,webappVersion";
        EmbeddedTomcat old = track(EmbeddedTomcat.on("tc1").manager(OLD_MANAGER).with("memcachedNodes", nodes())
                .with("sessionBackupAsync", "false").with("storageKeyPrefix", prefix).contextPath("/shop")
                .webappVersion("002").start());
        Browser b = new Browser();
        b.get(old.url("/counter"));
        assertEquals(2, b.get(old.url("/counter")).count());
        b.get(old.url("/cart?add=done"));
        String id = b.sessionId();
        // the old manager's layout: the context's name and the version, joined by ':', then '_'
        awaitStored(id, "/shop##002:002_" + id, "done", () -> b.get(old.url("/dump")));
        assertNull(server(nodeOf(id)).get(id));
        old.stop();

        EmbeddedTomcat msm = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes())
                .with("storageKeyPrefix", prefix).with("legacySessions", "read").contextPath("/shop")
                .webappVersion("002").start());
        assertEquals(3, b.get(msm.url("/counter")).count(), "found under the old manager's key");
        assertEquals(1, msm.manager().getMsmLegacySessionsLoaded());
        awaitBackups(msm);
        await("the old manager's key deleted once msm stored the session", 10_000,
                () -> server(nodeOf(id)).get("/shop##002:002_" + id) == null);
    }

    @Test
    void aCutOrAlteredOldBlobGivesAFreshSessionOneWarningAndACount() throws IOException {
        EmbeddedTomcat old = oldTomcat("tc1");
        Browser cut = new Browser();
        Browser altered = new Browser();
        Browser gadget = new Browser();
        List<Browser> users = List.of(cut, altered, gadget);
        for (Browser b : users) {
            b.get(old.url("/counter"));
            assertEquals(2, b.get(old.url("/counter")).count());
            b.get(old.url("/cart?add=done"));
        }
        byte[][] blobs = new byte[3][];
        for (int i = 0; i < 3; i++) {
            String id = users.get(i).sessionId();
            Browser user = users.get(i);
            blobs[i] = awaitStored(id, id, "done", () -> user.get(old.url("/dump")));
        }
        old.stop();
        String[] ids = {cut.sessionId(), altered.sessionId(), gadget.sessionId()};
        int attributesAt = AnchorBlob.parse(blobs[0]).attributes().length;
        // cut inside the attributes; the header's id length made one larger; a denied class in the attributes
        server(nodeOf(ids[0])).set(ids[0], Arrays.copyOf(blobs[0], blobs[0].length - attributesAt / 2), 0);
        byte[] b1 = blobs[1].clone();
        b1[43]++;
        server(nodeOf(ids[1])).set(ids[1], b1, 0);
        byte[] b2 = blobs[2];
        int header = b2.length - AnchorBlob.parse(b2).attributes().length;
        server(nodeOf(ids[2])).set(ids[2], concat(Arrays.copyOf(b2, header), gadgetAttributes()), 0);

        EmbeddedTomcat msm = tomcat("tc2", "legacySessions", "read");
        try (LogCapture log = LogCapture.of("io.msm")) {
            for (Browser b : users) {
                Browser.Page p = b.get(msm.url("/counter"));
                assertEquals(200, p.status);
                assertEquals(1, p.count(), "a fresh session");
                assertNotNull(p.setCookie("JSESSIONID"), "with a new cookie");
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(List.of(), log.containing(randomOf(ids[i])), "no line holds the id");
                List<String> lines = log.containing(io.msm.internal.LogIds.of(ids[i]));
                assertEquals(1, lines.size(), "logged once: " + lines);
            }
            assertTrue(log.containing(io.msm.internal.LogIds.of(ids[2])).get(0)
                    .contains("javax.management.BadAttributeValueExpException"), "the refused class is named");
        }
        assertEquals(3, msm.manager().getMsmUnreadableSessions());
        assertEquals(0, msm.manager().getMsmLegacySessionsLoaded());
        for (int i = 0; i < 3; i++) {
            assertNotEquals(randomOf(ids[i]), randomOf(users.get(i).sessionId()));
        }
    }

    /** The old manager's attribute stream holding an object of a class msm's deserialization filter refuses. */
    private static byte[] gadgetAttributes() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(Integer.valueOf(1));
            out.writeObject("count");
            out.writeObject(new javax.management.BadAttributeValueExpException("not read"));
        }
        return bytes.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
