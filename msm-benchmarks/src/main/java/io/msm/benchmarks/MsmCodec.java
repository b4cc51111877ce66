package io.msm.benchmarks;

import io.msm.serializer.java.JavaSerializationTranscoderFactory;
import io.msm.serializer.kryo.KryoTranscoderFactory;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderContext;
import io.msm.spi.TranscoderFactory;
import java.util.List;
import java.util.Map;

/** msm's transcoders, created through the SPI as the manager creates them. */
final class MsmCodec implements Codec {
    private final SessionAttributesTranscoder transcoder;

    private MsmCodec(TranscoderFactory factory) {
        ClassLoader loader = MsmCodec.class.getClassLoader();
        this.transcoder = factory.createTranscoder(new TranscoderContext() {
            @Override
            public ClassLoader classLoader() {
                return loader;
            }

            @Override
            public boolean copyCollectionsForSerialization() {
                return false;
            }

            @Override
            public List<String> customConverterClassNames() {
                return List.of();
            }

            @Override
            public String name() {
                return "/bench";
            }
        });
    }

    static Codec java() {
        return new MsmCodec(new JavaSerializationTranscoderFactory());
    }

    static Codec kryo() {
        return new MsmCodec(new KryoTranscoderFactory());
    }

    @Override
    public byte[] serialize(Map<String, Object> attributes) {
        return transcoder.serialize(attributes);
    }

    @Override
    public Map<String, Object> deserialize(byte[] bytes) {
        return transcoder.deserialize(bytes);
    }
}
