package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class JavaStreamScanTest {

    private static byte[] serialize(Object... objects) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeInt(objects.length);
            for (Object o : objects) {
                out.writeObject(o);
            }
        }
        return bytes.toByteArray();
    }

    private static long scan(byte[] data) {
        return JavaStreamScan.scan(data, 0, data.length, new HashWork(data.length));
    }

    /** Sets nested {@code depth} deep, each holding the same two sets of the next level. */
    static Set<Object> hashBomb(int depth) {
        Set<Object> root = new HashSet<>();
        Set<Object> s1 = root;
        Set<Object> s2 = new HashSet<>();
        for (int i = 0; i < depth; i++) {
            Set<Object> t1 = new HashSet<>();
            Set<Object> t2 = new HashSet<>();
            t1.add("foo");
            s1.add(t1);
            s1.add(t2);
            s2.add(t1);
            s2.add(t2);
            s1 = t1;
            s2 = t2;
        }
        return root;
    }

    @Test
    void ordinarySessionsPassAndWeighWhatTheirCollectionsHold() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>(Map.of("a", List.of(1, 2, 3), "b", new TreeMap<>(Map.of("x", 1))));
        Map<Object, Object> keys = new HashMap<>();
        keys.put(List.of("k", "l"), "v");
        keys.put(new HashSet<>(Set.of(1, 2)), new ConcurrentHashMap<>(Map.of("c", 3)));
        Hashtable<String, Object> table = new Hashtable<>(Map.of("t", new ArrayList<>(List.of("u"))));
        byte[] data = serialize("name", m, keys, table, LocalDate.of(2020, 1, 2), new int[] {1, 2},
                new String[] {"s", null}, Thread.State.NEW, String.class, URI.create("https://example.org"),
                Set.of("q", "r"), Map.of("y", "z"), new java.util.Date(0), new StringBuilder("sb"));
        long weight = scan(data);
        assertEquals(1, HashWork.count(weight), "the last object, a StringBuilder, weighs 1");
        HashSet<Object> three = new HashSet<>(List.of(new ArrayList<>(List.of("a", "b"))));
        assertEquals(4, HashWork.count(JavaStreamScan.scan(serialize(three), 0, serialize(three).length,
                new HashWork(0))), "the set, its list and the list's two strings");
    }

    @Test
    void hashBombIsRefusedBeforeAnythingIsRead() throws Exception {
        byte[] bomb = serialize(hashBomb(50));
        RefusedInputException e = assertThrows(RefusedInputException.class, () -> scan(bomb));
        assertTrue(e.getMessage().contains("hashing the session"), e.getMessage());
        scan(serialize(hashBomb(8))); // a few hundred objects hashed: allowed
    }

    /**
     * ObjectInputStream decodes class names as modified UTF-8 and accepts overlong forms: a name spelled that way
     * still names java.util.HashSet for the walk, so the bomb is still counted.
     */
    @Test
    void classNamesAreDecodedAsObjectInputStreamDecodesThem() throws Exception {
        byte[] plain = serialize(hashBomb(40));
        byte[] name = "java.util.HashSet".getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int replaced = 0;
        for (int i = 0; i < plain.length; i++) {
            if (i + 2 + name.length <= plain.length && plain[i] == 0 && plain[i + 1] == name.length
                    && new String(plain, i + 2, name.length, StandardCharsets.ISO_8859_1).equals("java.util.HashSet")) {
                out.write(0);
                out.write(name.length + 1);
                out.write('j');
                out.write(0xC1); // 'a' as an overlong two-byte sequence
                out.write(0xA1);
                out.write(name, 2, name.length - 2);
                i += 1 + name.length;
                replaced++;
            } else {
                out.write(plain[i]);
            }
        }
        assertEquals(1, replaced);
        byte[] disguised = out.toByteArray();
        assertThrows(RefusedInputException.class, () -> scan(disguised));
        byte[] small = serialize(hashBomb(3));
        byte[] smallDisguised = new String(small, StandardCharsets.ISO_8859_1)
                .replace("\u0000\u0011java.util.HashSet", "\u0000\u0012j\u00c1\u00a1va.util.HashSet")
                .getBytes(StandardCharsets.ISO_8859_1);
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(smallDisguised))) {
            in.readInt();
            assertEquals(HashSet.class, in.readObject().getClass(), "the JDK reads the overlong name as HashSet");
        }
    }

    @Test
    void aUrlAsAHashKeyIsRefusedAndElsewhereAllowed() throws Exception {
        java.net.URL url = URI.create("http://localhost/x").toURL();
        scan(serialize(url, List.of(url), new HashMap<>(Map.of("u", url))));
        Map<Object, Object> byUrl = new HashMap<>();
        byUrl.put(url, 1);
        RefusedInputException e = assertThrows(RefusedInputException.class, () -> scan(serialize(byUrl)));
        assertTrue(e.getMessage().contains("URL"), e.getMessage());
        Set<Object> listsOfUrls = new HashSet<>();
        listsOfUrls.add(new ArrayList<>(List.of(url)));
        assertThrows(RefusedInputException.class, () -> scan(serialize(listsOfUrls)));
    }

    @Test
    void whatTheWalkCannotVouchForIsRefused() throws Exception {
        byte[] good = serialize("x", List.of(1));
        for (int len = good.length - 20; len < good.length; len++) { // cut inside the last object
            byte[] cut = java.util.Arrays.copyOf(good, len);
            assertThrows(RefusedInputException.class, () -> scan(cut), "length " + len);
        }
        assertThrows(RefusedInputException.class, () -> scan(new byte[] {1, 2, 3, 4}), "not a stream");
        assertThrows(RefusedInputException.class, () -> scan(new byte[] {(byte) 0xAC, (byte) 0xED, 0, 5, 0x79}), "a reset");
    }
}
