package io.msm.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.fuzz.Fuzzer;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PlainValuesTest {

    private static Map<String, Object> every() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("locale", "de_DE");
        m.put("empty", "");
        m.put("latin1", "Grüße, café");
        m.put("utf16", "東京 \uD83D\uDE00"); // a surrogate pair
        m.put("lone", "a\uD800b"); // an unpaired surrogate, which UTF-8 would turn into '?'
        m.put("int", Integer.MIN_VALUE);
        m.put("long", Long.MAX_VALUE);
        m.put("yes", true);
        m.put("no", false);
        m.put("short", (short) -2);
        m.put("byte", (byte) -1);
        m.put("char", '\uFFFF');
        m.put("double", -0.0d);
        m.put("nan", Double.NaN);
        m.put("float", 1.5f);
        m.put("名前", 7); // a name that is not Latin-1
        m.put("", "an empty name");
        return m;
    }

    @Test
    void everyPlainValueReadsBackEqualAndOfItsExactClassInOrder() {
        Map<String, Object> m = every();
        Map<String, Object> read = PlainValues.decode(PlainValues.encode(m));
        assertEquals(new ArrayList<>(m.keySet()), new ArrayList<>(read.keySet()));
        m.forEach((k, v) -> {
            assertEquals(v, read.get(k), k);
            assertEquals(v.getClass(), read.get(k).getClass(), k);
        });
        assertEquals(Map.of(), PlainValues.decode(PlainValues.encode(Map.of())));
    }

    @Test
    void holdsTheExactClassesListedAndNothingElse() {
        for (Object v : every().values()) {
            assertTrue(PlainValues.canHold(v), v.getClass().getName());
        }
        for (Object v : Arrays.asList(null, new BigDecimal("1.5"), LocalDate.of(2026, 12, 6), new AtomicInteger(1),
                new StringBuilder("x"), new int[] {1}, Duration.ZERO)) {
            assertFalse(PlainValues.canHold(v), String.valueOf(v));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total", new BigDecimal("1.5"));
        assertThrows(IllegalArgumentException.class, () -> PlainValues.encode(m));
    }

    @Test
    void encodesTheHeldValuesOfAMapInItsOrderAndChecksTheirCount() {
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("cart", new StringBuilder("sku-1"));
        attributes.put("token", "t0");
        attributes.put("total", new BigDecimal("1.5"));
        attributes.put("counter", 3);
        Map<String, Object> plain = new LinkedHashMap<>();
        plain.put("token", "t0");
        plain.put("counter", 3);
        assertEquals(Arrays.toString(PlainValues.encode(plain)),
                Arrays.toString(PlainValues.encodeHeld(attributes, 2)));
        for (int wrong : new int[] {1, 3, 4}) {
            assertThrows(IllegalArgumentException.class, () -> PlainValues.encodeHeld(attributes, wrong));
        }
    }

    @Test
    void latin1StringsTakeOneByteACharacter() {
        assertEquals(4 + 5 + 1 + 4 + 5 + 5, PlainValues.encode(Map.of("token", "abcde")).length);
    }

    @Test
    void refusesEveryTruncationAndTrailingBytes() {
        byte[] bytes = PlainValues.encode(every());
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            assertThrows(UnreadableBlobException.class, () -> PlainValues.decode(cut), "cut at " + n);
        }
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertTrue(assertThrows(UnreadableBlobException.class, () -> PlainValues.decode(longer)).getMessage()
                .contains("unexpected bytes"));
    }

    @Test
    void refusesBadTagsCountsLengthsAndNames() {
        // count 1, name "a" (Latin-1), then the value's tag
        byte[] head = {0, 0, 0, 1, 1, 0, 0, 0, 1, 'a'};
        assertRefused(concat(head, new byte[] {11, 0}), "unknown tag 11");
        assertRefused(concat(head, new byte[] {5, 2}), "boolean 2");
        assertRefused(concat(head, new byte[] {2, 0, 0, 0, 3, 0, 'x', 0}), "bad length 3"); // odd UTF-16 length
        assertRefused(concat(head, new byte[] {1, (byte) 0x80, 0, 0, 0}), "bad length");
        assertRefused(new byte[] {0, 0, 0, 1, 3, 0, 0, 0, 1, 'a', 3, 0, 0, 0, 0}, "not a string's");
        assertRefused(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, "count");
        assertRefused(new byte[] {0, 0, 0, 9, 1, 0, 0, 0, 0, 5, 1}, "count 9");
        byte[] twice = {0, 0, 0, 2, 1, 0, 0, 0, 1, 'a', 5, 1, 1, 0, 0, 0, 1, 'a', 5, 0};
        assertRefused(twice, "plain value 1 has the name of an earlier one");
        // a name in a message would let whoever writes to memcached write log lines
        byte[] named = {0, 0, 0, 1, 1, 0, 0, 0, 3, 'e', 'v', 'l', 11};
        String message = assertThrows(UnreadableBlobException.class, () -> PlainValues.decode(named)).getMessage();
        assertTrue(message.contains("plain value 0: unknown tag 11") && !message.contains("evl"), message);
    }

    /** Random and mutated bytes: only {@link UnreadableBlobException}, bounded allocation, no hang. */
    @Test
    void fuzzed() {
        Map<String, Object> small = new LinkedHashMap<>();
        small.put("csrfToken", "5a1b2c3d4e5f6071");
        small.put("counter", 3);
        Fuzzer.Report r = Fuzzer.of(20261206L, List.of(PlainValues.encode(every()), PlainValues.encode(small)))
                .bounded(20_000, Duration.ofSeconds(10)).allocationLimit(16, 1 << 20)
                .run("PlainValues.decode", UnreadableBlobException.class, PlainValues::decode);
        assertTrue(r.refused > 0, r.toString());
    }

    private static void assertRefused(byte[] bytes, String reason) {
        String message = assertThrows(UnreadableBlobException.class, () -> PlainValues.decode(bytes)).getMessage();
        assertTrue(message.contains(reason), message);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
