package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.anchor.AnchorBlob;
import io.msm.anchor.AnchorFormatException;
import io.msm.codec.SessionData;
import io.msm.serializer.java.JavaSerializationTranscoder;
import io.msm.spi.TranscoderException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import org.apache.tomcat.util.buf.ByteChunk;
import org.junit.jupiter.api.Test;

class LegacySessionConverterTest {
    private final LegacySessionConverter converter = new LegacySessionConverter(
            JavaSerializationTranscoder.forLegacySessions(getClass().getClassLoader(), "[test] ", false, null));

    /**
     * A saved FORM request whose body is a ByteChunk without a buffer, or whose start lies beyond its buffer (the old
     * manager never writes such a body; whoever can write to memcached can): refused as a malformed blob, as the
     * converter promises, not an unchecked exception out of the request's session lookup.
     */
    @Test
    void aSavedRequestWithAHostileBodyIsRefusedAsMalformed() throws IOException {
        ByteChunk noBuffer = new ByteChunk();
        ByteChunk startBeyond = new ByteChunk();
        startBeyond.setBytes(new byte[3], 9, 3); // start 9, end 12 over a 3-byte buffer
        for (ByteChunk body : new ByteChunk[] {noBuffer, startBeyond}) {
            byte[] blob = AnchorBlob.encode(SessionData.builder("ABC-n1").times(1, 1, 1)
                    .maxInactiveInterval(1800).build(), 2, new byte[0], savedRequest(body),
                    serialize(Integer.valueOf(0)));
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> converter.convert(AnchorBlob.parse(blob), SessionData.builder("ABC-n1")));
            assertTrue(e instanceof AnchorFormatException || e instanceof TranscoderException, e.toString());
        }
    }

    private static byte[] savedRequest(Object body) throws IOException {
        HashMap<String, ArrayList<String>> headers = new HashMap<>();
        return serialize(body, "text/plain", headers, new ArrayList<>(), "POST", null, "/shop/cart", "/shop/cart");
    }

    private static byte[] attributes() throws IOException {
        return serialize(Integer.valueOf(0));
    }

    private static byte[] serialize(Object... objects) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            for (Object o : objects) {
                out.writeObject(o);
            }
        }
        return bytes.toByteArray();
    }

    /** A principal stream holding a class msm's deserialization filter refuses: refused, the class named. */
    @Test
    void aPrincipalStreamWithAGadgetClassIsRefused() throws IOException {
        byte[] principal = serialize(new javax.management.BadAttributeValueExpException("not read"));
        byte[] blob = AnchorBlob.encode(SessionData.builder("ABC-n1").times(1, 1, 1)
                .maxInactiveInterval(1800).authType("BASIC").build(), 2, principal, new byte[0],
                serialize(Integer.valueOf(0)));
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> converter.convert(AnchorBlob.parse(blob), SessionData.builder("ABC-n1")));
        assertTrue(e.getMessage().contains("javax.management.BadAttributeValueExpException"), e.getMessage());
    }

    /** A saved request whose header map holds a non-string value (or name): refused as a malformed blob. */
    @Test
    void aSavedRequestWhoseHeadersHoldNonStringsIsRefused() throws IOException {
        HashMap<Object, Object> valueNotString = new HashMap<>();
        valueNotString.put("accept", new ArrayList<>(java.util.List.of(Integer.valueOf(1))));
        HashMap<Object, Object> nameNotString = new HashMap<>();
        nameNotString.put(Integer.valueOf(1), new ArrayList<>(java.util.List.of("x")));
        HashMap<Object, Object> valuesNotACollection = new HashMap<>();
        valuesNotACollection.put("accept", "text/html");
        for (HashMap<Object, Object> headers : java.util.List.of(valueNotString, nameNotString, valuesNotACollection)) {
            byte[] saved = serialize(null, "text/plain", headers, new ArrayList<>(), "GET", null, "/a", "/a");
            byte[] blob = AnchorBlob.encode(SessionData.builder("ABC-n1").times(1, 1, 1)
                    .maxInactiveInterval(1800).build(), 2, new byte[0], saved,
                    serialize(Integer.valueOf(0)));
            assertThrows(AnchorFormatException.class,
                    () -> converter.convert(AnchorBlob.parse(blob), SessionData.builder("ABC-n1")), headers.toString());
        }
    }
}
