package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.codec.BlobCodec;
import io.msm.codec.SessionData;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Non-sticky, a session holding plain values (strings, numbers) beside mutable ones is stored with the plain ones in
 * msm's own form; another Tomcat, which kept no object of it, reads every attribute back as it was, of its class, and
 * its next change there is stored and read back on the first Tomcat.
 */
class PlainChunkLoadTest {
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF-n1";
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final FakeEngine started = FakeEngine.nonSticky(clock::get);
    private SessionEngine other;

    @AfterEach
    void close() {
        started.engine.close();
        if (other != null) {
            other.close();
        }
    }

    @Test
    void anotherTomcatReadsThePlainValuesOfTheirClassAndItsChangeComesBack() {
        SessionEngine engine = started.engine;
        TestSession s = new TestSession(ID, clock.get());
        engine.created(s);
        engine.requestStarted(s);
        s.set("user", new StringBuilder("alice"));
        s.set("token", "Grüße \uD800");
        s.set("counter", 1);
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        byte[] blob = started.store.peek("n1", "p_" + ID);
        assertNotNull(blob);
        SessionData stored = BlobCodec.decode(blob);
        assertEquals(3, blob[4], "version 3: with a plain chunk");
        assertEquals(Map.of("token", "Grüße \uD800", "counter", 1),
                io.msm.codec.PlainValues.decode(stored.attributeChunks().get(stored.plainChunk())));

        other = started.another();
        LoadResult r = other.load(ID);
        assertTrue(r.isFound(), r.status() + " " + r.reason());
        Map<String, Object> read = r.attributes();
        assertEquals("alice", read.get("user").toString());
        assertEquals(StringBuilder.class, read.get("user").getClass());
        assertEquals("Grüße \uD800", read.get("token"));
        assertEquals(Integer.valueOf(1), read.get("counter"));

        TestSession there = TestSession.loadedFrom(r, clock.get());
        other.loaded(there, r);
        other.requestStarted(there);
        there.set("counter", 2);
        other.requestEnded(there);
        assertTrue(other.awaitIdle(5000));

        LoadResult back = engine.load(ID);
        assertTrue(back.isFound(), back.status() + " " + back.reason());
        assertEquals(2, back.attributes().get("counter"));
        assertEquals("alice", back.attributes().get("user").toString());
    }
}
