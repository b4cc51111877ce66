package io.msm.anchor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link AnchorBlob} on the bytes memcached-session-manager 2.3.2 writes: a vector its own TranscoderService produced
 * (id 0123456789ABCDEF0123456789ABCDEF-n1.jvm1, created 1700000000000, last accessed 1700000001000, this accessed
 * 1700000002000, 1800 s, not new, valid, backed up 1700000003000, no login, attribute user=alice: 188 bytes, header
 * 92), and every way such bytes can be cut or altered.
 */
class AnchorBlobTest {
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF-n1.jvm1";

    /** The old manager's attribute bytes for {user=alice}: a stream of Integer(1), "user", "alice". */
    static byte[] userAlice() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(Integer.valueOf(1));
            out.writeObject("user");
            out.writeObject("alice");
        }
        return bytes.toByteArray();
    }

    /** The 2.3.2 vector's header (92 bytes), as its TranscoderService wrote it. */
    static byte[] header() {
        return HexFormat.of().parseHex("0002005c" + "0000018bcfe56800" + "0000018bcfe56be8" + "00000708" + "3031"
                + "0000018bcfe56fd0" + "0000018bcfe573b8" + "0028"
                + HexFormat.of().formatHex(ID.getBytes(StandardCharsets.US_ASCII)) + "0000" + "0000" + "0000" + "0000");
    }

    static byte[] vector() throws IOException {
        byte[] h = header();
        byte[] a = userAlice();
        byte[] all = new byte[h.length + a.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(a, 0, all, h.length, a.length);
        return all;
    }

    @Test
    void theOldManagersVectorReadsBackField() throws IOException {
        byte[] data = vector();
        assertEquals(188, data.length, "as the 2.3.2 jar wrote it");
        AnchorBlob b = AnchorBlob.parse(data);
        assertEquals(2, b.version());
        assertEquals(1700000000000L, b.creationTime());
        assertEquals(1700000001000L, b.lastAccessedTime());
        assertEquals(1800, b.maxInactiveInterval());
        assertFalse(b.isNew());
        assertTrue(b.isValid());
        assertEquals(1700000002000L, b.thisAccessedTime());
        assertEquals(1700000003000L, b.lastBackupTime());
        assertEquals(ID, b.id());
        assertNull(b.authType());
        assertEquals(0, b.principal().length);
        assertEquals(0, b.savedRequest().length);
        assertEquals(0, b.savedPrincipal().length);
        assertArrayEquals(userAlice(), b.attributes());
    }

    @Test
    void aFormLoginCarriesItsAuthTypeAndPrincipalBytes() throws IOException {
        byte[] principal = new byte[289];
        new Random(1).nextBytes(principal);
        byte[] h = header();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(h, 0, 84); // up to the end of the id
        out.write(new byte[] {0, 4, 0x01, 0x21}); // FORM, 289 bytes of principal
        out.write(principal);
        out.write(new byte[] {0, 0, 0, 0}); // no saved request, no saved principal
        out.write(userAlice());
        byte[] data = out.toByteArray();
        data[2] = 0x01;
        data[3] = 0x7d; // header length 381, as the 2.3.2 vector with a FORM login
        AnchorBlob b = AnchorBlob.parse(data);
        assertEquals("FORM", b.authType());
        assertArrayEquals(principal, b.principal());
        assertArrayEquals(userAlice(), b.attributes());
    }

    @Test
    void version1HasNoSavedRequestBlocks() throws IOException {
        byte[] v2 = vector();
        byte[] v1 = new byte[v2.length - 4];
        System.arraycopy(v2, 0, v1, 0, 88); // header up to the principal length
        System.arraycopy(v2, 92, v1, 88, v2.length - 92);
        v1[1] = 1;
        v1[3] = 88;
        AnchorBlob b = AnchorBlob.parse(v1);
        assertEquals(1, b.version());
        assertArrayEquals(userAlice(), b.attributes());
    }

    @Test
    void whatIsNoSuchBlobIsRecognisedAsNone() throws IOException {
        assertFalse(AnchorBlob.looksLikeOne(null));
        assertFalse(AnchorBlob.looksLikeOne(new byte[] {1}), "the old manager's 1-byte 'ping' value");
        assertFalse(AnchorBlob.looksLikeOne("MSMX".getBytes(StandardCharsets.US_ASCII)), "msm's tombstone");
        byte[] v3 = vector();
        v3[1] = 3;
        assertFalse(AnchorBlob.looksLikeOne(v3), "an unknown version");
        assertTrue(AnchorBlob.looksLikeOne(vector()));
    }

    @Test
    void everyCutOfTheVectorIsRefusedCleanly() throws IOException {
        byte[] data = vector();
        for (int len = 0; len < 92; len++) {
            byte[] cut = java.util.Arrays.copyOf(data, len);
            assertThrows(AnchorFormatException.class, () -> AnchorBlob.parse(cut), "cut at " + len);
        }
    }

    @Test
    void lengthsThatPointOutsideOrDisagreeAreRefused() throws IOException {
        byte[] idTooLong = vector();
        idTooLong[43] = 0x7f; // id length 127: past the header length
        assertThrows(AnchorFormatException.class, () -> AnchorBlob.parse(idTooLong));
        byte[] negative = vector();
        negative[42] = (byte) 0x80; // id length -32768 as the old manager reads it
        assertThrows(AnchorFormatException.class, () -> AnchorBlob.parse(negative));
        byte[] headerMismatch = vector();
        headerMismatch[3] = 0x5e; // header 94, fields end at 92
        assertThrows(AnchorFormatException.class, () -> AnchorBlob.parse(headerMismatch));
        byte[] badFlag = vector();
        badFlag[24] = 7;
        assertThrows(AnchorFormatException.class, () -> AnchorBlob.parse(badFlag));
        byte[] badAuth = vector();
        badAuth[85] = 9;
        assertThrows(AnchorFormatException.class, () -> AnchorBlob.parse(badAuth));
    }

    /** Random alterations of the vector: parsed or refused with AnchorFormatException, never anything else. */
    @Test
    void randomAlterationsAreParsedOrRefusedNeverThrownOtherwise() throws IOException {
        byte[] data = vector();
        Random random = new Random(Long.getLong("msm.fuzz.seed", 42));
        for (int i = 0; i < 20_000; i++) {
            byte[] altered = data.clone();
            for (int k = random.nextInt(4) + 1; k > 0; k--) {
                altered[random.nextInt(92)] = (byte) random.nextInt(256);
            }
            try {
                AnchorBlob.parse(altered);
            } catch (AnchorFormatException expected) {
                // refused cleanly
            }
        }
    }

    @Test
    void whatMsmWritesIsTheOldManagersVectorByteForByte() throws IOException {
        io.msm.codec.SessionData data = io.msm.codec.SessionData.builder(ID)
                .times(1700000000000L, 1700000001000L, 1700000002000L).maxInactiveInterval(1800)
                .state(false, true).build();
        assertArrayEquals(vector(), AnchorBlob.encode(data, 1700000003000L, new byte[0], new byte[0], userAlice()),
                "as the 2.3.2 jar wrote the same session");
    }

    @Test
    void whatTheOldManagerCouldNotReadIsNotWritten() {
        io.msm.codec.SessionData spnego = io.msm.codec.SessionData.builder(ID).authType("SPNEGO").build();
        assertThrows(AnchorFormatException.class,
                () -> AnchorBlob.encode(spnego, 0, new byte[0], new byte[0], new byte[0]));
        io.msm.codec.SessionData form = io.msm.codec.SessionData.builder(ID).authType("FORM").build();
        AnchorFormatException big = assertThrows(AnchorFormatException.class,
                () -> AnchorBlob.encode(form, 0, new byte[Short.MAX_VALUE + 1], new byte[0], new byte[0]));
        assertTrue(big.getMessage().contains("32768"), big.getMessage());
        // the header as a whole is a 16-bit length too
        assertThrows(AnchorFormatException.class,
                () -> AnchorBlob.encode(form, 0, new byte[20_000], new byte[20_000], new byte[0]));
        byte[] fits = AnchorBlob.encode(form, 0, new byte[10], new byte[Short.MAX_VALUE - 200], new byte[3]);
        assertEquals(Short.MAX_VALUE - 200, AnchorBlob.parse(fits).savedRequest().length);
        assertEquals("FORM", AnchorBlob.parse(fits).authType());
    }
}
