package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.anchor.AnchorBlob;
import io.msm.anchor.AnchorConverter;
import io.msm.anchor.AnchorKeys;
import io.msm.anchor.AnchorValidity;
import io.msm.codec.SessionData;
import io.msm.config.MsmConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code legacySessions="readWrite"}, non-sticky, on a fake store and clock: a Tomcat still running
 * memcached-session-manager dates a read-only request in the session's validity record alone and rewrites the blob
 * only a timeout after its last write, so the blob must live as long as the old manager gives it (twice the timeout)
 * and the timeout watch must go by that record, not by the blob's remaining life.
 */
class LegacyWritesExpiryTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private FakeStore store;
    private SessionEngine engine;
    private final List<String> ended = new ArrayList<>();

    private final ExpiryWatch.Container container = new ExpiryWatch.Container() {
        @Override
        public boolean holds(String id) {
            return false;
        }

        @Override
        public void expire(LoadResult loaded) {
            ended.add(loaded.data().id() + " count=" + loaded.attributes().get("count"));
        }
    };

    /** The old manager's format as the adapter writes it, attributes as its Java transcoder did (no login state). */
    static final AnchorConverter CONVERTER = new AnchorConverter() {
        @Override
        public Map<String, Object> convert(AnchorBlob blob, SessionData.Builder into) {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(blob.attributes()))) {
                Map<String, Object> attributes = new HashMap<>();
                int n = (Integer) in.readObject();
                for (int i = 0; i < n; i++) {
                    attributes.put((String) in.readObject(), in.readObject());
                }
                return attributes;
            } catch (IOException | ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public byte[] encode(SessionData data, Map<String, Object> attributes, long lastBackupTime) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(attributes.size());
                for (Map.Entry<String, Object> a : attributes.entrySet()) {
                    out.writeObject(a.getKey());
                    out.writeObject(a.getValue());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return AnchorBlob.encode(data, lastBackupTime, new byte[0], new byte[0], bytes.toByteArray());
        }
    };

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    /** An msm Tomcat in readWrite, non-sticky, and a session with a 60 s timeout one request stored there now. */
    private TestSession served() {
        return served(60);
    }

    private TestSession served(int maxInactive) {
        MsmConfig.Builder b = FakeStore.twoNodes().set(MsmConfig.STICKY, "false")
                .set(MsmConfig.LEGACY_SESSIONS, "readWrite");
        engine = SessionEngine.start(b.build(getClass().getClassLoader()),
                new EngineContext("/test", getClass().getClassLoader(), "tc1", "p_", clock::get)
                        .legacySessions(AnchorKeys.withPrefix("p_"), CONVERTER),
                listener -> store = new FakeStore(clock::get, listener));
        engine.expiry().adopt(container);
        TestSession s = new TestSession("ABC1-n1", clock.get());
        s.maxInactive = maxInactive;
        engine.created(s);
        engine.requestStarted(s);
        s.set("count", 1);
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        assertTrue(AnchorBlob.looksLikeOne(store.peek("n1", "p_" + s.id())), "stored in the old format");
        return s;
    }

    /** A request on a Tomcat still running the old manager that changes nothing: it dates the access, no more. */
    private void oldTomcatReads(TestSession s) {
        store.set("n1", "validity:p_" + s.id(), 60, new AnchorValidity(60, clock.get(), clock.get()).encode(), 0);
    }

    @Test
    void aSessionReadOnlyOnAnOldTomcatSinceMsmsWriteEndsATimeoutAfterThatAccess() {
        TestSession s = served();

        clock.addAndGet(59_000); // a read on an old Tomcat: 59 s after the last write, no rewrite yet
        oldTomcatReads(s);
        clock.addAndGet(56_000); // 56 s after that access: within the timeout, whatever msm's write left
        engine.expiry().tick();
        assertEquals(List.of(), ended, "accessed on an old Tomcat 56 s ago");
        assertTrue(AnchorBlob.looksLikeOne(store.peek("n1", "p_" + s.id())), "still in memcached for the old one");

        clock.addAndGet(4_000); // a timeout after that access
        engine.expiry().tick();
        assertEquals(List.of(s.id() + " count=1"), ended, "ends with its last state, a timeout after its last access");
    }

    /**
     * A timeout shorter than the slack (1 s): twice the timeout would leave the blob less than the slack from its
     * write, and every request would find the session timed out. It lives the timeout plus the slack.
     */
    @Test
    void aTimeoutShorterThanTheSlackIsNotFoundTimedOutByTheNextRequest() {
        TestSession s = served(1);
        clock.addAndGet(500);
        assertTrue(engine.load(s.id()).isFound(), "a request half a second after the write"); // refreshes the copy
        clock.addAndGet(500);
        int ttl = store.getWithTtl("n1", "p_" + s.id(), io.msm.store.SessionStore.KEEP_EXPIRATION, 1000).ttlSeconds();
        assertFalse(ExpiryWatch.timedOut(ttl, 1), "the next request, half a second on, finds " + ttl + " s left");
    }

    @Test
    void aReadOnMsmLeavesTheBlobTheLifeTheOldManagerCountsOn() {
        TestSession s = served();
        clock.addAndGet(10_000);
        assertTrue(engine.load(s.id()).isFound(), "a request on msm that changes nothing");
        clock.addAndGet(40_000); // 50 s after the last write: the old manager does not rewrite it yet
        oldTomcatReads(s);
        clock.addAndGet(30_000); // 30 s after that access
        assertTrue(AnchorBlob.looksLikeOne(store.peek("n1", "p_" + s.id())), "the old manager finds it");
    }

    /**
     * The README's step 2 (readWrite changed to read one Tomcat at a time): a Tomcat in read stores msm's format and
     * writes no validity record, so the record of a readWrite Tomcat's last access is older than the session's last
     * access; the readWrite Tomcat's watch does not end the session by that record.
     */
    @Test
    void anAccessOnAReadTomcatIsNotOverruledByAnOlderValidityRecord() {
        TestSession s = served();
        SessionEngine read = SessionEngine.start(FakeStore.twoNodes().set(MsmConfig.STICKY, "false")
                .set(MsmConfig.LEGACY_SESSIONS, "read").build(getClass().getClassLoader()),
                new EngineContext("/test", getClass().getClassLoader(), "tc2", "p_", clock::get)
                        .legacySessions(AnchorKeys.withPrefix("p_"), CONVERTER),
                listener -> store);
        try {
            clock.addAndGet(30_000);
            assertTrue(read.load(s.id()).isFound(), "a request on the Tomcat in read mode");
            clock.addAndGet(35_000); // 65 s after the last access on the readWrite Tomcat, 35 s after the read one's
            engine.expiry().tick();
            assertEquals(List.of(), ended, "accessed 35 s ago on the Tomcat in read mode");
        } finally {
            read.close();
        }
    }

    /**
     * The README's step 2 again: a session a Tomcat in read mode stored in msm's format and then only read (its load
     * refreshes the copy for a timeout plus the slack); a readWrite Tomcat, whose own refreshes give twice the
     * timeout, does not take that refresh for an older access and end the session as timed out.
     */
    @Test
    void aSessionReadOnATomcatInReadModeIsAliveForAReadWriteTomcat() {
        MsmConfig config = FakeStore.twoNodes().set(MsmConfig.STICKY, "false").set(MsmConfig.LEGACY_SESSIONS, "read")
                .build(getClass().getClassLoader());
        SessionEngine read = SessionEngine.start(config,
                new EngineContext("/test", getClass().getClassLoader(), "tc2", "p_", clock::get)
                        .legacySessions(AnchorKeys.withPrefix("p_"), CONVERTER),
                listener -> store = new FakeStore(clock::get, listener));
        SessionEngine readWrite = SessionEngine.start(FakeStore.twoNodes().set(MsmConfig.STICKY, "false")
                .set(MsmConfig.LEGACY_SESSIONS, "readWrite").build(getClass().getClassLoader()),
                new EngineContext("/test", getClass().getClassLoader(), "tc1", "p_", clock::get)
                        .legacySessions(AnchorKeys.withPrefix("p_"), CONVERTER),
                listener -> store);
        try {
            TestSession s = new TestSession("ABC1-n1", clock.get()); // a 60 s timeout
            read.created(s);
            read.requestStarted(s);
            s.set("count", 1);
            read.requestEnded(s);
            assertTrue(read.awaitIdle(5000));
            clock.addAndGet(50_000);
            assertTrue(read.load(s.id()).isFound(), "a request that only reads it, in read mode");
            clock.addAndGet(20_000); // 70 s after the write, 20 s after that read
            LoadResult r = readWrite.load(s.id());
            assertTrue(r.isFound() && !r.timedOut(), "accessed 20 s ago: " + r);
            // Tomcat dates the session by this: a timeout before now, and Tomcat itself expires it on access
            long idle = clock.get() - r.lastAccessedTime();
            assertTrue(idle < 60_000, "last accessed " + idle + " ms ago as the readWrite Tomcat sees it");
        } finally {
            read.close();
            readWrite.close();
        }
    }
}
