package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Expected values printed by the reference implementation: {@code xxhsum -H64} 0.8.1 (Debian package xxhash). */
class XxHash64Test {

    @Test
    void matchesTheReferenceImplementation() {
        assertEquals(0xef46db3751d8e999L, XxHash64.hash(new byte[0], 0, 0, 0));
        assertEquals(0x44bc2cf5ad770999L, XxHash64.hash("abc".getBytes(StandardCharsets.US_ASCII), 0, 3, 0));
        byte[] hundred = new byte[100];
        for (int i = 0; i < 100; i++) {
            hundred[i] = (byte) i;
        }
        assertEquals(0x6ac1e58032166597L, XxHash64.hash(hundred, 0, 100, 0));
        byte[] odd = new byte[37];
        for (int i = 0; i < 37; i++) {
            odd[i] = (byte) (i * 7 % 256);
        }
        assertEquals(0x0f67f332bdd5b35bL, XxHash64.hash(odd, 0, 37, 0));
    }

    @Test
    void hashesTheGivenRangeOnly() {
        byte[] padded = new byte[105];
        for (int i = 0; i < 100; i++) {
            padded[i + 3] = (byte) i;
        }
        assertEquals(0x6ac1e58032166597L, XxHash64.hash(padded, 3, 100, 0));
    }
}
