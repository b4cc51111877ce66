package io.msm.serializer.kryo;

import static io.msm.serializer.kryo.JdkSerializers.count;
import static io.msm.serializer.kryo.JdkSerializers.hashWork;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.msm.internal.HashWork;
import io.msm.internal.JavaStreamScan;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;

/**
 * Java serialization inside the Kryo stream, for {@link java.io.Serializable} JDK classes Kryo has no
 * serializer for and cannot reflect into. Reading resolves classes through the webapp loader and applies the
 * same deny list, plus depth and allocation limits.
 */
final class JavaSerializer extends Serializer<Object> {
    private final ClassPolicy policy;

    JavaSerializer(ClassPolicy policy) {
        this.policy = policy;
    }

    @Override
    public void write(Kryo kryo, Output output, Object object) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(object);
        } catch (IOException e) {
            throw new KryoException("cannot write " + object.getClass().getName() + " with Java serialization: "
                    + e, e);
        }
        output.writeVarInt(bytes.size(), true);
        output.writeBytes(bytes.toByteArray());
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<?> type) {
        int length = count(input, 1);
        byte[] data = input.readBytes(length);
        HashWork work = hashWork(kryo);
        long weight = JavaStreamScan.scan(data, 0, length, work); // a hash bomb inside is refused here
        FilteredObjectInputStream in = null;
        try {
            in = new FilteredObjectInputStream(new ByteArrayInputStream(data), kryo.getClassLoader(), policy,
                    length);
            Object o = in.readObject();
            work.remember(o, weight);
            return o;
        } catch (IOException | ClassNotFoundException e) {
            if (in != null && in.rejected != null) {
                throw new KryoException("class " + in.rejected.getName() + " is refused by " + in.rejectedBy
                        + " (in Java-serialized " + type.getName() + ")", e);
            }
            throw new KryoException("cannot read Java-serialized " + type.getName() + ": " + e, e);
        } finally {
            if (in != null) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // a byte array stream
                }
            }
        }
    }
}
