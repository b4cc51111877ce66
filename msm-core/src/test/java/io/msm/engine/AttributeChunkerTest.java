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
        return new AttributeChunker(transcoder, cap, (name, size) -> tooLarge.add(name + "=" + size));
    }

    private Map<String, Object> read(AttributeChunker.Serialized s) {
        Map<String, Object> all = new LinkedHashMap<>();
        for (byte[] chunk : s.chunks) {
            Map<String, Object> part = transcoder.deserialize(chunk);
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
        other.layout = AttributeChunker.layoutOf(data, read(first));
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
        other.layout = AttributeChunker.layoutOf(data, read);
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
        assertNull(AttributeChunker.layoutOf(whole, Map.of("user", "alice")), "stored in one chunk: none");
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

    private static Map<String, Object> stringsOf(Map<String, Object> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v instanceof StringBuilder ? v.toString() : v));
        return out;
    }
}
