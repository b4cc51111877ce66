package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.msm.anchor.AnchorBlob;
import io.msm.anchor.AnchorConverter;
import io.msm.anchor.AnchorFormatException;
import io.msm.anchor.AnchorKeys;
import io.msm.codec.SessionData;
import io.msm.store.MemcachedSessionStore;
import io.msm.test.log.LogLines;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What {@link LegacyWrites} says about sessions the old manager could not read: once per kind of reason, bounded. */
class LegacyWritesWarningsTest {
    private LogLines capture;
    private List<String> lines;

    @AfterEach
    void close() {
        if (capture != null) {
            capture.close();
        }
    }

    /**
     * Sessions the old manager could not read (here: a saved FORM request over its 32 KB limit, whose size a client
     * chooses with its POST body) are said once per reason: a reason that differs only in a number is the same
     * reason, so neither the WARN lines nor the set that remembers them grow with what clients send.
     */
    @Test
    void aReasonThatDiffersOnlyInASizeIsSaidOnce() {
        capture = LogLines.warnings("io.msm.engine");
        lines = capture.lines();
        AtomicLong size = new AtomicLong(40_000);
        AnchorConverter tooBig = new AnchorConverter() {
            @Override
            public Map<String, Object> convert(AnchorBlob blob, SessionData.Builder into) {
                throw new UnsupportedOperationException();
            }

            @Override
            public byte[] encode(SessionData data, Map<String, Object> attributes, long lastBackupTime) {
                throw new AnchorFormatException("a part of " + size.getAndIncrement() + " bytes: "
                        + "memcached-session-manager reads at most 32767");
            }
        };
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        LegacyWrites writes = new LegacyWrites(AnchorKeys.withPrefix(""), tooBig,
                new FakeStore(clock::get, MemcachedSessionStore.ConnectionListener.NONE), 100, "[test] ");
        for (int i = 0; i < 1000; i++) {
            assertNull(writes.encode(SessionData.builder("ABC" + i + "-n1").maxInactiveInterval(60).build(), Map.of(),
                    clock.get()));
        }
        assertEquals(1, lines.size(), lines.size() + " lines, the first: " + lines.get(0));
    }
}
