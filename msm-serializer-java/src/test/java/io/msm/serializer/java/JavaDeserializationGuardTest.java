package io.msm.serializer.java;

import io.msm.spi.TranscoderFactory;
import io.msm.test.transcoder.DeserializationGuardContract;
import io.msm.test.transcoder.GadgetCorpus;
import io.msm.test.transcoder.JavaStreams;
import java.util.List;
import java.util.Map;

/** Planted gadget chains, hash bombs and the JVM-wide filter, on Java serialization. */
class JavaDeserializationGuardTest extends DeserializationGuardContract {
    @Override
    protected TranscoderFactory factory() {
        return new JavaSerializationTranscoderFactory();
    }

    @Override
    protected byte[] plant(ClassLoader loader, Map<String, Object> attributes) throws Exception {
        return JavaStreams.sessionLayout(attributes);
    }

    @Override
    protected List<byte[]> plantByName(ClassLoader loader, String className) throws Exception {
        return List.of(JavaStreams.sessionNaming("gadget", className,
                GadgetCorpus.serialVersionUid(loader, className)));
    }

    @Override
    protected List<String> jvmWideCheckArguments() {
        return List.of("java");
    }
}
