package io.msm.serializer.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.spi.SessionAttributesTranscoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import java.lang.ref.WeakReference;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReusableObjectOutputTest {

    private static byte[] fresh(ReusableObjectOutput.Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            body.writeTo(out);
        }
        return bytes.toByteArray();
    }

    private static ReusableObjectOutput.Body attributes(Map<String, Object> attributes) {
        return out -> {
            out.writeInt(attributes.size());
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                out.writeObject(e.getKey());
                out.writeObject(e.getValue());
            }
        };
    }

    private static Map<String, Object> session(int items) {
        List<Object> cart = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            cart.add(new ArrayList<>(List.of("SKU-" + i, new BigDecimal(i).movePointLeft(2), new Date(1_790_000_000L))));
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("cart", cart);
        s.put("same cart again", cart); // a back reference: its handle must be that of a new stream
        s.put("counter", items);
        return s;
    }

    /** One stream writes graphs of different sizes and classes in turn: each write equals a new stream's bytes. */
    @Test
    void eachWriteIsByteForByteWhatANewStreamWrites() throws IOException {
        ReusableObjectOutput stream = new ReusableObjectOutput();
        for (int items : new int[] {20, 0, 300, 1, 20}) {
            Map<String, Object> s = session(items);
            assertArrayEquals(fresh(attributes(s)), stream.write(attributes(s)), items + " items");
            assertTrue(stream.reusable());
        }
        ReusableObjectOutput.Body anchorStyle = out -> {
            out.writeObject(Integer.valueOf(1));
            out.writeObject("user");
            out.writeObject(new Date(0));
        };
        assertArrayEquals(fresh(anchorStyle), stream.write(anchorStyle));
    }

    /** A stream kept for the next write does not keep the last session's objects alive (its handles are reset). */
    @Test
    void aKeptStreamHoldsNoObjectItWrote() throws IOException {
        ReusableObjectOutput stream = new ReusableObjectOutput();
        Map<String, Object> s = session(5);
        WeakReference<Object> cart = new WeakReference<>(s.get("cart"));
        stream.write(attributes(s));
        s = null;
        for (int i = 0; i < 50 && cart.get() != null; i++) {
            System.gc();
        }
        assertNull(cart.get(), "the stream still references the session's cart");
        assertTrue(stream.reusable());
        Map<String, Object> next = session(2);
        assertArrayEquals(fresh(attributes(next)), stream.write(attributes(next)));
    }

    @Test
    void aStreamWhoseWriteFailedIsNotUsedAgain() throws IOException {
        ReusableObjectOutput stream = new ReusableObjectOutput();
        Map<String, Object> bad = new LinkedHashMap<>(session(3));
        bad.put("thread", new Object());
        assertThrows(NotSerializableException.class, () -> stream.write(attributes(bad)));
        assertFalse(stream.reusable());
        assertThrows(IllegalStateException.class, () -> stream.write(attributes(session(1))));
    }

    @Test
    void aStreamThatGrewLargeIsNotKept() throws IOException {
        ReusableObjectOutput stream = new ReusableObjectOutput();
        byte[] big = new byte[ReusableObjectOutput.MAX_KEPT_BYTES + 1];
        byte[] written = stream.write(out -> out.writeObject(big));
        assertEquals(fresh(out -> out.writeObject(big)).length, written.length);
        assertFalse(stream.reusable());
    }

    /** Through the transcoder: a write that left an attribute out does not spoil the next one's stream. */
    @Test
    void theTranscoderWritesTheSameBytesBeforeAndAfterAnAttributeItLeftOut() {
        SessionAttributesTranscoder java = JavaSerializationTranscoderTest.transcoder(getClass().getClassLoader(), false);
        Map<String, Object> s = session(20);
        byte[] first = java.serialize(s);
        Map<String, Object> bad = new LinkedHashMap<>(s);
        bad.put("thread", new Object());
        assertArrayEquals(first, java.serialize(bad), "the unserializable attribute is left out");
        assertArrayEquals(first, java.serialize(s));
        Map<String, Object> back = java.deserialize(first);
        assertSame(back.get("cart"), back.get("same cart again"));
    }
}
