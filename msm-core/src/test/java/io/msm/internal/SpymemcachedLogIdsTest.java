package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import net.spy.memcached.ops.GetOperation;
import net.spy.memcached.ops.OperationStatus;
import net.spy.memcached.protocol.ascii.AsciiOperationFactory;
import net.spy.memcached.protocol.binary.BinaryOperationFactory;
import org.junit.jupiter.api.Test;

/**
 * spymemcached's own log lines name operations by their toString, which holds the key: a session key is the key prefix
 * and the session id (without sessionProtection). When a node's connection drops with operations in flight,
 * spymemcached logs each at WARN ("Discarding partially completed op: Cmd: get Keys: ..."), so a memcached node
 * killed under load wrote session ids into Tomcat's log.
 */
class SpymemcachedLogIdsTest {

    private static final GetOperation.Callback NOTHING = new GetOperation.Callback() {
        @Override
        public void gotData(String key, int flags, byte[] data) {
        }

        @Override
        public void receivedStatus(OperationStatus status) {
        }

        @Override
        public void complete() {
        }
    };

    @Test
    void spymemcachedsLinesNameNoSessionId() {
        Logger jul = Logger.getLogger("io.msm.test.spy.ids");
        List<String> lines = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(capture);
        jul.setUseParentHandlers(false);
        jul.setLevel(Level.ALL);
        try {
            SpymemcachedLogger spy = new SpymemcachedLogger("io.msm.test.spy.ids");
            String key = "shop_SECRETRANDOM-n1.tc1";
            spy.warn("Discarding partially completed op: %s", new AsciiOperationFactory().get(key, NOTHING));
            spy.warn("Discarding partially completed op: %s", new BinaryOperationFactory().get(key, NOTHING));
            spy.warn("Discarding partially completed op: %s", new AsciiOperationFactory().touch(key, 60, null));
            spy.debug("Finished writing %s", new AsciiOperationFactory().delete("bak:" + key, null));
            assertEquals(4, lines.size());
            for (String line : lines) {
                assertFalse(line.contains("SECRETRANDOM"), "a session id in spymemcached's line: " + line);
            }
            assertTrue(lines.get(3).contains("bak:#"), "the key's kind stays: " + lines.get(3));
        } finally {
            jul.removeHandler(capture);
        }
    }
}
