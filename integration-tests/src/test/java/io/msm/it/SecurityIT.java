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
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.apache.commons.collections.functors.InvokerTransformer;
import org.junit.jupiter.api.Test;

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
        byte[] planted = BlobCodec.encode(SessionData.builder(id).creationTime(now).lastAccessedTime(now)
                .thisAccessedTime(now).maxInactiveInterval(1800).attributes(gadgetAttributes()).build());
        server(nodeOf(id)).set(id, planted, 0);

        EmbeddedTomcat tc2 = tomcat("tc2");
        try (LogCapture log = LogCapture.of("io.msm")) {
            Browser.Page p = b.get(tc2.url("/counter"));
            assertEquals(200, p.status);
            assertEquals(1, p.count(), "a fresh session instead of the planted one");
            List<String> lines = log.containing(id);
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
        byte[] signed = server(nodeOf(id)).get(id);
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
            server(nodeOf(id)).set(id, planted, 0);
            Browser.Page p = victim.get(tc2.url("/counter"));
            assertEquals(1, p.count(), "refused: a fresh session");
            assertEquals(++refused, tc2.manager().getMsmUntrustedSessions());
        }
        assertEquals(0, tc2.manager().getMsmUnreadableSessions(), "counted as untrusted, not as corrupt");
        // control: the blob msm signed itself is read
        server(nodeOf(id)).set(id, signed, 0);
        assertEquals(3, b.get(tc2.url("/counter")).count());
    }

    @Test
    void encryptedSessionsShowNothingInMemcachedAndSurviveKeyRotation() {
        Browser b = new Browser();
        String id = liveSessionWithoutItsTomcat(b, "sessionProtection", "encrypt", "sessionKeys", KEY_1);
        byte[] stored = server(nodeOf(id)).get(id);
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
            assertTrue(lines.get(0).contains(bigId) && lines.get(0).contains("compressionThreshold"), lines.get(0));
            // not sent at all: memcached answers an oversized set by closing the connection, which took the node
            // out of service for every session (seen before the client-side check)
            assertTrue(log.containing("unavailable").isEmpty(), log.containing("unavailable").toString());
        }
        assertEquals(1, big.get(tc2.url("/counter")).count(), "the request itself is served");
    }
}
