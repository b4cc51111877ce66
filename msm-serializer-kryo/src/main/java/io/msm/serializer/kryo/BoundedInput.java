package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

/**
 * Reading untrusted bytes: a declared length (of a string or an array) that the rest of the blob cannot hold is
 * refused before anything is allocated, so a small blob cannot make the reader allocate gigabytes. Every element
 * takes at least one byte.
 */
final class BoundedInput extends Input {

    @Override
    public String readString() {
        checkStringLength();
        return super.readString();
    }

    @Override
    public StringBuilder readStringBuilder() {
        checkStringLength();
        return super.readStringBuilder();
    }

    private void checkStringLength() {
        if (position() < limit() && readVarIntFlag()) { // a length-prefixed (non-ASCII) string
            int start = position();
            int count = readVarIntFlag(true) - 1;
            setPosition(start);
            check(this, count);
        }
    }

    static void check(Input input, long count) {
        long remaining = input.limit() - input.position();
        if (count > remaining) {
            throw new KryoException("declared " + count + " items, but only " + remaining + " bytes follow");
        }
    }

    /** Wraps an array serializer (whose length is a varint of length + 1, 0 for null) with the length check. */
    static <T> Serializer<T> boundedArray(Serializer<T> array) {
        return new Serializer<T>(array.getAcceptsNull(), array.isImmutable()) {
            @Override
            public void write(Kryo kryo, Output output, T object) {
                array.write(kryo, output, object);
            }

            @Override
            public T read(Kryo kryo, Input input, Class<? extends T> type) {
                int start = input.position();
                int length = input.readVarInt(true) - 1;
                input.setPosition(start);
                check(input, length);
                return array.read(kryo, input, type);
            }
        };
    }
}
