package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.SerializerFactory;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.CompatibleFieldSerializer;
import com.esotericsoftware.kryo.serializers.CompatibleFieldSerializer.CompatibleFieldSerializerConfig;

/**
 * Kryo's {@link CompatibleFieldSerializer}, with the number of field names it reads before a class's first object
 * (allocated as an array at once) checked against the bytes left: found by the fuzz test, a 104-byte blob declaring
 * two billion fields made the reader run out of memory.
 */
final class BoundedFieldSerializer<T> extends CompatibleFieldSerializer<T> {

    BoundedFieldSerializer(Kryo kryo, Class<T> type, CompatibleFieldSerializerConfig config) {
        super(kryo, type, config);
    }

    @Override
    @SuppressWarnings("unchecked") // Kryo's graph context is a raw ObjectMap
    public T read(Kryo kryo, Input input, Class<? extends T> type) {
        if (kryo.getGraphContext().get(this) == null) { // this graph has not seen the class's field names yet
            int start = input.position();
            int names = input.readVarInt(true);
            input.setPosition(start);
            BoundedInput.check(input, names);
        }
        return super.read(kryo, input, type);
    }

    /** Creates a {@link BoundedFieldSerializer} per class, each with its own copy of {@code config}. */
    static SerializerFactory<BoundedFieldSerializer<?>> factory(CompatibleFieldSerializerConfig config) {
        return new SerializerFactory.BaseSerializerFactory<BoundedFieldSerializer<?>>() {
            @Override
            @SuppressWarnings({"rawtypes", "unchecked"})
            public BoundedFieldSerializer<?> newSerializer(Kryo kryo, Class type) {
                return new BoundedFieldSerializer(kryo, type, config.clone());
            }
        };
    }
}
