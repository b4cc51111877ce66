package io.msm.serializer.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.test.transcoder.TranscoderContract;
import io.msm.spi.TranscoderException;
import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.Serializable;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Date;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaSerializationTranscoderTest {

    static SessionAttributesTranscoder transcoder(ClassLoader loader, boolean copyCollections) {
        return new JavaSerializationTranscoderFactory().createTranscoder(
                TranscoderContract.context(loader, copyCollections, List.of(), "/test"));
    }

    private final SessionAttributesTranscoder java = transcoder(getClass().getClassLoader(), false);

    /** A user object of the kind sessions hold. */
    static final class User implements Serializable {
        private static final long serialVersionUID = 1L;
        final String name;
        final List<String> roles;

        User(String name, List<String> roles) {
            this.name = name;
            this.roles = roles;
        }
    }

    @Test
    void roundTripsWhatSessionsHold() {
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("count", 42);
        in.put("name", "alice");
        in.put("date", LocalDate.of(2026, 11, 21));
        in.put("cart", new ArrayList<>(List.of("apple", "pear")));
        in.put("user", new User("alice", List.of("admin")));
        in.put("bytes", new byte[] {1, 2, 3});
        Map<String, Object> out = java.deserialize(java.serialize(in));
        assertEquals(in.keySet(), out.keySet());
        assertEquals(42, out.get("count"));
        assertEquals(LocalDate.of(2026, 11, 21), out.get("date"));
        assertEquals(List.of("apple", "pear"), out.get("cart"));
        assertEquals("alice", ((User) out.get("user")).name);
        assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) out.get("bytes"));
        assertEquals(Map.of(), java.deserialize(java.serialize(Map.of())));
    }

    @Test
    void unserializableAttributesAreLeftOutTheRestIsStored() {
        Map<String, Object> in = new HashMap<>();
        in.put("ok", "yes");
        in.put("thread", new Object());
        in.put("nested", new ArrayList<>(List.of(new Object())));
        Map<String, Object> out = java.deserialize(java.serialize(in));
        assertEquals(Map.of("ok", "yes"), out);
    }

    @Test
    void copyCollectionsSerializesAClone() {
        ArrayList<String> list = new ArrayList<>(List.of("a"));
        Object copy = ShallowCopy.of(list);
        assertNotSame(list, copy);
        assertEquals(list, copy);
        assertEquals(ArrayList.class, copy.getClass());
        Map<String, Object> out = transcoder(getClass().getClassLoader(), true)
                .deserialize(transcoder(getClass().getClassLoader(), true).serialize(Map.of("l", list)));
        assertEquals(List.of("a"), out.get("l"));
    }

    @Test
    void garbageAndTruncationGiveOnlyTranscoderException() {
        byte[] good = java.serialize(Map.of("user", new User("bob", List.of("x")), "n", 1));
        for (int len = 0; len < good.length; len++) {
            byte[] cut = Arrays.copyOf(good, len);
            assertThrows(TranscoderException.class, () -> java.deserialize(cut), "length " + len);
        }
        Random r = new Random(7);
        for (int i = 0; i < 5000; i++) {
            byte[] m = good.clone();
            m[r.nextInt(m.length)] = (byte) r.nextInt(256);
            try {
                java.deserialize(m);
            } catch (TranscoderException expected) {
                // the documented outcome
            }
        }
    }

    @Test
    void smallBlobDeclaringHugeArraysIsRefusedBeforeAllocating() {
        Object[] chain = new Object[1];
        Object[] link = chain;
        for (int i = 0; i < 90; i++) {
            Object[] next = new Object[1];
            link[0] = next;
            link = next;
        }
        byte[] bytes = java.serialize(Map.of("x", chain));
        // each nested array after the first is: TC_ARRAY TC_REFERENCE <handle:4> <length:4>; make every length 9M
        int patched = 0;
        for (int i = 0; i + 10 <= bytes.length; i++) {
            if (bytes[i] == 0x75 && bytes[i + 1] == 0x71 && bytes[i + 6] == 0 && bytes[i + 7] == 0 && bytes[i + 8] == 0
                    && bytes[i + 9] == 1) {
                bytes[i + 7] = (byte) 0x89; // 0x00895440 = 9,000,000 elements: under maxarray, 72 MB each
                bytes[i + 8] = (byte) 0x54;
                bytes[i + 9] = (byte) 0x40;
                patched++;
            }
        }
        assertEquals(90, patched, "the stream layout this test relies on");
        long start = System.nanoTime();
        TranscoderException e = assertThrows(TranscoderException.class, () -> java.deserialize(bytes));
        // the walk before reading finds arrays declaring more elements than the stream holds
        assertTrue(e.getMessage().contains("refused") && e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(System.nanoTime() - start < 1_000_000_000L, "refused at once, " + bytes.length + " bytes");
    }

    /** Compiles {@code source} (one public class) into a fresh class loader, as a webapp's WEB-INF/classes. */
    static ClassLoader webapp(Path dir, String className, String source) throws IOException {
        Path file = dir.resolve(className.replace('.', '/') + ".java");
        Files.createDirectories(file.getParent());
        Files.writeString(file, source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "-d", dir.toString(), file.toString()));
        return new URLClassLoader(new URL[] {dir.toUri().toURL()}, JavaSerializationTranscoderTest.class
                .getClassLoader());
    }

    @Test
    void classesAreResolvedThroughTheWebappLoader(@TempDir Path dir) throws Exception {
        ClassLoader webapp = webapp(dir, "com.shop.Cart",
                "package com.shop; public class Cart implements java.io.Serializable {"
                        + " public java.util.List<String> items = new java.util.ArrayList<>(); }");
        Object cart = webapp.loadClass("com.shop.Cart").getConstructor().newInstance();
        byte[] bytes = transcoder(webapp, false).serialize(Map.of("cart", cart));
        Object back = transcoder(webapp, false).deserialize(bytes).get("cart");
        assertEquals("com.shop.Cart", back.getClass().getName());
        assertEquals(webapp, back.getClass().getClassLoader());
        TranscoderException e = assertThrows(TranscoderException.class, () -> java.deserialize(bytes));
        assertTrue(e.getMessage().contains("com.shop.Cart"), e.getMessage());
    }

    @Test
    void knownGadgetClassesAreRefused(@TempDir Path dir) throws Exception {
        // a stand-in with the name of a real gadget-chain class (BeanShell's XThis; the gadget corpus of
        // JavaDeserializationGuardTest has them all)
        ClassLoader webapp = webapp(dir, "bsh.XThis",
                "package bsh; public class XThis implements java.io.Serializable { }");
        Object gadget = webapp.loadClass("bsh.XThis").getConstructor().newInstance();
        byte[] bytes = transcoder(webapp, false).serialize(Map.of("x", gadget));
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> transcoder(webapp, false).deserialize(bytes));
        assertTrue(e.getMessage().contains("bsh.XThis"), e.getMessage());
        assertTrue(e.getMessage().contains("REJECTED"), e.getMessage());
    }

    /** README: a class the configured pattern allows is read even if msm lists it. */
    @Test
    void aConfiguredAllowOverridesTheDenyList() throws Exception {
        Class<?> handler = Class.forName("sun.reflect.annotation.AnnotationInvocationHandler");
        DecisionCachingFilter defaults = new DecisionCachingFilter(
                ObjectInputFilter.Config.createFilter(JavaSerializationTranscoder.effectiveFilter(null)));
        DecisionCachingFilter allowing = new DecisionCachingFilter(
                ObjectInputFilter.Config.createFilter(JavaSerializationTranscoder.effectiveFilter("java.base/*;!*")));
        DecisionCachingFilter.Info info = new DecisionCachingFilter.Info(handler, -1, 1, 1, 1);
        assertEquals(ObjectInputFilter.Status.REJECTED, defaults.checkInput(info));
        assertEquals(ObjectInputFilter.Status.ALLOWED, allowing.checkInput(info));
    }

    @Test
    void theFilterDecidesEachClassOnceExactlyAsThePatternFilterDoes() {
        String pattern = JavaSerializationTranscoder.effectiveFilter(
                "maxdepth=5;maxrefs=50;maxarray=100;maxbytes=10000;!java.util.Date;java.util.*;!java.lang.Thread");
        ObjectInputFilter plain = ObjectInputFilter.Config.createFilter(pattern);
        DecisionCachingFilter cached = new DecisionCachingFilter(
                ObjectInputFilter.Config.createFilter(pattern));
        Class<?>[] classes = {null, String.class, Date.class, Date[][].class, int[].class, int.class, ArrayList.class,
            Object[].class, Thread.class, Thread[].class, javax.management.BadAttributeValueExpException.class,
            java.rmi.server.UnicastRemoteObject[].class};
        long[] lengths = {-1, 0, 100, 101};
        long[] depths = {0, 1, 5, 6};
        long[] references = {0, 50, 51, -1};
        long[] bytes = {0, 10_000, 10_001};
        int checked = 0;
        for (int pass = 0; pass < 2; pass++) { // the second pass decides from what the first one remembered
            for (Class<?> c : classes) {
                for (long length : lengths) {
                    for (long depth : depths) {
                        for (long refs : references) {
                            for (long b : bytes) {
                                ObjectInputFilter.FilterInfo info = new DecisionCachingFilter.Info(c,
                                        c != null && c.isArray() ? length : -1, depth, refs, b);
                                assertEquals(plain.checkInput(info), cached.checkInput(info), (c == null ? "no class"
                                        : c.getName()) + " length " + length + " depth " + depth + " refs " + refs
                                        + " bytes " + b);
                                checked++;
                            }
                        }
                    }
                }
            }
        }
        assertEquals(2 * classes.length * lengths.length * depths.length * references.length * bytes.length, checked);
        assertEquals(classes.length - 1, cached.decidedClasses());
        // the refused classes are refused, the others allowed or left undecided, as the patterns say
        assertEquals(ObjectInputFilter.Status.REJECTED, cached.checkInput(
                new DecisionCachingFilter.Info(Date[][].class, 3, 1, 1, 1)));
        assertEquals(ObjectInputFilter.Status.ALLOWED, cached.checkInput(
                new DecisionCachingFilter.Info(ArrayList.class, -1, 1, 1, 1)));
    }
}
