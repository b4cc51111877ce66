package io.msm.serializer.kryo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import io.msm.spi.TranscoderFactory;
import io.msm.test.transcoder.DeserializationGuardContract;
import io.msm.test.transcoder.GadgetCorpus;
import io.msm.test.transcoder.JavaStreams;
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Planted gadget chains, hash bombs and the JVM-wide filter, on Kryo. */
class KryoDeserializationGuardTest extends DeserializationGuardContract {
    private static final ClassPolicy OPEN = new ClassPolicy(List.of());

    @Override
    protected TranscoderFactory factory() {
        return new KryoTranscoderFactory();
    }

    /** msm's Kryo with an empty deny list writes the attributes, in the transcoder's layout. */
    @Override
    protected byte[] plant(ClassLoader loader, Map<String, Object> attributes) {
        Kryo kryo = KryoTranscoderFactory.newKryo(loader, OPEN, new JavaSerializer(OPEN), false,
                List.of(), "/plant");
        Output out = new Output(4096, -1);
        out.writeByte(KryoTranscoder.MAGIC);
        out.writeByte(KryoTranscoder.FORMAT_VERSION);
        out.writeVarInt(attributes.size(), true);
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            out.writeString(e.getKey());
            kryo.writeClassAndObject(out, e.getValue());
        }
        return out.toBytes();
    }

    /**
     * Two blobs: the class named in Kryo's own encoding (an unregistered class is written by name), and an object
     * of it inside the Java serialization Kryo uses for JDK classes it has no serializer for.
     */
    @Override
    protected List<byte[]> plantByName(ClassLoader loader, String className) throws Exception {
        Output byName = new Output(256, -1);
        byName.writeByte(KryoTranscoder.MAGIC);
        byName.writeByte(KryoTranscoder.FORMAT_VERSION);
        byName.writeVarInt(1, true);
        byName.writeString("gadget");
        byName.writeVarInt(1, true); // Kryo's NAME + 2: a class written by name
        byName.writeVarInt(0, true); // its name id, first in the graph
        byName.writeString(className);
        byName.writeBytes(new byte[16]);

        // a carrier Kryo writes with Java serialization: its Java stream is the blob's tail; swap in the gadget
        IllegalStateException carrier = new IllegalStateException("carrier");
        byte[] written = plant(loader, Map.of("gadget", carrier));
        ByteArrayOutputStream java = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(java)) {
            out.writeObject(carrier);
        }
        byte[] carried = java.toByteArray();
        int head = written.length - carried.length - varIntLength(carried.length);
        assertArrayEquals(carried, Arrays.copyOfRange(written, written.length - carried.length, written.length),
                "Kryo writes an IllegalStateException with Java serialization, at the end of the blob");
        byte[] gadget = JavaStreams.objectNaming(className, GadgetCorpus.serialVersionUid(loader, className));
        Output inJava = new Output(256, -1);
        inJava.writeBytes(written, 0, head);
        inJava.writeVarInt(gadget.length, true);
        inJava.writeBytes(gadget);
        return List.of(byName.toBytes(), inJava.toBytes());
    }

    private static int varIntLength(int value) {
        Output o = new Output(8);
        o.writeVarInt(value, true);
        return o.position();
    }
}
