package io.msm.spi;

import java.util.List;
import java.util.Optional;

/** What a {@link TranscoderFactory} gets to build a transcoder for one webapp. */
public interface TranscoderContext {

    /** The webapp's class loader: every attribute class is resolved through it. */
    ClassLoader classLoader();

    /**
     * {@code copyCollectionsForSerialization}: copy collections and maps before serializing them, so a request that
     * changes one while a backup runs cannot break that backup.
     */
    boolean copyCollectionsForSerialization();

    /** {@code customConverter}: class names (webapp classes) that extend the serializer; meaning is per serializer. */
    List<String> customConverterClassNames();

    /** A name for log lines, e.g. the context path. */
    String name();

    /**
     * {@code deserializationFilter}: a JEP 290 pattern ({@link java.io.ObjectInputFilter.Config#createFilter}) the
     * transcoder applies before its own class policy when reading. Already validated. Empty when not configured.
     */
    default Optional<String> deserializationFilter() {
        return Optional.empty();
    }
}
