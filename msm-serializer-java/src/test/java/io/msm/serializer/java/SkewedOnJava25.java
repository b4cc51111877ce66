package io.msm.serializer.java;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderContext;
import io.msm.spi.TranscoderFactory;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Java serialization that goes wrong on Java 25 only, on the write side or on the read side: what a serializer that
 * breaks a rolling JDK upgrade looks like to {@link io.msm.test.transcoder.CrossJdk}. Instantiated by name in the
 * other JVM, so each side is a class of its own.
 */
public final class SkewedOnJava25 {
    private SkewedOnJava25() {
    }

    private static final boolean ON_25 = Runtime.version().feature() == 25;

    private static Map<String, Object> skewed(Map<String, Object> attributes) {
        Map<String, Object> m = new LinkedHashMap<>(attributes);
        m.put("value", "skewed on Java 25");
        return m;
    }

    /** Writes a wrong value on Java 25. */
    public static final class Writes implements TranscoderFactory {
        @Override
        public SessionAttributesTranscoder createTranscoder(TranscoderContext context) {
            SessionAttributesTranscoder t = new JavaSerializationTranscoderFactory().createTranscoder(context);
            return new SessionAttributesTranscoder() {
                @Override
                public byte[] serialize(Map<String, Object> attributes) {
                    return t.serialize(ON_25 ? skewed(attributes) : attributes);
                }

                @Override
                public Map<String, Object> deserialize(byte[] data) {
                    return t.deserialize(data);
                }
            };
        }
    }

    /** Reads a wrong value on Java 25. */
    public static final class Reads implements TranscoderFactory {
        @Override
        public SessionAttributesTranscoder createTranscoder(TranscoderContext context) {
            SessionAttributesTranscoder t = new JavaSerializationTranscoderFactory().createTranscoder(context);
            return new SessionAttributesTranscoder() {
                @Override
                public byte[] serialize(Map<String, Object> attributes) {
                    return t.serialize(attributes);
                }

                @Override
                public Map<String, Object> deserialize(byte[] data) {
                    Map<String, Object> m = t.deserialize(data);
                    return ON_25 ? skewed(m) : m;
                }
            };
        }
    }
}
