package io.msm.benchmarks;

import java.util.Map;

/** One serializer under test: session attributes to bytes and back. */
public interface Codec {

    byte[] serialize(Map<String, Object> attributes);

    Map<String, Object> deserialize(byte[] bytes);

    /** The codecs of one run: msm's Java and Kryo transcoders, and memcached-session-manager 2.3.2's. */
    static Codec create(String name) {
        switch (name) {
            case "msm-java": return MsmCodec.java();
            case "msm-kryo": return MsmCodec.kryo();
            case "anchor-java": return AnchorCodec.java();
            case "anchor-kryo": return AnchorCodec.kryo();
            default: throw new IllegalArgumentException("codec: msm-java, msm-kryo, anchor-java or anchor-kryo, not "
                    + name);
        }
    }
}
