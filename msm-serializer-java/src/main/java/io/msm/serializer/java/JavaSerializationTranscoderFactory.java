package io.msm.serializer.java;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderContext;
import io.msm.spi.TranscoderFactory;

/**
 * The default serializer: standard Java serialization. Attribute classes must implement {@link java.io.Serializable};
 * they are resolved through the webapp class loader, and reading is guarded by a JEP 290 filter
 * ({@link JavaSerializationTranscoder#DEFAULT_FILTER}). Pick it for compatibility (anything Tomcat's own session
 * persistence can store, this can store); pick Kryo for speed and size.
 */
public final class JavaSerializationTranscoderFactory implements TranscoderFactory {

    @Override
    public SessionAttributesTranscoder createTranscoder(TranscoderContext context) {
        return new JavaSerializationTranscoder(context.classLoader(), context.copyCollectionsForSerialization(),
                context.name(), context.deserializationFilter().orElse(null));
    }
}
