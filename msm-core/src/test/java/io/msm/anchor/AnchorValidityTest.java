package io.msm.anchor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** {@link AnchorValidity} on the record memcached-session-manager 2.3.2 writes for 1800 s / 1700000001000 / ...2000. */
class AnchorValidityTest {
    private static final byte[] VECTOR = HexFormat.of().parseHex("00000708" + "0000018bcfe56be8" + "0000018bcfe56fd0");

    @Test
    void theOldManagersRecordReadsAndWritesBack() {
        AnchorValidity v = AnchorValidity.parse(VECTOR);
        assertEquals(1800, v.maxInactiveInterval());
        assertEquals(1700000001000L, v.lastAccessedTime());
        assertEquals(1700000002000L, v.thisAccessedTime());
        assertArrayEquals(VECTOR, v.encode());
        assertArrayEquals(VECTOR, new AnchorValidity(1800, 1700000001000L, 1700000002000L).encode());
    }

    @Test
    void validAsTheOldManagerDecides() {
        AnchorValidity v = AnchorValidity.parse(VECTOR);
        assertTrue(v.isValidAt(1700000002000L + 1_799_999));
        assertFalse(v.isValidAt(1700000002000L + 1_800_000));
        assertTrue(new AnchorValidity(0, 0, 0).isValidAt(Long.MAX_VALUE / 2), "<= 0 never expires");
        assertTrue(new AnchorValidity(-1, 5, 5).encode()[0] == (byte) 0xff, "a negative interval, two's complement");
        assertEquals(-1, AnchorValidity.parse(new AnchorValidity(-1, 5, 5).encode()).maxInactiveInterval());
    }

    @Test
    void anythingButTwentyBytesIsRefused() {
        assertThrows(AnchorFormatException.class, () -> AnchorValidity.parse(null));
        assertThrows(AnchorFormatException.class, () -> AnchorValidity.parse(new byte[19]));
        assertThrows(AnchorFormatException.class, () -> AnchorValidity.parse(new byte[21]));
        assertThrows(AnchorFormatException.class, () -> AnchorValidity.parse(new byte[] {1}));
    }
}
