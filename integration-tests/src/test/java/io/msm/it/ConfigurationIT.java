package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.catalina.LifecycleState;
import org.junit.jupiter.api.Test;

/** A bad configuration stops the context with one message naming every bad attribute and value (item 7). */
class ConfigurationIT extends MsmIT {

    @Test
    void badConfigurationStopsTheContextWithOneMessage() {
        try (LogCapture log = LogCapture.of("org.apache.catalina")) {
            EmbeddedTomcat t = track(EmbeddedTomcat.on("tc1")
                    .with("memcachedNodes", "n1:localhost")
                    .with("failoverNodes", "n9")
                    .with("requestUriIgnorePattern", "*.png")
                    .with("transcoderFactoryClass", "com.example.NoSuchTranscoderFactory")
                    .startAllowingFailure());
            assertNotEquals(LifecycleState.STARTED, t.context().getState());
            List<String> messages = log.containing("invalid attributes in the msm <Manager> configuration");
            assertEquals(1, messages.size(), "one message: " + log.records.size() + " records");
            String m = messages.get(0);
            assertTrue(m.contains("4 invalid attributes"), m);
            assertTrue(m.contains("memcachedNodes=\"n1:localhost\""), m);
            assertTrue(m.contains("failoverNodes=\"n9\""), m);
            assertTrue(m.contains("requestUriIgnorePattern=\"*.png\""), m);
            assertTrue(m.contains("transcoderFactoryClass=\"com.example.NoSuchTranscoderFactory\""), m);
        }
    }

    @Test
    void badLockingAttributesAreNamed() {
        try (LogCapture log = LogCapture.of("org.apache.catalina")) {
            EmbeddedTomcat t = track(EmbeddedTomcat.on("tc1").with("memcachedNodes", nodes())
                    .with("sticky", "false").with("lockingMode", "uriPattern:(").with("lockFailure", "retry")
                    .startAllowingFailure());
            assertNotEquals(LifecycleState.STARTED, t.context().getState());
            List<String> m = log.containing("2 invalid attributes");
            assertEquals(1, m.size());
            assertTrue(m.get(0).contains("lockingMode=\"uriPattern:(\""), m.get(0));
            assertTrue(m.get(0).contains("lockFailure=\"retry\": expected proceed or fail"), m.get(0));
        }
    }

    @Test
    void disabledManagerKeepsSessionsInMemoryOnly() {
        EmbeddedTomcat t = tomcat("tc1", "enabled", "false");
        Browser b = new Browser();
        assertEquals(1, b.get(t.url("/counter")).count());
        assertEquals(2, b.get(t.url("/counter")).count());
        assertEquals(0, server("n1").stat("cmd_set") + server("n2").stat("cmd_set"));
    }
}
