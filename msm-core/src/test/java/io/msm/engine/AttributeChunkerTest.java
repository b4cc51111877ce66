package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.testing.TestTranscoderFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AttributeChunkerTest {

    /** The test transcoder, counting what it is given to serialize. */
    private static final class Counting implements SessionAttributesTranscoder {
        final SessionAttributesTranscoder real = new TestTranscoderFactory().createTranscoder(null);
        final List<Set<String>> calls = new ArrayList<>();

        @Override
        public byte[] serialize(Map<String, Object> attributes) {
            calls.add(Set.copyOf(attributes.keySet()));
            return real.serialize(attributes);
        }

        @Override
        public Map<String, Object> deserialize(byte[] data) {
            return real.deserialize(data);
        }

        boolean serialized(String name) {
            return calls.stream().anyMatch(c -> c.contains(name));
        }
    }

    private final Counting transcoder = new Counting();
    private final List<String> tooLarge = new ArrayList<>();
    private final SessionState st = new SessionState();

    private AttributeChunker chunker(int cap) {
        return new AttributeChunker(transcoder, cap, (name, size) -> tooLarge.add(name + "=" + size), false);
    }

    /** Non-sticky: smaller sessions are written split. */
    private AttributeChunker splitting(int cap) {
        return new AttributeChunker(transcoder, cap, (name, size) -> tooLarge.add(name + "=" + size), true);
    }

    /** A smaller session holding both kinds of values: mutable (a user object, a cart) and immutable ones. */
    private static Map<String, Object> mixed() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("user", new StringBuilder("alice"));
        a.put("token", "t0");
        a.put("cart", new StringBuilder("a"));
        a.put("counter", 1);
        return a;
    }

    private Map<String, Object> read(AttributeChunker.Serialized s) {
        Map<String, Object> all = new LinkedHashMap<>();
        for (int i = 0; i < s.chunks.size(); i++) {
            byte[] chunk = s.chunks.get(i);
            Map<String, Object> part = i == s.plainChunk ? io.msm.codec.PlainValues.decode(chunk)
                    : transcoder.deserialize(chunk);
            part.keySet().forEach(k -> assertTrue(!all.containsKey(k), k + " in two chunks"));
            all.putAll(part);
        }
        return all;
    }

    private static Map<String, Object> large() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("history", new StringBuilder("h".repeat(20_000)));
        a.put("cart", new StringBuilder("c".repeat(3_000)));
        a.put("user", "alice");
        a.put("counter", 1);
        return a;
    }

    @Test
    void manySmallAttributesStayInOneChunkWithoutBeingSortedAgain() {
        AttributeChunker c = chunker(0);
        Map<String, Object> a = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            a.put("small" + i, "s".repeat(1_000));
        }
        AttributeChunker.Serialized first = c.serialize(st, a, null);
        assertEquals(java.util.Collections.singletonList(null), first.names, "one shared chunk");
        assertNotNull(st.layout, "and remembered as sorted");
        transcoder.calls.clear();
        c.serialize(st, a, Set.of());
        assertEquals(1, transcoder.calls.size(), "not sorted again");
        io.msm.codec.SessionData data = io.msm.codec.SessionData.builder("X-n1")
                .attributeChunks(first.chunks, first.names).build();
        SessionState other = new SessionState();
        other.layout = AttributeChunker.layoutOf(data, new IdleSessionCache.Version(0, 0, read(first)));
        transcoder.calls.clear();
        c.serialize(other, a, Set.of());
        assertEquals(1, transcoder.calls.size(), "read on another Tomcat: not sorted again");
    }

    @Test
    void aSmallSessionIsOneChunkOnEveryWrite() {
        AttributeChunker c = chunker(0);
        Map<String, Object> a = Map.of("user", "alice", "counter", 1);
        for (int i = 0; i < 3; i++) {
            AttributeChunker.Serialized s = c.serialize(st, a, Set.of());
            assertEquals(1, s.chunks.size());
            assertEquals(a, read(s));
            assertNull(st.layout);
        }
    }

    @Test
    void aLargeSessionReusesTheBytesOfLargeAttributesNoRequestTouched() {
        AttributeChunker c = chunker(0);
        Map<String, Object> a = large();
        AttributeChunker.Serialized sorted = c.serialize(st, a, null);
        assertEquals(3, sorted.chunks.size(), "history and cart alone, the small ones together");
        assertEquals(java.util.Arrays.asList("history", "cart", null), sorted.names);
        assertEquals(Map.of("history", "h".repeat(20_000), "cart", "c".repeat(3_000), "user", "alice", "counter", 1),
                stringsOf(read(sorted)));
        assertEquals(Set.of("history", "cart"), st.layout.pieces.keySet());

        transcoder.calls.clear();
        a.put("counter", 2);
        AttributeChunker.Serialized next = c.serialize(st, a, Set.of("counter"));
        assertEquals(List.of(Set.of("user", "counter")), transcoder.calls, "only the small attributes serialized");
        assertSame(sorted.chunks.get(0), next.chunks.get(0));
        assertSame(sorted.chunks.get(1), next.chunks.get(1));
        assertEquals(2, read(next).get("counter"));
    }

    @Test
    void anAttributeAccessedReplacedOrRemovedIsSerializedAgain() {
        AttributeChunker c = chunker(0);
        Map<String, Object> a = large();
        c.serialize(st, a, null);
        c.serialize(st, a, null);

        ((StringBuilder) a.get("cart")).append("X"); // changed in place by a request that read it
        transcoder.calls.clear();
        AttributeChunker.Serialized s = c.serialize(st, a, Set.of("cart"));
        assertTrue(transcoder.serialized("cart"));
        assertTrue(!transcoder.serialized("history"));
        assertEquals("c".repeat(3_000) + "X", read(s).get("cart").toString());

        a.put("history", new StringBuilder("new")); // another object, even if no request said so
        s = c.serialize(st, a, Set.of());
        assertEquals("new", read(s).get("history").toString());
        assertEquals(Set.of("cart"), st.layout.pieces.keySet(), "history is small now: it joined the shared chunk");

        a.remove("cart");
        s = c.serialize(st, a, Set.of());
        assertEquals(Set.of("history", "user", "counter"), read(s).keySet());
        assertNull(st.layout, "nothing large left: written whole again");
    }

    @Test
    void anyAttributeMayHaveChangedMeansNothingIsReused() {
        AttributeChunker c = chunker(0);
        Map<String, Object> a = large();
        c.serialize(st, a, null);
        c.serialize(st, a, null);
        transcoder.calls.clear();
        c.serialize(st, a, null);
        assertTrue(transcoder.serialized("history"));
        assertTrue(transcoder.serialized("cart"));
    }

    @Test
    void attributesOverMaxAttributeSizeAreLeftOutInEitherLayout() {
        AttributeChunker c = chunker(10_000);
        Map<String, Object> a = large();
        AttributeChunker.Serialized whole = c.serialize(st, a, null);
        assertEquals(Set.of("cart", "user", "counter"), read(whole).keySet());
        assertEquals(Set.of("cart", "user", "counter"), whole.attributes.keySet());
        assertTrue(tooLarge.get(0).startsWith("history="), tooLarge.toString());
        assertNull(st.layout, "what is stored is small");

        a.put("history2", new StringBuilder("g".repeat(9_000)));
        a.put("history3", new StringBuilder("f".repeat(9_000)));
        c.serialize(st, a, null);
        assertNotNull(st.layout);
        AttributeChunker.Serialized chunked = c.serialize(st, a, null);
        assertEquals(Set.of("cart", "user", "counter", "history2", "history3"), read(chunked).keySet());
        assertEquals(read(chunked).keySet(), chunked.attributes.keySet());
    }

    @Test
    void aFailedSerializationForgetsTheLayout() {
        AttributeChunker c = chunker(0);
        Map<String, Object> a = large();
        c.serialize(st, a, null);
        c.serialize(st, a, null);
        a.put("bad", new Object()); // the test transcoder cannot serialize it
        assertThrows(RuntimeException.class, () -> c.serialize(st, a, Set.of("bad")));
        assertNull(st.layout, "the next write serializes the session whole");
    }

    @Test
    void aSessionReadFromChunksReusesThemAtItsFirstWrite() {
        AttributeChunker c = chunker(0);
        Map<String, Object> a = large();
        c.serialize(st, a, null);
        AttributeChunker.Serialized written = c.serialize(st, a, null);
        io.msm.codec.SessionData data = io.msm.codec.SessionData.builder("X-n1")
                .attributeChunks(written.chunks, written.names).build();
        Map<String, Object> read = read(written); // what another Tomcat deserializes

        SessionState other = new SessionState();
        other.layout = AttributeChunker.layoutOf(data, new IdleSessionCache.Version(0, 0, read));
        other.recordAccessedNames();
        assertEquals(Set.of("history", "cart"), other.layout.pieces.keySet());
        other.attributeAccessed("counter");
        read.put("counter", 2);
        transcoder.calls.clear();
        AttributeChunker.Serialized next = c.serialize(other, read, other.takeAccessedNames(true));
        assertEquals(List.of(Set.of("user", "counter")), transcoder.calls, "the small ones, together, and no more");
        assertSame(written.chunks.get(0), next.chunks.get(0));
        assertEquals(2, read(next).get("counter"));

        io.msm.codec.SessionData whole = io.msm.codec.SessionData.builder("X-n1").attributes(new byte[0]).build();
        assertNull(AttributeChunker.layoutOf(whole, new IdleSessionCache.Version(0, 0, Map.of("user", "alice"))),
                "stored in one chunk: none");
    }

    @Test
    void accessedNamesAreKeptWhileARequestIsRunning() {
        assertNull(st.takeAccessedNames(true), "a new session: anything may have changed");
        st.requestStarted();
        st.attributeAccessed("cart");
        assertEquals(Set.of("cart"), st.takeAccessedNames(true));
        assertEquals(Set.of("cart"), st.takeAccessedNames(true), "its request may still change it");
        st.requestEnded(0);
        assertEquals(Set.of("cart"), st.takeAccessedNames(true));
        assertEquals(Set.of(), st.takeAccessedNames(true));
        st.attributeAccessed();
        assertNull(st.takeAccessedNames(false));
        st.attributeAccessed("user");
        assertNull(st.takeAccessedNames(true), "not recorded: the last write did not ask for names");
        assertEquals(Set.of(), st.takeAccessedNames(true));
    }

    @Test
    void splitASmallSessionSerializesOnlyItsImmutableValuesWhileTheOthersAreUntouched() {
        AttributeChunker c = splitting(0);
        Map<String, Object> a = mixed();
        AttributeChunker.Serialized first = c.serialize(st, a, null);
        assertEquals(java.util.Arrays.asList(null, null), first.names, "two shared chunks");
        assertEquals(1, first.plainChunk, "the plain values in msm's own form");
        assertEquals(List.of(Set.of("user", "cart")), transcoder.calls, "the transcoder gets the mutable values");
        assertEquals(stringsOf(a), stringsOf(read(first)));
        assertEquals(a, first.attributes);

        for (int i = 2; i <= 3; i++) {
            transcoder.calls.clear();
            a.put("counter", i);
            a.put("token", "t" + i);
            AttributeChunker.Serialized next = c.serialize(st, a, Set.of("counter", "token"));
            assertEquals(List.of(), transcoder.calls, "write " + i + ": plain values alone changed");
            assertSame(first.chunks.get(0), next.chunks.get(0), "the mutable values' bytes of the first write");
            assertEquals(stringsOf(a), stringsOf(read(next)));
        }
    }

    /**
     * Immutable values that are not plain (a date, a decimal) stay the transcoder's, in a chunk of their own beside the
     * plain ones: serialized on every write, as all immutable values were before plain chunks.
     */
    @Test
    void splitOtherImmutableValuesGoToTheTranscoderBesideThePlainChunk() {
        List<Set<String>> calls = new ArrayList<>();
        SessionAttributesTranscoder serializing = new SessionAttributesTranscoder() {
            @Override
            public byte[] serialize(Map<String, Object> attributes) {
                calls.add(Set.copyOf(attributes.keySet()));
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
                    out.writeObject(new LinkedHashMap<>(attributes));
                } catch (java.io.IOException e) {
                    throw new AssertionError(e);
                }
                return bytes.toByteArray();
            }

            @Override
            @SuppressWarnings("unchecked")
            public Map<String, Object> deserialize(byte[] data) {
                try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                        new java.io.ByteArrayInputStream(data))) {
                    return (Map<String, Object>) in.readObject();
                } catch (java.io.IOException | ClassNotFoundException e) {
                    throw new AssertionError(e);
                }
            }
        };
        AttributeChunker c = new AttributeChunker(serializing, 0, (name, size) -> tooLarge.add(name), true);
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("cart", new ArrayList<>(List.of("sku-1")));
        a.put("total", new java.math.BigDecimal("12.50"));
        a.put("day", java.time.LocalDate.of(2026, 12, 6));
        a.put("token", "t0");
        a.put("counter", 1);
        AttributeChunker.Serialized first = c.serialize(st, a, null);
        assertEquals(3, first.chunks.size());
        assertEquals(2, first.plainChunk);
        assertEquals(List.of(Set.of("cart"), Set.of("total", "day")), calls);
        assertEquals(Map.of("token", "t0", "counter", 1), io.msm.codec.PlainValues.decode(first.chunks.get(2)));

        calls.clear();
        a.put("counter", 2);
        AttributeChunker.Serialized next = c.serialize(st, a, Set.of("counter"));
        assertEquals(List.of(Set.of("total", "day")), calls, "the mutable values' bytes reused");
        assertSame(first.chunks.get(0), next.chunks.get(0));
        Map<String, Object> read = new LinkedHashMap<>();
        for (int i = 0; i < next.chunks.size(); i++) {
            read.putAll(i == next.plainChunk ? io.msm.codec.PlainValues.decode(next.chunks.get(i))
                    : serializing.deserialize(next.chunks.get(i)));
        }
        assertEquals(a, read);

        Map<String, Object> noPlain = new LinkedHashMap<>(a);
        noPlain.remove("token");
        noPlain.remove("counter");
        AttributeChunker.Serialized without = c.serialize(new SessionState(), noPlain, null);
        assertEquals(2, without.chunks.size());
        assertEquals(-1, without.plainChunk, "no plain values: no plain chunk");
    }

    @Test
    void splitAMutableValueAccessedReplacedOrRemovedIsSerializedAgain() {
        AttributeChunker c = splitting(0);
        Map<String, Object> a = mixed();
        c.serialize(st, a, null);

        StringBuilder cart = (StringBuilder) a.get("cart");
        cart.append("b"); // changed in place by a request that read it
        transcoder.calls.clear();
        AttributeChunker.Serialized s = c.serialize(st, a, Set.of("cart"));
        assertTrue(transcoder.serialized("cart"));
        assertEquals("ab", read(s).get("cart").toString());

        a.put("user", new StringBuilder("bob")); // another object, even if no request said so
        s = c.serialize(st, a, Set.of());
        assertEquals("bob", read(s).get("user").toString());

        a.put("cart2", new StringBuilder("c")); // a new one, not said either
        s = c.serialize(st, a, Set.of());
        assertEquals("c", read(s).get("cart2").toString());

        a.remove("cart");
        s = c.serialize(st, a, Set.of());
        assertEquals(Set.of("user", "token", "counter", "cart2"), read(s).keySet());

        cart.append("lost?"); // no longer in the session: a removed attribute does not come back
        transcoder.calls.clear();
        s = c.serialize(st, a, null); // anything may have changed
        assertTrue(transcoder.serialized("user"));
        assertEquals(Set.of("user", "token", "counter", "cart2"), read(s).keySet());
    }

    @Test
    void splitNeedsBothKindsOfValuesAndASmallSession() {
        AttributeChunker c = splitting(0);
        for (Map<String, Object> a : List.of(Map.<String, Object>of("user", "alice", "counter", 1),
                Map.<String, Object>of("cart", new StringBuilder("a")))) {
            AttributeChunker.Serialized s = c.serialize(st, a, Set.of());
            assertEquals(1, s.chunks.size(), a.toString());
            assertNull(s.names);
            assertNull(st.layout);
        }
        Map<String, Object> large = large();
        AttributeChunker.Serialized sorted = c.serialize(st, large, null);
        assertEquals(java.util.Arrays.asList("history", "cart", null), sorted.names, "large: chunked as before");
        assertNull(st.layout.mutable);
        large.put("counter", 2);
        transcoder.calls.clear();
        AttributeChunker.Serialized next = c.serialize(st, large, Set.of("counter"));
        assertEquals(List.of(Set.of("user", "counter")), transcoder.calls);
        assertSame(sorted.chunks.get(0), next.chunks.get(0));
    }

    @Test
    void splitAChunkOverMaxAttributeSizeIsLeftOutAsWhenWrittenWhole() {
        AttributeChunker c = splitting(1_000);
        Map<String, Object> a = mixed();
        a.put("history", new StringBuilder("h".repeat(2_000)));
        AttributeChunker.Serialized s = c.serialize(st, a, null);
        assertEquals(Set.of("user", "token", "cart", "counter"), read(s).keySet());
        assertEquals(read(s).keySet(), s.attributes.keySet());
        assertTrue(tooLarge.get(0).startsWith("history="), tooLarge.toString());
    }

    /**
     * maxAttributeSize measures a plain value in msm's own form (non-sticky) whether the session is written split or
     * whole: whether a value is stored does not depend on the other attributes. A string of 400 characters that are
     * not Latin-1 is 800 bytes in msm's form and 1,200 in the test serializer's (UTF-8).
     */
    @Test
    void splitAPlainValueIsMeasuredInMsmsFormWhateverElseTheSessionHolds() {
        for (int chars : new int[] {400, 600}) {
            String note = "\u6771".repeat(chars);
            boolean stored = chars == 400;
            Map<String, Object> withMutable = mixed();
            withMutable.put("note", note);
            Map<String, Object> plainOnly = new LinkedHashMap<>();
            plainOnly.put("token", "t0");
            plainOnly.put("note", note);
            for (Map<String, Object> a : List.of(withMutable, plainOnly)) {
                tooLarge.clear();
                AttributeChunker.Serialized s = splitting(1_000).serialize(new SessionState(), a, null);
                assertEquals(stored, read(s).containsKey("note"), chars + " characters, " + a.keySet());
                assertEquals(stored ? List.of() : List.of("note=" + (4 + 1 + 4 + 4 + 1 + 4 + 2 * chars)), tooLarge,
                        a.keySet().toString());
            }
        }
    }

    @Test
    void splitASessionReadOnAnotherTomcatReusesTheChunkThatHeldItsMutableValues() {
        AttributeChunker c = splitting(0);
        AttributeChunker.Serialized written = c.serialize(st, mixed(), null);
        io.msm.codec.SessionData data = io.msm.codec.SessionData.builder("X-n1")
                .attributeChunks(written.chunks, written.names, written.plainChunk).build();
        Map<String, Object> read = read(written); // what the other Tomcat deserializes, chunk by chunk
        List<Set<String>> held = List.of(Set.of("user", "cart"), Set.of("token", "counter"));

        SessionState other = new SessionState();
        other.layout = AttributeChunker.layoutOf(data, new IdleSessionCache.Version(0, 0, read, held));
        other.recordAccessedNames();
        other.attributeAccessed("counter");
        read.put("counter", 2);
        transcoder.calls.clear();
        AttributeChunker.Serialized next = c.serialize(other, read, other.takeAccessedNames(true));
        assertEquals(List.of(), transcoder.calls);
        assertSame(written.chunks.get(0), next.chunks.get(0));
        assertEquals(2, read(next).get("counter"));

        for (List<Set<String>> unclear : java.util.Arrays.asList(null, List.of(Set.of("user", "cart", "token"),
                Set.of("token", "counter")))) {
            assertNull(AttributeChunker.layoutOf(data, new IdleSessionCache.Version(0, 0, read, unclear)),
                    "not known what each chunk held, or a name in two: " + unclear);
        }
        assertNull(AttributeChunker.layoutOf(data, new IdleSessionCache.Version(0, 0, read,
                List.of(Set.of("user", "token"), Set.of("cart", "counter")))), "no chunk of mutable values alone");
    }

    @Test
    void anUnwatchedAttributeIsSerializedOnEveryWriteInEitherLayout() {
        String principal = "io.msm.tomcat.userPrincipal";
        AttributeChunker c = splitting(0);
        Map<String, Object> a = mixed();
        a.put(principal, new StringBuilder("p"));
        c.serialize(st, a, null, Set.of(principal));
        ((StringBuilder) a.get(principal)).append("q"); // changed through the request, not getAttribute
        transcoder.calls.clear();
        AttributeChunker.Serialized s = c.serialize(st, a, Set.of(), Set.of(principal));
        assertEquals(List.of(Set.of("user", "cart", principal)), transcoder.calls,
                "with the mutable values, which it may share objects with");
        assertEquals("pq", read(s).get(principal).toString());

        Map<String, Object> large = large();
        large.put(principal, new StringBuilder("p".repeat(3_000)));
        SessionState other = new SessionState();
        c.serialize(other, large, null, Set.of(principal));
        assertTrue(other.layout.pieces.containsKey(principal), "large: a chunk of its own");
        ((StringBuilder) large.get(principal)).append("q");
        s = c.serialize(other, large, Set.of(), Set.of(principal));
        assertTrue(read(s).get(principal).toString().endsWith("pq"), "not its last chunk again");
    }

    private static Map<String, Object> stringsOf(Map<String, Object> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v instanceof StringBuilder ? v.toString() : v));
        return out;
    }
}
