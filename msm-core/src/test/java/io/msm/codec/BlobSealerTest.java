package io.msm.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.SessionProtection;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BlobSealerTest {
    private static final byte[] KEY_A = key(1);
    private static final byte[] KEY_B = key(2);

    private static byte[] key(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return k;
    }

    private static byte[] blob(String attributes) {
        return BlobCodec.encode(SessionData.builder("ABC-n1.tc1").times(1, 0, 0)
                .attributes(attributes.getBytes(StandardCharsets.UTF_8)).build());
    }

    private static BlobSealer sealer(SessionProtection mode, int compressAt, byte[]... keys) {
        return BlobSealer.create(mode, List.of(keys), compressAt);
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Test
    void withoutProtectionOrCompressionTheBlobIsStoredAsItIs() {
        byte[] b = blob("hello");
        BlobSealer none = sealer(SessionProtection.NONE, 0);
        assertSame(b, none.seal(b));
        assertSame(b, none.open(b));
    }

    @Test
    void everyModeRoundTripsWithAndWithoutCompression() {
        byte[] small = blob("small session");
        byte[] large = blob("x".repeat(20_000));
        for (SessionProtection mode : SessionProtection.values()) {
            BlobSealer s = sealer(mode, 1000, KEY_A);
            for (byte[] b : List.of(small, large)) {
                byte[] sealed = s.seal(b);
                assertArrayEquals(b, s.open(sealed), mode + " " + b.length);
                assertEquals(BlobCodec.contentHash(b), BlobCodec.contentHash(s.open(sealed)));
            }
            assertTrue(s.seal(large).length < 1000, mode + ": a repetitive blob compresses");
        }
    }

    @Test
    void incompressibleBlobIsNotStoredCompressed() {
        byte[] noise = new byte[5000];
        new Random(7).nextBytes(noise);
        byte[] b = BlobCodec.encode(SessionData.builder("ABC-n1.tc1").attributes(noise).build());
        byte[] sealed = sealer(SessionProtection.NONE, 100).seal(b);
        assertSame(b, sealed);
    }

    @Test
    void encryptionHidesTheContentAndUsesAFreshNonceEveryTime() {
        byte[] b = blob("credit card 4111-1111");
        BlobSealer s = sealer(SessionProtection.ENCRYPT, 0, KEY_A);
        byte[] one = s.seal(b);
        byte[] two = s.seal(b);
        assertFalse(contains(one, "credit card".getBytes(StandardCharsets.UTF_8)));
        assertFalse(contains(one, "ABC-n1.tc1".getBytes(StandardCharsets.UTF_8)), "the session id is encrypted too");
        assertFalse(Arrays.equals(one, two));
        assertArrayEquals(b, s.open(two));
    }

    @Test
    void rotationReadsWithEveryKeyAndWritesWithTheFirst() {
        byte[] b = blob("rotating");
        for (SessionProtection mode : List.of(SessionProtection.SIGN, SessionProtection.ENCRYPT)) {
            byte[] byOld = sealer(mode, 0, KEY_A).seal(b);
            BlobSealer rotated = sealer(mode, 0, KEY_B, KEY_A);
            assertArrayEquals(b, rotated.open(byOld), mode + ": the previous key still reads");
            byte[] byNew = rotated.seal(b);
            assertArrayEquals(b, sealer(mode, 0, KEY_B).open(byNew));
            UntrustedBlobException e = assertThrows(UntrustedBlobException.class,
                    () -> sealer(mode, 0, KEY_A).open(byNew), mode + ": a manager without the new key refuses it");
            assertTrue(e.getMessage().contains("key this manager does not have"), e.getMessage());
        }
    }

    @Test
    void protectedManagerRefusesPlainBlobsAndOtherKeys() {
        byte[] plain = blob("planted");
        for (SessionProtection mode : List.of(SessionProtection.SIGN, SessionProtection.ENCRYPT)) {
            BlobSealer s = sealer(mode, 0, KEY_A);
            assertThrows(UntrustedBlobException.class, () -> s.open(plain), mode + ": unsigned");
            assertThrows(UntrustedBlobException.class, () -> s.open(sealer(SessionProtection.NONE, 10).seal(
                    blob("y".repeat(500)))), mode + ": compressed but unsigned");
            assertThrows(UntrustedBlobException.class, () -> s.open("garbage".getBytes(StandardCharsets.UTF_8)));
            assertThrows(UntrustedBlobException.class, () -> s.open(null));
            assertThrows(UntrustedBlobException.class, () -> s.open(sealer(mode, 0, KEY_B).seal(plain)));
        }
        // switching between sign and encrypt keeps the sessions: both are authenticated with the same keys
        byte[] signed = sealer(SessionProtection.SIGN, 0, KEY_A).seal(plain);
        assertArrayEquals(plain, sealer(SessionProtection.ENCRYPT, 0, KEY_A).open(signed));
        byte[] encrypted = sealer(SessionProtection.ENCRYPT, 0, KEY_A).seal(plain);
        assertArrayEquals(plain, sealer(SessionProtection.SIGN, 0, KEY_A).open(encrypted));
        // a manager without keys cannot check a signature, so it does not pretend to
        assertThrows(UnreadableBlobException.class, () -> sealer(SessionProtection.NONE, 0).open(signed));
    }

    @Test
    void everyAlteredByteIsDetected() {
        byte[] b = blob("z".repeat(3000));
        for (SessionProtection mode : List.of(SessionProtection.SIGN, SessionProtection.ENCRYPT)) {
            for (int compressAt : new int[] {0, 100}) {
                BlobSealer s = sealer(mode, compressAt, KEY_A);
                byte[] sealed = s.seal(b);
                for (int i = 0; i < sealed.length; i++) {
                    byte[] altered = sealed.clone();
                    altered[i] ^= 0x20;
                    int at = i;
                    UnreadableBlobException e = assertThrows(UnreadableBlobException.class, () -> s.open(altered),
                            mode + " byte " + at);
                    if (i >= 6) { // past magic/version/flags every change is an authentication failure
                        assertTrue(e instanceof UntrustedBlobException, mode + " byte " + at + ": " + e.getMessage());
                    }
                }
                for (int len = 0; len < sealed.length; len++) {
                    byte[] cut = Arrays.copyOf(sealed, len);
                    assertThrows(UnreadableBlobException.class, () -> s.open(cut));
                }
            }
        }
    }

    @Test
    void compressedSizeIsBoundedBeforeAnythingIsAllocated() {
        BlobSealer s = sealer(SessionProtection.NONE, 10);
        byte[] sealed = s.seal(blob("q".repeat(1000)));
        // the declared inflated size sits right after the 6-byte header
        byte[] huge = sealed.clone();
        huge[6] = 0x7f;
        assertTrue(assertThrows(UnreadableBlobException.class, () -> s.open(huge)).getMessage()
                .contains("declared inflated size"));
        byte[] smaller = sealed.clone();
        smaller[9]--;
        assertThrows(UnreadableBlobException.class, () -> s.open(smaller));
        byte[] corrupt = sealed.clone();
        corrupt[12] ^= 0x55;
        assertThrows(UnreadableBlobException.class, () -> s.open(corrupt));
    }

    @Test
    void keysMustBeLongEnough() {
        assertThrows(IllegalArgumentException.class, () -> BlobSealer.create(SessionProtection.SIGN,
                List.of(new byte[16]), 0));
        assertThrows(IllegalArgumentException.class, () -> BlobSealer.create(SessionProtection.SIGN, List.of(), 0));
    }
}
