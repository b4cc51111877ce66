package io.msm.serializer.java;

import io.msm.spi.TranscoderFactory;
import io.msm.test.transcoder.TranscoderContract;
import java.util.Set;

/** The round-trip contract, on Java serialization. */
class JavaTranscoderContractTest extends TranscoderContract {
    @Override
    protected TranscoderFactory factory() {
        return new JavaSerializationTranscoderFactory();
    }

    /** Sub-list views do not implement Serializable: they are left out of the session, with a warning. */
    @Override
    protected Set<String> unsupportedCases() {
        return Set.of("ArrayList.subList", "LinkedList.subList", "List.of(..).subList");
    }
}
