package io.msm.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BlobCodecTest {

    private static SessionData sample() {
        return SessionData.builder("ABC-n1.tc1").creationTime(1).lastAccessedTime(2).thisAccessedTime(3)
                .maxInactiveInterval(1800).isNew(true).authType("FORM").principal(new byte[] {1, 2})
                .note("org.apache.catalina.authenticator.REQUEST", new byte[] {9})
                .attributes(new byte[] {5, 6, 7}).build();
    }

    @Test
    void roundTrips() {
        SessionData d = BlobCodec.decode(BlobCodec.encode(sample()));
        assertEquals("ABC-n1.tc1", d.id());
        assertEquals(1, d.creationTime());
        assertEquals(2, d.lastAccessedTime());
        assertEquals(3, d.thisAccessedTime());
        assertEquals(1800, d.maxInactiveInterval());
        assertTrue(d.isNew());
        assertTrue(d.isValid());
        assertEquals("FORM", d.authType());
        assertArrayEquals(new byte[] {1, 2}, d.principal());
        assertArrayEquals(new byte[] {9}, d.notes().get("org.apache.catalina.authenticator.REQUEST"));
        assertArrayEquals(new byte[] {5, 6, 7}, d.attributes());
        SessionData empty = BlobCodec.decode(BlobCodec.encode(SessionData.builder("X-n1").build()));
        assertNull(empty.authType());
        assertNull(empty.principal());
        assertEquals(0, empty.attributes().length);
    }

    @Test
    void contentHashIgnoresTimesAndNewFlagButNotContent() {
        byte[] a = BlobCodec.encode(sample());
        byte[] laterAccess = BlobCodec.encode(sample().toBuilder().lastAccessedTime(99).thisAccessedTime(100)
                .isNew(false).build());
        assertEquals(BlobCodec.contentHash(a), BlobCodec.contentHash(laterAccess));
        byte[] otherAttributes = BlobCodec.encode(sample().toBuilder().attributes(new byte[] {5, 6, 8}).build());
        assertNotEquals(BlobCodec.contentHash(a), BlobCodec.contentHash(otherAttributes));
        byte[] otherId = BlobCodec.encode(sample().toBuilder().id("ABC-n2.tc1").build());
        assertNotEquals(BlobCodec.contentHash(a), BlobCodec.contentHash(otherId));
        byte[] loggedOut = BlobCodec.encode(sample().toBuilder().principal(null).build());
        assertNotEquals(BlobCodec.contentHash(a), BlobCodec.contentHash(loggedOut));
    }

    @Test
    void refusesGarbageWithAReason() {
        assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode("hello world, this is certainly not an msm session blob"
                .getBytes())).getMessage().contains("magic"));
        assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(new byte[0]));
        assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(null));
        byte[] blob = BlobCodec.encode(sample());
        byte[] v2 = blob.clone();
        v2[4] = 2;
        assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(v2)).getMessage()
                .contains("version 2"));
        byte[] flagged = blob.clone();
        flagged[5] = 1;
        assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(flagged)).getMessage()
                .contains("flags"));
        byte[] trailing = Arrays.copyOf(blob, blob.length + 1);
        assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(trailing));
    }

    @Test
    void everyTruncationIsRefusedCleanly() {
        byte[] blob = BlobCodec.encode(sample());
        for (int len = 0; len < blob.length; len++) {
            byte[] cut = Arrays.copyOf(blob, len);
            assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(cut), "length " + len);
        }
    }

    @Test
    void mutatedBytesNeverThrowAnythingElse() {
        byte[] blob = BlobCodec.encode(sample());
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] m = blob.clone();
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) {
                m[random.nextInt(m.length)] = (byte) random.nextInt(256);
            }
            try {
                BlobCodec.decode(m);
            } catch (UnreadableBlobException expected) {
                // the documented outcome
            }
        }
    }
}
