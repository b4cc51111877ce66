package io.msm.serializer.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.spi.TranscoderException;
import io.msm.test.transcoder.TranscoderContract;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The attributes of a session memcached-session-manager 2.x stored with its Java transcoder (an Integer count, then
 * name and value pairs in one stream) read by msm's Java serializer, under msm's guard.
 */
class AnchorAttributesTest {
    private final JavaSerializationTranscoder transcoder = (JavaSerializationTranscoder) new JavaSerializationTranscoderFactory()
            .createTranscoder(TranscoderContract.context(getClass().getClassLoader(), false, List.of(), "/anchor"));

    private static byte[] anchorStream(Object... countThenPairs) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            for (Object o : countThenPairs) {
                out.writeObject(o);
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void theOldManagersAttributesReadBackSharingTheirObjects() throws IOException {
        ArrayList<String> cart = new ArrayList<>(List.of("book", "pen"));
        Map<String, Object> read = transcoder.deserializeAnchorAttributes(
                anchorStream(3, "user", "alice", "cart", cart, "sameCart", cart));
        assertEquals(Map.of("user", "alice", "cart", cart, "sameCart", cart), read);
        assertTrue(read.get("cart") == read.get("sameCart"), "one object, as one stream has it");
    }

    @Test
    void fuzzedOldAttributeStreamsAndSavedRequestsAreRefusedCleanly() throws IOException {
        List<byte[]> corpus = List.of(anchorStream(1, "user", "alice"),
                anchorStream(3, "cart", new ArrayList<>(List.of("book", "pen")), "n", 42L, "when",
                        java.time.LocalDate.of(2020, 1, 1), "map", new java.util.HashMap<>(Map.of("k", "v"))));
        io.msm.test.fuzz.Fuzzer.Report r = io.msm.test.fuzz.Fuzzer.of(20261203L, corpus)
                .bounded(5_000, java.time.Duration.ofSeconds(8)).allocationLimit(64, 8 << 20)
                .run("deserializeAnchorAttributes", TranscoderException.class, transcoder::deserializeAnchorAttributes);
        System.out.println("deserializeAnchorAttributes fuzz: " + r);
        assertTrue(r.refused > 0, r.toString());
        // the saved FORM request's stream: eight objects (body, content type, headers, locales, 4 strings)
        java.util.HashMap<String, ArrayList<String>> headers = new java.util.HashMap<>();
        headers.put("accept", new ArrayList<>(List.of("text/html")));
        byte[] saved = anchorStream(null, "text/plain", headers, new ArrayList<>(List.of(java.util.Locale.US)), "GET",
                "x=1", "/shop/cart", "/shop/cart");
        io.msm.test.fuzz.Fuzzer.Report objects = io.msm.test.fuzz.Fuzzer.of(20261204L, List.of(saved))
                .bounded(5_000, java.time.Duration.ofSeconds(8)).allocationLimit(64, 8 << 20)
                .run("deserializeAnchorObjects", TranscoderException.class,
                        in -> transcoder.deserializeAnchorObjects(in, 8, "the saved FORM request"));
        System.out.println("deserializeAnchorObjects fuzz: " + objects);
        assertTrue(objects.refused > 0, objects.toString());
    }

    @Test
    void anAttributeTheOldManagerCouldNotSerializeIsLeftOut() throws IOException {
        Map<String, Object> read = transcoder.deserializeAnchorAttributes(
                anchorStream(2, "user", "alice", "socket", JavaSerializationTranscoder.ANCHOR_NOT_SERIALIZABLE));
        assertEquals(Map.of("user", "alice"), read);
    }

    @Test
    void msmsDenyListAppliesToTheOldFormatToo() throws IOException {
        // a class on msm's deny list, by name: refused before it is resolved
        byte[] gadget = anchorStream(1, "x", new javax.management.BadAttributeValueExpException(null));
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> transcoder.deserializeAnchorAttributes(gadget));
        assertTrue(e.getMessage().contains("refused"), e.getMessage());
    }

    @Test
    void msmsOwnFormatIsNoOldOneAndTheReverse() throws IOException {
        byte[] msms = transcoder.serialize(Map.of("user", "alice"));
        assertThrows(TranscoderException.class, () -> transcoder.deserializeAnchorAttributes(msms));
        assertThrows(TranscoderException.class, () -> transcoder.deserialize(anchorStream(1, "user", "alice")));
    }
}
