package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

/** Stands for a class msm's Kryo cannot store faithfully: fails on write (and read) with the reason. */
final class RefusingSerializer extends Serializer<Object> {
    private final String reason;

    RefusingSerializer(String reason) {
        this.reason = reason;
    }

    @Override
    public void write(Kryo kryo, Output output, Object object) {
        throw new KryoException(reason);
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<?> type) {
        throw new KryoException(reason);
    }
}
