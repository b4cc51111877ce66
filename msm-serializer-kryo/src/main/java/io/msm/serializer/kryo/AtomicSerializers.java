package io.msm.serializer.kryo;

import static io.msm.serializer.kryo.JdkSerializers.readElements;
import static io.msm.serializer.kryo.JdkSerializers.writeElements;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.function.Function;
import java.util.function.IntFunction;

/** Serializers for the atomics and adders of {@code java.util.concurrent.atomic}, built from their public methods. */
final class AtomicSerializers {
    private AtomicSerializers() {
    }

    /** An atomic or adder, as its value(s), through a reader and a builder of public methods. */
    static <T> Serializer<T> valueOf(Function<T, Object> get, Function<Object, T> create) {
        return new Serializer<T>() {
            @Override
            public void write(Kryo kryo, Output output, T object) {
                kryo.writeClassAndObject(output, get.apply(object));
            }

            @Override
            public T read(Kryo kryo, Input input, Class<? extends T> type) {
                return create.apply(kryo.readClassAndObject(input));
            }
        };
    }

    static <T> Serializer<T> arrayOf(Function<T, Object[]> get, IntFunction<T> create,
            ArraySetter<T> set) {
        return new Serializer<T>() {
            @Override
            public void write(Kryo kryo, Output output, T object) {
                writeElements(kryo, output, get.apply(object));
            }

            @Override
            public T read(Kryo kryo, Input input, Class<? extends T> type) {
                Object[] values = readElements(kryo, input);
                T array = create.apply(values.length);
                for (int i = 0; i < values.length; i++) {
                    set.set(array, i, values[i]);
                }
                return array;
            }
        };
    }

    interface ArraySetter<T> {
        void set(T array, int index, Object value);
    }
}
