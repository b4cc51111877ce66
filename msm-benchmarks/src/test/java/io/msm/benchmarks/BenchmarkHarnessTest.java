package io.msm.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.benchmarks.model.Sessions;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The harness, not the measurement: every codec loads and reads the payloads back equal. No JMH run here. */
class BenchmarkHarnessTest {

    @Test
    void everyCodecRoundTripsBothSessions() {
        for (String codec : Main.CODECS) {
            if (codec.equals("anchor-kryo") && Runtime.version().feature() >= 16) {
                continue; // see the next test
            }
            for (String session : Main.SESSIONS) {
                Codec c = Codec.create(codec);
                Map<String, Object> attributes = Sessions.build(session);
                Main.checkRoundTrip(c, attributes);
                assertTrue(Main.size(codec, session).chars().allMatch(Character::isDigit), codec + "/" + session);
            }
        }
    }

    /**
     * The finding: memcached-session-manager 2.3.2's Kryo transcoder fails on first use on Java 16+ without
     * {@code --add-opens java.base/java.util} (kryo-serializers reflects into {@code Arrays$ArrayList}). The benchmark
     * measures it with the flags ({@link AnchorKryoAddOpensBenchmark}).
     */
    @Test
    void anchorKryoNeedsAddOpensOnThisJdk() {
        if (Runtime.version().feature() < 16) {
            return;
        }
        Codec anchorKryo = Codec.create("anchor-kryo"); // its Kryo instances are created on first use
        RuntimeException e = assertThrows(RuntimeException.class, () -> anchorKryo.serialize(Sessions.build("typical")));
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        assertEquals("java.lang.reflect.InaccessibleObjectException", root.getClass().getName(), root.toString());
        assertTrue(Main.size("anchor-kryo", "typical").startsWith("FAILED: java.lang.reflect."
                + "InaccessibleObjectException"));
    }

    @Test
    void theAnchorRunsInItsOwnClassLoader() throws Exception {
        ClassLoader anchor = AnchorCodec.loader();
        Class<?> anchorKryo = anchor.loadClass("com.esotericsoftware.kryo.Kryo");
        assertNotSame(com.esotericsoftware.kryo.Kryo.class, anchorKryo, "Kryo 4 of the anchor, not msm's Kryo 5");
        assertEquals("4.0.0", anchorKryo.getPackage().getImplementationVersion() == null ? "4.0.0"
                : anchorKryo.getPackage().getImplementationVersion());
        assertThrows(ClassNotFoundException.class, () -> anchor.loadClass("io.msm.spi.TranscoderFactory"));
        assertEquals(Sessions.class.getClassLoader(), anchor.loadClass("io.msm.benchmarks.model.Cart")
                .getClassLoader(), "the payload classes are shared");
    }

    @Test
    void payloadSizesAreAsDocumented() {
        int typical = Codec.create("msm-java").serialize(Sessions.build("typical")).length;
        int large = Codec.create("msm-java").serialize(Sessions.build("large")).length;
        assertTrue(typical > 2_000 && typical < 10_000, "typical: " + typical);
        assertTrue(large > 80_000 && large < 130_000, "large: " + large);
    }
}
