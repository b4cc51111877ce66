package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import io.msm.codec.BlobCodec;
import io.msm.codec.BlobSealer;
import io.msm.codec.SessionData;
import io.msm.config.SessionProtection;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.apache.commons.collections.functors.InvokerTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bytes planted in memcached by someone else: a deserialization gadget under a live session's key is refused by
 * default (with the serializer of this run), and a manager with {@code sessionProtection} refuses any blob not
 * written with its keys. Also: compression and memcached's item size limit.
 */
class SecurityIT extends MsmIT {
    private static final String KEY_1 = key(1);
    private static final String KEY_2 = key(2);

    private static String key(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    private static boolean kryoRun() {
        String t = System.getProperty(EmbeddedTomcat.TRANSCODER_PROPERTY, "");
        return t.contains("kryo");
    }

    /**
     * The key of the one session on {@code node} (not a secondary copy, lock, claim or an end's mark beside a secondary
     * copy, nor the list of watched sessions
     * a stop leaves for the timeout watch, which names no session): with {@code sessionProtection} the key hides the
     * session id, so a test that plays the attacker finds it as one would, by listing the keys.
     */
    private static String sessionKey(String node) {
        List<String> keys = new java.util.ArrayList<>();
        for (String k : server(node).keys()) {
            if (!k.startsWith("bak:") && !k.startsWith("lock:") && !k.startsWith("end:") && !k.startsWith("gone:")
                    && !k.contains("msm:expiry:")) {
                keys.add(k);
            }
        }
        assertEquals(1, keys.size(), keys.toString());
        return keys.get(0);
    }

    /** Every key both memcached nodes hold. */
    private static Set<String> allKeys() {
        Set<String> keys = new LinkedHashSet<>(server("n1").keys());
        keys.addAll(server("n2").keys());
        return keys;
    }

    /** A live session whose Tomcat is gone, so the next request must read memcached. */
    private String liveSessionWithoutItsTomcat(Browser b, String... attributes) {
        EmbeddedTomcat tc1 = tomcat("tc1", attributes);
        b.get(tc1.url("/counter"));
        assertEquals(2, b.get(tc1.url("/counter")).count());
        awaitBackups(tc1);
        tc1.stop();
        return b.sessionId();
    }

    /**
     * The attribute bytes a writer without msm's filters produces for {@code {"counter": gadget}}, in the format of
     * this run's serializer; and proof that a reader without the filters runs the gadget.
     */
    private static byte[] gadgetAttributes() throws IOException, ClassNotFoundException {
        InvokerTransformer gadget = new InvokerTransformer();
        byte[] bytes;
        if (kryoRun()) {
            Kryo kryo = new Kryo();
            kryo.setRegistrationRequired(false);
            kryo.addDefaultSerializer(InvokerTransformer.class, JavaSerializer.class);
            Output out = new Output(256, -1);
            out.writeByte(0x4B); // msm's Kryo blob: magic 'K', format 1, attribute count, then name and value
            out.writeByte(1);
            out.writeVarInt(1, true);
            out.writeString("counter");
            kryo.writeClassAndObject(out, gadget);
            bytes = out.toBytes();
            Input in = new Input(bytes, 3, bytes.length - 3);
            in.readString();
            kryo.readClassAndObject(in); // an unfiltered reader: the gadget runs
        } else {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(buffer)) {
                out.writeInt(1);
                out.writeObject("counter");
                out.writeObject(gadget);
            }
            bytes = buffer.toByteArray();
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
                in.readInt();
                in.readObject();
                in.readObject(); // an unfiltered reader: the gadget runs
            }
        }
        assertEquals(1, InvokerTransformer.DETONATIONS.getAndSet(0), "control: without msm the planted bytes run");
        return bytes;
    }

    @Test
    void gadgetWrittenUnderALiveSessionsKeyIsRefusedByDefault() throws Exception {
        Browser b = new Browser();
        String id = liveSessionWithoutItsTomcat(b);
        long now = System.currentTimeMillis();
        byte[] planted = BlobCodec.encode(SessionData.builder(id).times(now, now, now)
                .maxInactiveInterval(1800).attributes(gadgetAttributes()).build());
        server(nodeOf(id)).set(id, planted, 0);

        EmbeddedTomcat tc2 = tomcat("tc2");
        try (LogCapture log = LogCapture.of("io.msm")) {
            Browser.Page p = b.get(tc2.url("/counter"));
            assertEquals(200, p.status);
            assertEquals(1, p.count(), "a fresh session instead of the planted one");
            List<String> lines = log.containing(io.msm.internal.LogIds.of(id));
            assertEquals(1, lines.size(), lines.toString());
            assertTrue(lines.get(0).contains("org.apache.commons.collections.functors.InvokerTransformer"),
                    lines.get(0));
        }
        assertEquals(0, InvokerTransformer.DETONATIONS.get(), "the gadget never ran");
        assertEquals(1, tc2.manager().getMsmUnreadableSessions());
    }

    @Test
    void signingManagerRefusesEveryBlobNotSignedWithItsKey() throws Exception {
        String[] signing = {"sessionProtection", "sign", "sessionKeys", KEY_1};
        Browser b = new Browser();
        String id = liveSessionWithoutItsTomcat(b, signing);
        String key = sessionKey(nodeOf(id));
        byte[] signed = server(nodeOf(id)).get(key);
        assertNotNull(signed);
        BlobSealer ours = BlobSealer.create(SessionProtection.SIGN, List.of(Base64.getDecoder().decode(KEY_1)), 0);
        byte[] plain = ours.open(signed);
        byte[] otherKey = BlobSealer.create(SessionProtection.SIGN, List.of(Base64.getDecoder().decode(KEY_2)), 0)
                .seal(plain);
        byte[] altered = signed.clone();
        altered[altered.length - 40] ^= 1; // a byte of the attributes

        EmbeddedTomcat tc2 = tomcat("tc2", signing);
        long refused = 0;
        for (byte[] planted : List.of(plain, otherKey, altered)) {
            Browser victim = new Browser();
            victim.setCookie("JSESSIONID", id);
            server(nodeOf(id)).set(key, planted, 0);
            Browser.Page p = victim.get(tc2.url("/counter"));
            assertEquals(1, p.count(), "refused: a fresh session");
            assertEquals(++refused, tc2.manager().getMsmUntrustedSessions());
        }
        assertEquals(0, tc2.manager().getMsmUnreadableSessions(), "counted as untrusted, not as corrupt");
        // control: the blob msm signed itself is read
        server(nodeOf(id)).set(key, signed, 0);
        assertEquals(3, b.get(tc2.url("/counter")).count());
    }

    @Test
    void encryptedSessionsShowNothingInMemcachedAndSurviveKeyRotation() {
        Browser b = new Browser();
        String id = liveSessionWithoutItsTomcat(b, "sessionProtection", "encrypt", "sessionKeys", KEY_1);
        byte[] stored = server(nodeOf(id)).get(sessionKey(nodeOf(id)));
        String visible = new String(stored, StandardCharsets.ISO_8859_1);
        assertFalse(visible.contains("counter") || visible.contains(id), "memcached sees no attribute name or id");
        // rotation step 2: the new key writes, the old one still reads
        EmbeddedTomcat tc2 = tomcat("tc2", "sessionProtection", "encrypt", "sessionKeys", KEY_2 + "," + KEY_1);
        assertEquals(3, b.get(tc2.url("/counter")).count());
        awaitBackups(tc2);
        tc2.stop();
        // step 3: the old key is gone; the session was rewritten with the new one
        EmbeddedTomcat tc3 = tomcat("tc3", "sessionProtection", "encrypt", "sessionKeys", KEY_2);
        assertEquals(4, b.get(tc3.url("/counter")).count());
    }

    @Test
    void largeSessionIsCompressedAndOneOverMemcachedsItemSizeIsReportedOnce() {
        EmbeddedTomcat tc1 = tomcat("tc1");
        Browser b = new Browser();
        b.get(tc1.url("/big?name=text&size=3000000")); // 3 MB of one letter: deflates far below 1 MB
        String id = b.sessionId();
        awaitBackups(tc1);
        byte[] stored = server(nodeOf(id)).get(id);
        assertNotNull(stored, "stored despite its size");
        assertTrue(stored.length < 100_000, stored.length + " bytes");
        assertEquals(0, tc1.manager().getMsmOversizedSessions());

        EmbeddedTomcat tc2 = tomcat("tc2", "compressionThreshold", "0");
        Browser big = new Browser();
        try (LogCapture log = LogCapture.of("io.msm")) {
            big.get(tc2.url("/big?name=text&size=1500000&random=true"));
            String bigId = big.sessionId();
            awaitBackups(tc2);
            big.get(tc2.url("/big?name=text&size=1500001&random=true"));
            awaitBackups(tc2);
            assertEquals(2, tc2.manager().getMsmOversizedSessions(), "counted every time");
            List<String> lines = log.containing("more than memcached accepts");
            assertEquals(1, lines.size(), "logged once per session: " + lines);
            assertTrue(lines.get(0).contains(io.msm.internal.LogIds.of(bigId)) && lines.get(0).contains("compressionThreshold"), lines.get(0));
            // not sent at all: memcached answers an oversized set by closing the connection, which took the node
            // out of service for every session (seen before the client-side check)
            assertTrue(log.containing("unavailable").isEmpty(), log.containing("unavailable").toString());
        }
        assertEquals(1, big.get(tc2.url("/counter")).count(), "the request itself is served");
    }

    /**
     * With {@code sessionProtection}, whoever lists memcached's keys ({@code lru_crawler metadump all}) sees no session
     * id, nor its random part: not in the session's key, its secondary copy's or its lock's, nor in the timeout watch's
     * keys (the claim on a session's end, the list of watched sessions a stop leaves, which is encrypted).
     */
    @ParameterizedTest(name = "sessionProtection={0}, sticky={1}")
    @CsvSource({"sign,true", "encrypt,true", "sign,false", "encrypt,false"})
    void withProtectionNoMemcachedKeyNamesASession(String protection, boolean sticky) throws Exception {
        String[] attributes = sticky
                ? new String[] {"sessionProtection", protection, "sessionKeys", KEY_1}
                : new String[] {"sessionProtection", protection, "sessionKeys", KEY_1, "sticky", "false",
                    "lockingMode", "all"};
        EmbeddedTomcat tc1 = tomcat("tc1", attributes);
        EmbeddedTomcat tc2 = tomcat("tc2", attributes);
        Browser b = new Browser();
        assertEquals(1, b.get(tc1.url("/counter")).count());
        awaitBackups(tc1);
        assertEquals(2, b.get(tc2.url("/counter")).count(), "read from memcached by the other Tomcat");
        String random = randomOf(b.sessionId());
        Set<String> seen = new LinkedHashSet<>(allKeys());
        // a request that holds the session (and its lock, non-sticky) while the keys are listed: a latch, not a sleep
        TestApp.resetHold();
        CompletableFuture<Browser.Page> slow = CompletableFuture.supplyAsync(
                () -> b.get(tc2.url("/hold?name=slow&value=1")));
        assertTrue(TestApp.held.await(10, TimeUnit.SECONDS), "the slow request has the session");
        if (!sticky) {
            await("the lock in memcached", 1400, () -> allKeys().stream().anyMatch(k -> k.startsWith("lock:")));
        }
        seen.addAll(allKeys());
        TestApp.release.countDown();
        assertEquals(200, slow.get(10, TimeUnit.SECONDS).status);
        awaitBackups(tc2);
        seen.addAll(allKeys());
        if (!sticky) {
            assertTrue(seen.stream().anyMatch(k -> k.startsWith("lock:")), "a lock: " + seen);
            assertTrue(seen.stream().anyMatch(k -> k.startsWith("bak:")), "a secondary copy: " + seen);
        }
        assertTrue(seen.stream().anyMatch(k -> !k.startsWith("lock:") && !k.startsWith("bak:")), "a session: " + seen);

        // the timeout watch: a stop leaves its list of watched sessions; the restarted Tomcat claims their ends
        String[] shortTimeout = java.util.Arrays.copyOf(attributes, attributes.length + 2);
        shortTimeout[attributes.length] = "maxInactiveInterval";
        // 4 s, not 2: the restarted Tomcat must be watching before the timeout comes (a copy lives only the slack, 3 s,
        // past it); CI once restarted later than that on a loaded machine and the copy was gone before it was looked at
        shortTimeout[attributes.length + 1] = "4";
        EmbeddedTomcat tc3 = tomcat("tc3", shortTimeout);
        Browser c = new Browser();
        assertEquals(1, c.get(tc3.url("/counter")).count());
        String timingOut = randomOf(c.sessionId());
        awaitBackups(tc3);
        tc3.stop();
        Set<String> lists = new LinkedHashSet<>();
        for (String node : new String[] {"n1", "n2"}) {
            for (String k : server(node).keys()) {
                if (k.contains("msm:expiry:")) {
                    lists.add(k);
                    assertFalse(new String(server(node).get(k), StandardCharsets.ISO_8859_1).contains(timingOut),
                            "the list holds an id in clear");
                }
            }
        }
        assertFalse(lists.isEmpty(), "the stop's list: " + allKeys());
        seen.addAll(lists);
        awaitDestroyedByTheRestart(shortTimeout, c.sessionId());
        Set<String> claims = new LinkedHashSet<>();
        allKeys().stream().filter(k -> k.startsWith("end:")).forEach(claims::add);
        assertFalse(claims.isEmpty(), "a claim: " + allKeys());
        seen.addAll(allKeys());
        for (String k : seen) {
            assertFalse(k.contains(random) || k.contains(timingOut), "a key holds a session id: " + k);
        }
    }

    /**
     * Restarts tc3 and waits for it to end the session its stop left: with what its timeout watch found each time it
     * looked (msm's DEBUG lines, kept off the console) and memcached's keys in the message if it does not.
     */
    private void awaitDestroyedByTheRestart(String[] attributes, String id) {
        java.util.logging.Logger engineLog = java.util.logging.Logger.getLogger("io.msm.engine");
        java.util.logging.Level level = engineLog.getLevel();
        boolean parents = engineLog.getUseParentHandlers();
        engineLog.setUseParentHandlers(false);
        engineLog.setLevel(java.util.logging.Level.ALL);
        try (LogCapture watch = LogCapture.of("io.msm.engine")) {
            tomcat("tc3", attributes);
            try {
                await("sessionDestroyed of the session left by the stop", 12_000,
                        () -> TestApp.EVENTS.contains("destroyed tc3 " + id));
            } catch (AssertionError e) {
                List<String> lines = new java.util.ArrayList<>();
                watch.records.forEach(r -> lines.add(r.getLevel() + " " + LogCapture.fullText(r)));
                throw new AssertionError(e.getMessage() + "; msm said: " + lines + "; keys: " + allKeys(), e);
            }
        } finally {
            engineLog.setLevel(level);
            engineLog.setUseParentHandlers(parents);
        }
    }

    /** The attribute bytes of a session without attributes, in the format of this run's serializer. */
    private static byte[] noAttributes() throws IOException {
        if (kryoRun()) {
            return new byte[] {0x4B, 1, 0}; // magic 'K', format 1, no attribute
        }
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(buffer)) {
            out.writeInt(0);
        }
        return buffer.toByteArray();
    }

    /** A session blob as anyone can write it: logged in as {@code user} with the role the webapp asks for. */
    private static byte[] forgedLogin(String id, String user) throws IOException {
        ByteArrayOutputStream principal = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(principal)) {
            out.writeByte(1); // msm's principal format 1
            out.writeByte(1); // a GenericPrincipal: name, roles
            out.writeUTF(user);
            out.writeInt(1);
            out.writeUTF("user");
        }
        long now = System.currentTimeMillis();
        return BlobCodec.encode(SessionData.builder(id).times(now, now, now)
                .maxInactiveInterval(1800).authType("BASIC").principal(principal.toByteArray())
                .attributes(noAttributes()).build());
    }

    /**
     * Without {@code sessionProtection}, write access to memcached is a login as anyone: no gadget, just a blob naming
     * a user and roles under a session id of the writer's choice. With protection the same planting - under that id,
     * and over every key memcached lists, with a live victim's id inside - logs nobody in.
     */
    @Test
    void aForgedBlobLogsInAsAnyUserWithoutProtectionAndIsRefusedWithIt() throws Exception {
        EmbeddedTomcat open = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes()).basicLogin().start());
        String chosen = "F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0-n1.tc1";
        server("n1").set(chosen, forgedLogin(chosen, "admin"), 0);
        Browser attacker = new Browser();
        attacker.setCookie("JSESSIONID", chosen);
        assertEquals("user=admin x=null method=GET", attacker.get(open.url("/protected/p")).body,
                "logged in as a user the realm does not even have");
        open.stop();
        MEMCACHED.servers().forEach(io.msm.test.memcached.MemcachedServer::flushAll);

        String[] signing = {"sessionProtection", "sign", "sessionKeys", KEY_1};
        EmbeddedTomcat guarded = track(EmbeddedTomcat.on("tc2").with("memcachedNodes", nodes()).with(signing[0],
                signing[1]).with(signing[2], signing[3]).basicLogin().start());
        Browser victim = new Browser();
        victim.get(guarded.url("/counter"));
        String basic = "Basic " + Base64.getEncoder().encodeToString("alice:secret".getBytes(StandardCharsets.UTF_8));
        assertEquals("user=alice x=null method=GET", victim.get(guarded.url("/protected/p"), "Authorization", basic).body);
        String victimId = victim.sessionId();
        awaitBackups(guarded);
        guarded.stop();
        byte[] overVictim = forgedLogin(victimId, "admin");
        for (String node : new String[] {"n1", "n2"}) {
            for (String key : server(node).keys()) {
                server(node).set(key, overVictim, 0);
            }
        }
        server("n1").set(chosen, forgedLogin(chosen, "admin"), 0);

        EmbeddedTomcat next = track(EmbeddedTomcat.on("tc3").with("memcachedNodes", nodes()).with(signing[0],
                signing[1]).with(signing[2], signing[3]).basicLogin().start());
        assertEquals(401, attacker.get(next.url("/protected/p")).status, "the chosen id: nothing there");
        Browser withVictimsCookie = new Browser();
        withVictimsCookie.setCookie("JSESSIONID", victimId);
        assertEquals(401, withVictimsCookie.get(next.url("/protected/p")).status, "the forged blob is refused");
        assertEquals(1, next.manager().getMsmUntrustedSessions());
    }

    /** Without protection, every start says once, naming the context, what write access to memcached allows. */
    @Test
    void aManagerWithoutProtectionWarnsOnceAtStartNamingItsContext() {
        try (LogCapture log = LogCapture.of("io.msm")) {
            tomcat("tc1");
            List<String> warnings = log.containing("sessionProtection=\"none\"");
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).startsWith("[127.0.0.1/] "), warnings.get(0));
            assertTrue(warnings.get(0).contains("log in as any user"), warnings.get(0));
            assertTrue(log.records.stream().anyMatch(r -> r.getLevel() == Level.WARNING
                    && LogCapture.fullText(r).contains("sessionProtection=\"none\"")));
        }
        try (LogCapture log = LogCapture.of("io.msm")) {
            tomcat("tc2", "sessionProtection", "sign", "sessionKeys", KEY_1);
            assertTrue(log.containing("sessionProtection=\"none\"").isEmpty());
        }
    }

    /**
     * Two virtual hosts with the same context path, prefix and keys: a session signed for one is not loaded by the
     * other (the blob is bound to host, context path and prefix).
     */
    @Test
    void aSignedSessionOfOneVirtualHostIsNotLoadedByAnotherWithTheSamePathAndKeys() {
        EmbeddedTomcat a = track(EmbeddedTomcat.on("tc1").host("a.example.com").with("memcachedNodes", nodes())
                .with("sessionProtection", "sign").with("sessionKeys", KEY_1).start());
        EmbeddedTomcat other = track(EmbeddedTomcat.on("tc2").host("b.example.com").with("memcachedNodes", nodes())
                .with("sessionProtection", "sign").with("sessionKeys", KEY_1).start());
        Browser b = new Browser();
        assertEquals(1, b.get(a.url("/counter")).count());
        assertEquals(2, b.get(a.url("/counter")).count());
        awaitBackups(a);
        assertEquals(1, b.get(other.url("/counter")).count(), "host b does not adopt host a's session");
    }
}
