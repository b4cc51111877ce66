package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class SpymemcachedLoggerTest {
    @Test
    void infoChatterGoesToDebugWarningsStay() {
        Logger jul = Logger.getLogger("io.msm.test.spy");
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
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
        try {
            jul.setLevel(Level.INFO); // an operator's default: INFO and above
            SpymemcachedLogger spy = new SpymemcachedLogger("io.msm.test.spy");
            assertFalse(spy.isInfoEnabled(), "INFO chatter is not even formatted at the default level");
            spy.info("Setting retryQueueSize to -1");
            spy.warn("Closing, and reopening {QA sa=/127.0.0.1:11211}");
            assertEquals(1, records.size());
            assertEquals(Level.WARNING, records.get(0).getLevel());

            jul.setLevel(Level.ALL);
            records.clear();
            spy.info("Added {QA sa=/127.0.0.1:11211} to connect queue");
            assertEquals(Level.FINE, records.get(0).getLevel());
        } finally {
            jul.removeHandler(capture);
        }
    }
}
