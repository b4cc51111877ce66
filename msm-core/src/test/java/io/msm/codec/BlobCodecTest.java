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
        return SessionData.builder("ABC-n1.tc1").times(1, 2, 3)
                .maxInactiveInterval(1800).state(true, true).authType("FORM").principal(new byte[] {1, 2})
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
        assertEquals(1, d.attributeChunks().size());
        assertArrayEquals(new byte[] {5, 6, 7}, d.attributeChunks().get(0));
        SessionData empty = BlobCodec.decode(BlobCodec.encode(SessionData.builder("X-n1").build()));
        assertNull(empty.authType());
        assertNull(empty.principal());
        assertEquals(1, empty.attributeChunks().size());
        assertEquals(0, empty.attributeChunks().get(0).length);
    }

    @Test
    void contentHashIgnoresTimesAndNewFlagButNotContent() {
        byte[] a = BlobCodec.encode(sample());
        byte[] laterAccess = BlobCodec.encode(sample().toBuilder().times(1, 99, 100)
                .state(false, true).build());
        assertEquals(BlobCodec.contentHash(a), BlobCodec.contentHash(laterAccess));
        byte[] otherAttributes = BlobCodec.encode(sample().toBuilder().attributes(new byte[] {5, 6, 8}).build());
        assertNotEquals(BlobCodec.contentHash(a), BlobCodec.contentHash(otherAttributes));
        byte[] otherId = BlobCodec.encode(sample().toBuilder().id("ABC-n2.tc1").build());
        assertNotEquals(BlobCodec.contentHash(a), BlobCodec.contentHash(otherId));
        byte[] loggedOut = BlobCodec.encode(sample().toBuilder().principal(null).build());
        assertNotEquals(BlobCodec.contentHash(a), BlobCodec.contentHash(loggedOut));
    }

    /** What the idle session cache compares: each chunk's bytes hashed in turn, as decoded. */
    private static long chainedHash(java.util.List<byte[]> chunks) {
        long hash = 0;
        for (byte[] c : chunks) {
            hash = io.msm.internal.XxHash64.hash(c, 0, c.length, hash);
        }
        return hash;
    }

    @Test
    void attributesHashReadsTheChunksInPlaceAsDecodingWould() {
        java.util.List<byte[]> chunks = java.util.List.of(new byte[] {1}, new byte[0], new byte[40]);
        SessionData chunked = SessionData.builder("ABC-n1").note("a", new byte[] {1, 2, 3}).note("b", new byte[0])
                .attributeChunks(chunks, Arrays.asList("big", null, null)).build();
        SessionData noAttributes = SessionData.builder("ABC-n1").principal(new byte[7]).build();
        for (SessionData d : java.util.List.of(sample(), chunked, noAttributes)) {
            byte[] blob = BlobCodec.encode(d);
            assertEquals(chainedHash(BlobCodec.decode(blob).attributeChunks()), BlobCodec.attributesHash(blob));
        }
        assertNotEquals(BlobCodec.attributesHash(BlobCodec.encode(chunked)),
                BlobCodec.attributesHash(BlobCodec.encode(SessionData.builder("ABC-n1")
                        .attributeChunks(java.util.List.of(new byte[] {1}, new byte[] {0}, new byte[40]),
                                Arrays.asList("big", null, null)).build())), "one byte of one chunk differs");
        byte[] blob = BlobCodec.encode(chunked);
        for (int n = 0; n < blob.length; n++) {
            byte[] cut = Arrays.copyOf(blob, n);
            assertThrows(UnreadableBlobException.class, () -> BlobCodec.attributesHash(cut), "cut to " + n);
        }
    }

    @Test
    void refusesGarbageWithAReason() {
        assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode("hello world, this is certainly not an msm session blob"
                .getBytes())).getMessage().contains("magic"));
        assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(new byte[0]));
        assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(null));
        byte[] blob = BlobCodec.encode(sample());
        byte[] v9 = blob.clone();
        v9[4] = 9;
        assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(v9)).getMessage()
                .contains("version 9"));
        byte[] flagged = blob.clone();
        flagged[5] = 1;
        assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(flagged)).getMessage()
                .contains("flags"));
        byte[] trailing = Arrays.copyOf(blob, blob.length + 1);
        assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(trailing));
    }

    /**
     * A version 1 blob as msm wrote before attributes could be chunked, byte for byte: sessions stored then still
     * load.
     */
    @Test
    void readsTheFirstFormatAsWritten() {
        byte[] v1 = java.util.HexFormat.of().parseHex("4d534d420100" + "0000000000000001" + "0000000000000002"
                + "0000000000000003" + "03" + "00000708" + "0000000a" + "4142432d6e312e746331" + "00000004"
                + "464f524d" + "00000002" + "0102" + "00000001" + "00000029"
                + "6f72672e6170616368652e636174616c696e612e61757468656e74696361746f722e52455155455354" + "00000001"
                + "09" + "00000003" + "050607");
        assertArrayEquals(v1, BlobCodec.encode(sample()), "one chunk is still written as version 1");
        SessionData d = BlobCodec.decode(v1);
        assertEquals("ABC-n1.tc1", d.id());
        assertEquals(1800, d.maxInactiveInterval());
        assertArrayEquals(new byte[] {5, 6, 7}, d.attributeChunks().get(0));
    }

    @Test
    void aPlainChunkIsWrittenAsVersion3AndItsIndexReadBack() {
        java.util.List<byte[]> chunks = java.util.List.of(new byte[] {1}, new byte[] {2, 3}, new byte[] {4});
        java.util.List<String> names = java.util.Arrays.asList(null, null, null);
        byte[] blob = BlobCodec.encode(sample().toBuilder().attributeChunks(chunks, names, 1).build());
        assertEquals(3, blob[4]);
        SessionData d = BlobCodec.decode(blob);
        assertEquals(1, d.plainChunk());
        assertEquals(names, d.attributeChunkNames());
        for (int i = 0; i < chunks.size(); i++) {
            assertArrayEquals(chunks.get(i), d.attributeChunks().get(i), "chunk " + i);
        }
        assertEquals(chainedHash(d.attributeChunks()), BlobCodec.attributesHash(blob));
        assertEquals(-1, BlobCodec.decode(BlobCodec.encode(sample().toBuilder().attributeChunks(chunks, names)
                .build())).plainChunk(), "version 2: none");
        assertEquals(-1, BlobCodec.decode(BlobCodec.encode(sample())).plainChunk(), "version 1: none");

        int at = blob.length - (4 + 4 + 1) - (4 + 4 + 2) - (4 + 4 + 1) - 4; // the index, before three null-named chunks
        assertEquals(1, blob[at + 3]);
        for (int bad : new int[] {-1, 3, Integer.MAX_VALUE}) {
            byte[] b = blob.clone();
            b[at] = (byte) (bad >>> 24);
            b[at + 1] = (byte) (bad >>> 16);
            b[at + 2] = (byte) (bad >>> 8);
            b[at + 3] = (byte) bad;
            assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(b)).getMessage()
                    .contains("bad plain chunk " + bad), "index " + bad);
        }
        // a version 2 blob whose third chunk is named c, made version 3 with that chunk as the plain one
        byte[] v2 = BlobCodec.encode(sample().toBuilder().attributeChunks(chunks,
                java.util.Arrays.asList(null, null, "c")).build());
        int entries = (4 + 4 + 1) + (4 + 4 + 2) + (4 + 1 + 4 + 1);
        byte[] named = new byte[v2.length + 4];
        System.arraycopy(v2, 0, named, 0, v2.length - entries);
        named[v2.length - entries + 3] = 2;
        System.arraycopy(v2, v2.length - entries, named, v2.length - entries + 4, entries);
        named[4] = 3;
        assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(named)).getMessage()
                .contains("the plain chunk is named c"));
    }

    /** A built session's notes are the builder's map, not a copy: a note the builder gets after does not reach it. */
    @Test
    void aNoteAddedAfterABuildChangesNeitherThatSessionNorItsBlob() {
        SessionData.Builder b = SessionData.builder("ABC-n1").note("a", new byte[] {1});
        SessionData first = b.build();
        byte[] blob = BlobCodec.encode(first);
        b.note("b", new byte[] {2});
        SessionData second = b.build();
        b.note("c", new byte[] {3});
        assertEquals(java.util.Set.of("a"), first.notes().keySet());
        assertEquals(java.util.Set.of("a", "b"), second.notes().keySet());
        assertArrayEquals(blob, BlobCodec.encode(first));
        assertEquals(java.util.List.of("a", "b"), new java.util.ArrayList<>(BlobCodec.decode(BlobCodec.encode(second))
                .notes().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> first.notes().put("x", new byte[0]));
    }

    @Test
    void sessionDataRefusesAPlainChunkThatIsNamedOutOfRangeOrWhole() {
        java.util.List<byte[]> chunks = java.util.List.of(new byte[] {1}, new byte[] {2});
        for (int bad : new int[] {-2, 2}) {
            assertThrows(IllegalArgumentException.class, () -> sample().toBuilder()
                    .attributeChunks(chunks, java.util.Arrays.asList(null, null), bad).build());
        }
        assertThrows(IllegalArgumentException.class, () -> sample().toBuilder()
                .attributeChunks(chunks, java.util.Arrays.asList(null, "cart"), 1).build());
        assertThrows(IllegalArgumentException.class, () -> sample().toBuilder()
                .attributeChunks(java.util.List.of(), java.util.List.of(), 0).build(), "no chunk to be plain");
        assertEquals(-1, sample().toBuilder().attributeChunks(chunks, java.util.Arrays.asList(null, null), 1)
                .attributes(new byte[] {1}).build().plainChunk(), "written whole after all: no plain chunk");
        assertEquals(1, sample().toBuilder().attributeChunks(chunks, java.util.Arrays.asList(null, null), 1)
                .build().toBuilder().build().plainChunk());
    }

    @Test
    void chunkedAttributesRoundTripAsVersion2() {
        java.util.List<byte[]> chunks = java.util.List.of(new byte[] {1}, new byte[0], new byte[] {2, 3});
        java.util.List<String> names = java.util.Arrays.asList("history", null, "cart");
        byte[] blob = BlobCodec.encode(sample().toBuilder().attributeChunks(chunks, names).build());
        assertEquals(2, blob[4]);
        SessionData d = BlobCodec.decode(blob);
        assertEquals(3, d.attributeChunks().size());
        assertEquals(names, d.attributeChunkNames());
        for (int i = 0; i < chunks.size(); i++) {
            assertArrayEquals(chunks.get(i), d.attributeChunks().get(i), "chunk " + i);
        }
        assertEquals("FORM", d.authType());
        byte[] otherChunk = BlobCodec.encode(sample().toBuilder()
                .attributeChunks(java.util.List.of(new byte[] {1}, new byte[0], new byte[] {2, 4}), names).build());
        assertNotEquals(BlobCodec.contentHash(blob), BlobCodec.contentHash(otherChunk));
        for (int len = 0; len < blob.length; len++) {
            byte[] cut = Arrays.copyOf(blob, len);
            assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(cut), "length " + len);
        }
        byte[] noneClaimed = blob.clone();
        int countAt = blob.length - (4 + 7 + 4 + 1) - (4 + 4) - (4 + 4 + 4 + 2) - 4;
        assertEquals(3, noneClaimed[countAt + 3]);
        noneClaimed[countAt + 3] = 0;
        assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(noneClaimed)).getMessage()
                .contains("chunk count 0"));
        byte[] twice = BlobCodec.encode(sample().toBuilder().attributeChunks(chunks,
                java.util.Arrays.asList("cart", null, "cart")).build());
        assertTrue(assertThrows(UnreadableBlobException.class, () -> BlobCodec.decode(twice)).getMessage()
                .contains("two attribute chunks named cart"));
        byte[] oneNamed = BlobCodec.encode(sample().toBuilder().attributeChunks(java.util.List.of(new byte[] {7}),
                java.util.List.of("history")).build());
        assertEquals(2, oneNamed[4], "a single chunk holding one named attribute is version 2");
        assertEquals(java.util.List.of("history"), BlobCodec.decode(oneNamed).attributeChunkNames());
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

    @Test
    void attributesHashOfMutatedBytesIsTheDecodedChunksHashOrARefusal() {
        byte[] blob = BlobCodec.encode(SessionData.builder("ABC-n1").note("a", new byte[] {1, 2, 3})
                .attributeChunks(java.util.List.of(new byte[] {1}, new byte[0], new byte[9]),
                        Arrays.asList("big", null, null)).build());
        Random random = new Random(7);
        int readable = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] m = (i % 2 == 0 ? blob : BlobCodec.encode(sample())).clone();
            m[random.nextInt(m.length)] = (byte) random.nextInt(256);
            SessionData decoded;
            try {
                decoded = BlobCodec.decode(m);
            } catch (UnreadableBlobException refused) {
                assertThrows(UnreadableBlobException.class, () -> BlobCodec.attributesHash(m),
                        "what decode refuses is refused");
                continue;
            }
            readable++;
            assertEquals(chainedHash(decoded.attributeChunks()), BlobCodec.attributesHash(m));
        }
        assertTrue(readable > 1_000, readable + " of the mutated blobs were still readable");
    }
}
