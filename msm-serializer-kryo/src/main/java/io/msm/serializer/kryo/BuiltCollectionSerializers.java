package io.msm.serializer.kryo;

import static io.msm.serializer.kryo.JdkSerializers.count;
import static io.msm.serializer.kryo.JdkSerializers.hashWork;
import static io.msm.serializer.kryo.JdkSerializers.snapshot;
import static io.msm.serializer.kryo.JdkSerializers.writeElements;
import static io.msm.serializer.kryo.JdkSerializers.writeEntries;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.msm.internal.HashWork;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Serializers for the JDK collections of a fixed shape ({@code List.of}, {@code Map.of}, sub-lists,
 * {@code Arrays.asList}), and the builders that make them again from their elements.
 */
final class BuiltCollectionSerializers {
    private BuiltCollectionSerializers() {
    }

    // ------------------------------------------------------------------ value-like collections built at the end

    /**
     * Collections that can only be built from all their elements ({@code List.of}, sub-lists, ...): elements first,
     * then the collection. It is referenced only once built, so it cannot contain itself (as with Java serialization's
     * {@code readResolve}).
     */
    static final class BuiltCollectionSerializer extends Serializer<Object> {
        private final Function<Object[], Object> build;
        private final boolean map;
        private final boolean retry;

        BuiltCollectionSerializer(Function<Object[], Object> build, boolean map, boolean retry) {
            this.build = build;
            this.map = map;
            this.retry = retry;
        }

        @Override
        public void write(Kryo kryo, Output output, Object c) {
            if (map) {
                writeEntries(kryo, output, snapshot((Map<?, ?>) c, retry));
            } else {
                writeElements(kryo, output, snapshot((Collection<?>) c, retry));
            }
        }

        /** Sets hash their elements when built, maps their keys: charged before building. */
        @Override
        public Object read(Kryo kryo, Input input, Class<?> type) {
            HashWork work = hashWork(kryo);
            Object[] flat = map ? new Object[count(input, 2) * 2] : new Object[count(input, 1)];
            boolean hashes = map || Set.class.isAssignableFrom(type);
            long weight = 1;
            for (int i = 0; i < flat.length; i++) {
                flat[i] = kryo.readClassAndObject(input);
                long w = work.weightOf(flat[i]);
                if (hashes && (!map || i % 2 == 0)) {
                    work.hashed(w);
                }
                weight = HashWork.add(weight, w);
            }
            Object built = build.apply(flat);
            work.remember(built, weight);
            return built;
        }
    }

    /** {@code Arrays.asList}: the list is referenced before its elements are read, as it is a view of an array. */
    static final class ArraysAsListSerializer extends Serializer<List<Object>> {
        @Override
        public void write(Kryo kryo, Output output, List<Object> list) {
            writeElements(kryo, output, list.toArray());
        }

        @Override
        public List<Object> read(Kryo kryo, Input input, Class<? extends List<Object>> type) {
            Object[] array = new Object[count(input, 1)];
            List<Object> list = Arrays.asList(array);
            kryo.reference(list);
            for (int i = 0; i < array.length; i++) {
                array[i] = kryo.readClassAndObject(input);
            }
            return list;
        }
    }

    /** {@code List.of(...)} and friends; lists with nulls ({@code Stream.toList()}) go through Stream.toList. */
    static Object immutableList(Object[] elements) {
        for (Object e : elements) {
            if (e == null) {
                return streamToList(elements);
            }
        }
        return List.of(elements);
    }

    static Object immutableSubList(Object[] elements) {
        for (Object e : elements) {
            if (e == null) {
                return ((List<?>) streamToList(Arrays.copyOf(elements, elements.length + 1))).subList(0,
                        elements.length);
            }
        }
        Object[] padded = Arrays.copyOf(elements, elements.length + 1);
        padded[elements.length] = Boolean.TRUE;
        return List.of(padded).subList(0, elements.length);
    }

    private static final MethodHandle STREAM_TO_LIST = findStreamToList();

    private static MethodHandle findStreamToList() {
        try {
            return MethodHandles.publicLookup().findVirtual(Stream.class, "toList", MethodType.methodType(List.class));
        } catch (ReflectiveOperationException e) {
            return null; // before Java 16: no immutable list with nulls exists
        }
    }

    private static Object streamToList(Object[] elements) {
        if (STREAM_TO_LIST == null) {
            throw new KryoException("an immutable list with nulls needs Java 16+");
        }
        try {
            return STREAM_TO_LIST.invoke(Arrays.stream(elements));
        } catch (Throwable e) {
            throw new KryoException("cannot build an immutable list", e);
        }
    }

    static Object immutableMap(Object[] flat) {
        @SuppressWarnings({"unchecked", "rawtypes"})
        Map.Entry<Object, Object>[] entries = new Map.Entry[flat.length / 2];
        for (int i = 0; i < entries.length; i++) {
            entries[i] = Map.entry(flat[2 * i], flat[2 * i + 1]);
        }
        return Map.ofEntries(entries);
    }
}
