package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.msm.anchor.AnchorBlob;
import io.msm.anchor.AnchorConverter;
import io.msm.anchor.AnchorFormatException;
import io.msm.anchor.AnchorKeys;
import io.msm.codec.SessionData;
import java.util.ConcurrentModificationException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link LegacyWrites#encode}: a collection a request changes while a backup thread writes the old format is written
 * again (as msm's own serializer retries), not taken for a session the old manager cannot read.
 */
class LegacyWritesTest {
    private static final SessionData DATA = SessionData.builder("ABC-n1").build();

    /** A converter failing {@code failures} times with {@code failure}, then writing {@code blob}. */
    private static AnchorConverter failing(int failures, RuntimeException failure, byte[] blob, AtomicInteger calls) {
        return new AnchorConverter() {
            @Override
            public Map<String, Object> convert(AnchorBlob b, SessionData.Builder into) {
                throw new UnsupportedOperationException();
            }

            @Override
            public byte[] encode(SessionData data, Map<String, Object> attributes, long lastBackupTime) {
                if (calls.incrementAndGet() <= failures) {
                    throw failure;
                }
                return blob;
            }
        };
    }

    private static LegacyWrites writes(AnchorConverter c) {
        return new LegacyWrites(AnchorKeys.withPrefix(""), c, null, 1000, "[test] ");
    }

    @Test
    void aCollectionChangedDuringTheWriteIsWrittenAgain() {
        AtomicInteger calls = new AtomicInteger();
        byte[] blob = {1, 2, 3};
        LegacyWrites w = writes(failing(LegacyWrites.ATTEMPTS - 1, new ConcurrentModificationException(), blob, calls));
        assertArrayEquals(blob, w.encode(DATA, Map.of(), 0));
        assertEquals(LegacyWrites.ATTEMPTS, calls.get());
    }

    @Test
    void aCollectionChangedDuringEveryWriteIsNotStoredNowNotStoredInMsmsFormat() {
        AtomicInteger calls = new AtomicInteger();
        LegacyWrites w = writes(failing(LegacyWrites.ATTEMPTS, new ConcurrentModificationException(), new byte[1],
                calls));
        assertThrows(ConcurrentModificationException.class, () -> w.encode(DATA, Map.of(), 0));
        assertEquals(LegacyWrites.ATTEMPTS, calls.get());
    }

    @Test
    void aSessionTheOldManagerCannotReadIsLeftToMsmsFormat() {
        AtomicInteger calls = new AtomicInteger();
        LegacyWrites w = writes(failing(1, new AnchorFormatException("auth type SPNEGO"), new byte[1], calls));
        assertNull(w.encode(DATA, Map.of(), 0));
        assertEquals(1, calls.get(), "not tried again");
    }
}
