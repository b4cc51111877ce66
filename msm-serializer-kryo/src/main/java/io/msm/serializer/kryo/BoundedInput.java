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

    // Kryo allocates the array of these before reading a byte (BigInteger, BigDecimal, BitSet and other serializers
    // call them with a length read from the blob): the bytes left bound the length first. Found by the fuzz test.

    @Override
    public byte[] readBytes(int length) {
        check(this, length);
        return super.readBytes(length);
    }

    @Override
    public int[] readInts(int length) {
        check(this, length * 4L);
        return super.readInts(length);
    }

    @Override
    public int[] readInts(int length, boolean optimizePositive) {
        check(this, length);
        return super.readInts(length, optimizePositive);
    }

    @Override
    public long[] readLongs(int length) {
        check(this, length * 8L);
        return super.readLongs(length);
    }

    @Override
    public long[] readLongs(int length, boolean optimizePositive) {
        check(this, length);
        return super.readLongs(length, optimizePositive);
    }

    @Override
    public float[] readFloats(int length) {
        check(this, length * 4L);
        return super.readFloats(length);
    }

    @Override
    public double[] readDoubles(int length) {
        check(this, length * 8L);
        return super.readDoubles(length);
    }

    @Override
    public short[] readShorts(int length) {
        check(this, length * 2L);
        return super.readShorts(length);
    }

    @Override
    public char[] readChars(int length) {
        check(this, length * 2L);
        return super.readChars(length);
    }

    @Override
    public boolean[] readBooleans(int length) {
        check(this, length);
        return super.readBooleans(length);
    }

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
        if (count > remaining || count < 0) {
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
