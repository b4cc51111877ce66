package io.msm.spi;

import java.util.Map;

/**
 * Turns a session's attributes into bytes and back. Must be thread-safe: backups of different sessions run in
 * parallel.
 */
public interface SessionAttributesTranscoder {

    /**
     * Serializes the attributes. An attribute that cannot be serialized at all may be skipped (and reported by the
     * transcoder) rather than failing the whole session; a session that cannot be serialized throws.
     *
     * @param attributes name to value; the transcoder must not modify the map
     * @throws TranscoderException if the attributes cannot be serialized
     */
    byte[] serialize(Map<String, Object> attributes);

    /**
     * Reads attributes written by {@link #serialize(Map)}, resolving classes through the webapp class loader.
     *
     * @throws TranscoderException for any unreadable input (never another exception type)
     */
    Map<String, Object> deserialize(byte[] data);
}
