package io.msm.serializer.kryo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.test.transcoder.TranscoderContract;
import io.msm.spi.TranscoderException;
import java.io.Serializable;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kryo-specific behaviour beyond the shared contract (KryoTranscoderContractTest). */
class KryoTranscoderTest {

    static SessionAttributesTranscoder kryo(ClassLoader loader, boolean copyCollections, List<String> converters) {
        return new KryoTranscoderFactory().createTranscoder(
                TranscoderContract.context(loader, copyCollections, converters, "/kryo-test"));
    }

    private final SessionAttributesTranscoder kryo = kryo(getClass().getClassLoader(), false, List.of());

    static ClassLoader webapp(Path dir, Map<String, String> sources) throws Exception {
        List<String> args = new ArrayList<>(List.of("--release", "17", "-cp", System.getProperty("java.class.path"),
                "-d", dir.toString()));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path file = dir.resolve("src").resolve(e.getKey().replace('.', '/') + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue());
            args.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, args.toArray(new String[0])));
        return new URLClassLoader(new URL[] {dir.toUri().toURL()}, KryoTranscoderTest.class.getClassLoader());
    }

    // ------------------------------------------------------------------ redeploys

    @Test
    void redeployWithoutSerialVersionUidAddsRemovesReordersFieldsAndEnumConstants(@TempDir Path dir)
            throws Exception {
        ClassLoader v1 = webapp(dir.resolve("v1"), Map.of(
                "com.shop.Cart", "package com.shop; public class Cart { public String owner; public int count;"
                        + " public java.util.List<String> items = new java.util.ArrayList<>(); public Size size; }",
                "com.shop.Size", "package com.shop; public enum Size { S, M, L }",
                "com.shop.Line", "package com.shop; public record Line(String sku, int qty, long cents) {}"));
        ClassLoader v2 = webapp(dir.resolve("v2"), Map.of(
                "com.shop.Cart", "package com.shop; public class Cart { public Size size; public String coupon;"
                        + " public java.util.List<String> items; public String owner; }",
                "com.shop.Size", "package com.shop; public enum Size { XS, L, M, S }",
                "com.shop.Line", "package com.shop; public record Line(boolean gift, String sku, int qty) {}"));
        Class<?> cart1 = v1.loadClass("com.shop.Cart");
        Object cart = cart1.getConstructor().newInstance();
        cart1.getField("owner").set(cart, "ann");
        cart1.getField("count").setInt(cart, 3);
        ((List<?>) cart1.getField("items").get(cart)).clear();
        cart1.getField("items").set(cart, new ArrayList<>(List.of("tea")));
        cart1.getField("size").set(cart, enumConstant(v1, "com.shop.Size", "M"));
        Object line = v1.loadClass("com.shop.Line").getConstructor(String.class, int.class, long.class)
                .newInstance("sku-1", 2, 350L);
        byte[] stored = kryo(v1, false, List.of()).serialize(Map.of("cart", cart, "line", line));

        Map<String, Object> back = kryo(v2, false, List.of()).deserialize(stored);
        Object c = back.get("cart");
        Class<?> cart2 = c.getClass();
        assertSame(v2, cart2.getClassLoader());
        assertEquals("ann", cart2.getField("owner").get(c));
        assertEquals(List.of("tea"), cart2.getField("items").get(c));
        assertNull(cart2.getField("coupon").get(c));
        assertSame(enumConstant(v2, "com.shop.Size", "M"), cart2.getField("size").get(c), "enums by name");
        Object l = back.get("line");
        assertEquals("Line[gift=false, sku=sku-1, qty=2]", l.toString());
    }

    @Test
    void recordComponentWhoseTypeChangedFailsLoudlyNamingTheRecord(@TempDir Path dir) throws Exception {
        ClassLoader v1 = webapp(dir.resolve("v1"), Map.of("com.shop.Price",
                "package com.shop; public record Price(String amount) {}"));
        ClassLoader v2 = webapp(dir.resolve("v2"), Map.of("com.shop.Price",
                "package com.shop; public record Price(java.math.BigDecimal amount) {}"));
        Object p = v1.loadClass("com.shop.Price").getConstructor(String.class).newInstance("1.50");
        byte[] stored = kryo(v1, false, List.of()).serialize(Map.of("p", p));
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> kryo(v2, false, List.of()).deserialize(stored));
        assertTrue(e.getMessage().contains("com.shop.Price"), e.getMessage());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumConstant(ClassLoader loader, String type, String name) throws Exception {
        return Enum.valueOf((Class) loader.loadClass(type), name);
    }

    // ------------------------------------------------------------------ unreadable input

    @Test
    void aJavaSerializedBlobIsRefusedWithTheReason() {
        byte[] java = {(byte) 0xAC, (byte) 0xED, 0, 5, 0x77, 4, 0, 0, 0, 0};
        TranscoderException e = assertThrows(TranscoderException.class, () -> kryo.deserialize(java));
        assertTrue(e.getMessage().contains("0xAC"), e.getMessage());
    }

    @Test
    void hugeDeclaredCountsAreRefusedBeforeAllocating() {
        byte[] good = kryo.serialize(Map.of("l", new ArrayList<>(List.of(1, 2, 3))));
        // ArrayList's registration (id 60, written as 62), a reference marker, then the element count 3
        int at = -1;
        for (int i = 0; i + 2 < good.length; i++) {
            if (good[i] == 62 && good[i + 2] == 3) {
                at = i + 2;
                break;
            }
        }
        assertTrue(at > 0, "the layout this test relies on");
        byte[] hostile = new byte[good.length + 4];
        System.arraycopy(good, 0, hostile, 0, at);
        byte[] huge = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07}; // varint 2147483647
        System.arraycopy(huge, 0, hostile, at, huge.length);
        System.arraycopy(good, at + 1, hostile, at + huge.length, good.length - at - 1);
        long start = System.nanoTime();
        TranscoderException e = assertThrows(TranscoderException.class, () -> kryo.deserialize(hostile));
        assertTrue(e.getMessage().contains("2147483647"), e.getMessage());
        assertTrue(System.nanoTime() - start < 500_000_000L);
    }

    @Test
    void hugeDeclaredArrayAndStringLengthsAreRefusedBeforeAllocating() {
        byte[] good = kryo.serialize(Map.of("b", new byte[] {1, 2, 3}));
        int at = indexOfSequence(good, new byte[] {42, 1, 4}); // byte[]'s registration (id 40), new reference, 3 + 1
        assertTrue(at > 0, "the layout this test relies on");
        byte[] hostile = new byte[good.length + 4];
        System.arraycopy(good, 0, hostile, 0, at + 2);
        byte[] huge = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07};
        System.arraycopy(huge, 0, hostile, at + 2, huge.length);
        System.arraycopy(good, at + 3, hostile, at + 2 + huge.length, good.length - at - 3);
        TranscoderException e = assertThrows(TranscoderException.class, () -> kryo.deserialize(hostile));
        assertTrue(e.getMessage().contains("declared"), e.getMessage());

        // an attribute name declaring about a billion UTF-8 characters, in a 12-byte blob
        byte[] name = {KryoTranscoder.MAGIC, KryoTranscoder.FORMAT_VERSION, 1, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
            (byte) 0xFF, 0x07, (byte) 0xC3, (byte) 0xA9, 0, 0};
        long start = System.nanoTime();
        e = assertThrows(TranscoderException.class, () -> kryo.deserialize(name));
        assertTrue(e.getMessage().contains("declared"), e.getMessage());
        assertTrue(System.nanoTime() - start < 500_000_000L);
    }

    private static int indexOfSequence(byte[] data, byte[] seq) {
        outer:
        for (int i = 0; i + seq.length <= data.length; i++) {
            for (int j = 0; j < seq.length; j++) {
                if (data[i + j] != seq[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ------------------------------------------------------------------ deny list and registration

    @Test
    void deniedClassesAreRefusedOnReadWithTheirNameAndLeftOutOnWrite(@TempDir Path dir) throws Exception {
        // a stand-in with the name of a real gadget-chain class (BeanShell's XThis; the gadget corpus of
        // KryoDeserializationGuardTest has them all)
        ClassLoader webapp = webapp(dir, Map.of("bsh.XThis",
                "package bsh; public class XThis { public String method = \"exec\"; }"));
        Object gadget = webapp.loadClass("bsh.XThis").getConstructor().newInstance();
        SessionAttributesTranscoder t = kryo(webapp, false, List.of());
        // writing: the gadget is left out, the rest is stored
        assertEquals(Map.of("ok", 1), t.deserialize(t.serialize(Map.of("ok", 1, "x", gadget))));
        // reading bytes planted by someone without the deny list
        ClassPolicy none = new ClassPolicy(List.of());
        SessionAttributesTranscoder permissive = new KryoTranscoder("planted", () -> KryoTranscoderFactory.newKryo(
                webapp, none, new JavaSerializer(none), false, List.of(), "planted"));
        byte[] planted = permissive.serialize(Map.of("x", List.of(gadget)));
        TranscoderException e = assertThrows(TranscoderException.class, () -> t.deserialize(planted));
        assertTrue(e.getMessage().contains("bsh.XThis"), e.getMessage());
        assertTrue(e.getMessage().contains("deny list"), e.getMessage());
    }

    /** README: a class the configured deserializationFilter allows is read even if msm lists it. */
    @Test
    void aConfiguredAllowOverridesTheDenyList() throws Exception {
        Class<?> handler = Class.forName("sun.reflect.annotation.AnnotationInvocationHandler");
        assertEquals("sun.reflect.**",
                new ClassPolicy(KryoTranscoderFactory.DEFAULT_DENIED_CLASSES).denyingPattern(handler));
        assertEquals(null, new ClassPolicy(KryoTranscoderFactory.DEFAULT_DENIED_CLASSES, "java.base/*;!*")
                .denyingPattern(handler));
    }

    @Test
    void customizerRegistersSerializersAndDeniesClasses(@TempDir Path dir) throws Exception {
        ClassLoader webapp = webapp(dir, Map.of(
                "com.shop.Money", "package com.shop; public final class Money {"
                        + " public final String text; public Money(String text) { this.text = text; }"
                        + " public boolean equals(Object o) { return o instanceof Money && ((Money) o).text.equals(text); }"
                        + " public int hashCode() { return text.hashCode(); } }",
                "com.shop.secret.Key", "package com.shop.secret; public class Key { public String k = \"s\"; }",
                "com.shop.ShopCustomizer", "package com.shop;"
                        + " import com.esotericsoftware.kryo.*; import com.esotericsoftware.kryo.io.*;"
                        + " public class ShopCustomizer implements io.msm.serializer.kryo.KryoCustomizer {"
                        + "  public void customize(Kryo kryo) {"
                        + "   kryo.register(Money.class, new Serializer<Money>() {"
                        + "     public void write(Kryo k, Output out, Money m) { out.writeString(\"$\" + m.text); }"
                        + "     public Money read(Kryo k, Input in, Class<? extends Money> t) {"
                        + "       return new Money(in.readString().substring(1)); } },"
                        + "     io.msm.serializer.kryo.KryoTranscoderFactory.FIRST_APPLICATION_REGISTRATION_ID); }"
                        + "  public java.util.Collection<String> deniedClasses() {"
                        + "   return java.util.List.of(\"com.shop.secret.*\"); } }"));
        SessionAttributesTranscoder t = kryo(webapp, false, List.of("com.shop.ShopCustomizer"));
        Object money = webapp.loadClass("com.shop.Money").getConstructor(String.class).newInstance("9.99");
        byte[] bytes = t.serialize(Map.of("m", money));
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("$9.9"), "the customizer's serializer wrote it");
        assertFalse(text.contains("com.shop.Money"), "registered: no class name in the blob");
        assertEquals(money, t.deserialize(bytes).get("m"));
        Object key = webapp.loadClass("com.shop.secret.Key").getConstructor().newInstance();
        assertEquals(Map.of(), t.deserialize(t.serialize(Map.of("k", key))), "denied by the customizer");

        TranscoderException missing = assertThrows(TranscoderException.class,
                () -> kryo(webapp, false, List.of("com.shop.Nope")));
        assertTrue(missing.getMessage().contains("com.shop.Nope"), missing.getMessage());
        TranscoderException wrongType = assertThrows(TranscoderException.class,
                () -> kryo(webapp, false, List.of("com.shop.Money")));
        assertTrue(wrongType.getMessage().contains("KryoCustomizer"), wrongType.getMessage());
    }

    /** With registration required (set by a customizer), an unregistered class is neither written nor read. */
    public static final class StrictCustomizer implements KryoCustomizer {
        @Override
        public void customize(com.esotericsoftware.kryo.Kryo kryo) {
            kryo.setRegistrationRequired(true);
        }
    }

    static final class Unregistered implements Serializable {
        private static final long serialVersionUID = 1L;
        String v = "x";
    }

    @Test
    void registrationCanBeRequired() {
        SessionAttributesTranscoder strict = kryo(getClass().getClassLoader(), false,
                List.of(StrictCustomizer.class.getName()));
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("list", new ArrayList<>(List.of("a", 1)));
        in.put("u", new Unregistered());
        assertEquals(Map.of("list", List.of("a", 1)), strict.deserialize(strict.serialize(in)));
        byte[] open = kryo.serialize(Map.of("u", new Unregistered()));
        TranscoderException e = assertThrows(TranscoderException.class, () -> strict.deserialize(open));
        assertTrue(e.getMessage().contains(Unregistered.class.getName()), e.getMessage());
    }

    // ------------------------------------------------------------------ what cannot be stored fails loudly

    static class Cart extends ArrayList<String> {
        private static final long serialVersionUID = 1L;
        String owner = "ann";
    }

    static class Bag extends HashMap<String, Integer> {
        private static final long serialVersionUID = 1L;
    }

    @Test
    void whatKryoCannotStoreFaithfullyIsLeftOutOrGoesThroughJavaSerialization() {
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("ok", "yes");
        in.put("lambda", (Supplier<String>) () -> "x");
        in.put("thread", new Thread(() -> { }));
        in.put("weak", new WeakHashMap<>(Map.of("k", "v")));
        Cart cart = new Cart();
        cart.add("tea");
        cart.owner = "bob";
        in.put("cart", cart);
        Bag bag = new Bag();
        bag.put("k", 1);
        in.put("bag", bag);
        Map<String, Object> out = kryo.deserialize(kryo.serialize(in));
        assertEquals(List.of("ok", "cart", "bag"), new ArrayList<>(out.keySet()));
        Cart c = (Cart) out.get("cart");
        assertEquals(List.of("tea"), c);
        assertEquals("bob", c.owner, "Java serialization kept the subclass field");
        assertEquals(Bag.class, out.get("bag").getClass());
        assertEquals(bag, out.get("bag"));
    }

    @Test
    void serializableLambdaRoundTrips() {
        Supplier<String> s = (Supplier<String> & Serializable) () -> "from a lambda";
        @SuppressWarnings("unchecked")
        Supplier<String> back = (Supplier<String>) kryo.deserialize(kryo.serialize(Map.of("s", s))).get("s");
        assertEquals("from a lambda", back.get());
    }

    // ------------------------------------------------------------------ copyCollectionsForSerialization

    /**
     * A writer changing collections tens of thousands of times a second (the contract test's writer: ~1,000; Java's clone-based
     * copy gives up at this rate): with the option, no backup fails, even once. (A writer in a loop with no pause at
     * all defeats any copy of an unsynchronized collection: use a synchronized or concurrent one.)
     */
    @Test
    void copyCollectionsNeverFailsUnderATightWriter() throws Exception {
        SessionAttributesTranscoder t = kryo(getClass().getClassLoader(), true, List.of());
        List<String> list = new ArrayList<>();
        Map<String, Integer> map = new HashMap<>();
        for (int i = 0; i < 100; i++) {
            list.add("i" + i);
            map.put("k" + i, i);
        }
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) {
                map.put("n" + (i % 50), i);
                map.remove("n" + ((i + 25) % 50));
                list.add("n");
                list.remove(list.size() - 1);
                java.util.concurrent.locks.LockSupport.parkNanos(20_000);
            }
        });
        writer.start();
        try {
            for (int round = 0; round < 2000; round++) {
                Map<String, Object> out = t.deserialize(t.serialize(Map.of("list", list, "map", map)));
                assertTrue(((List<?>) out.get("list")).size() >= 100);
                assertEquals(99, ((Map<?, ?>) out.get("map")).get("k99"));
            }
        } finally {
            stop.set(true);
            writer.join();
        }
    }

    /**
     * Inputs the fuzz test found (kept as files): a class's field-name count of two billion, a BitSet of a billion
     * longs. Each is refused with the documented exception after allocating little.
     */
    @Test
    void fuzzFindingsAreRefusedCheaply() throws Exception {
        SessionAttributesTranscoder t = new KryoTranscoderFactory().createTranscoder(TranscoderContract.context(
                getClass().getClassLoader(), false, List.of(), "/fuzz"));
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        for (String name : List.of("field-name-count.bin", "bitset-length.bin")) {
            byte[] input;
            try (java.io.InputStream in = getClass().getResourceAsStream("/fuzz-regressions/" + name)) {
                input = in.readAllBytes();
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            TranscoderException e = assertThrows(TranscoderException.class, () -> t.deserialize(input), name);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 2 << 20, name + " allocated " + allocated + " bytes");
            assertTrue(e.getMessage().contains("declared"), name + ": " + e.getMessage());
        }
    }
}
