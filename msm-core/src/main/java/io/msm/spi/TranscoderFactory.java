package io.msm.spi;

/**
 * Creates the serializer for session attributes. Named by the {@code transcoderFactoryClass} attribute; must have a
 * public no-argument constructor. One factory instance is created per webapp at manager start.
 */
public interface TranscoderFactory {

    /**
     * @throws TranscoderException if the transcoder cannot be built (e.g. a custom converter fails to load); the
     *     manager fails to start with this message
     */
    SessionAttributesTranscoder createTranscoder(TranscoderContext context);
}
