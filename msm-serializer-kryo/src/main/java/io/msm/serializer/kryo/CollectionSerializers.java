package io.msm.serializer.kryo;

import static io.msm.serializer.kryo.JdkSerializers.count;
import static io.msm.serializer.kryo.JdkSerializers.hashWork;
import static io.msm.serializer.kryo.JdkSerializers.readEntries;
import static io.msm.serializer.kryo.JdkSerializers.readInto;
import static io.msm.serializer.kryo.JdkSerializers.snapshot;
import static io.msm.serializer.kryo.JdkSerializers.writeElements;
import static io.msm.serializer.kryo.JdkSerializers.writeEntries;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Serializers for the mutable JDK collections and maps, their {@code Collections.unmodifiable*} and
 * {@code synchronized*} wrappers, and {@link EnumMap}: each new container is referenced before its contents are
 * read, so a container that contains itself reads back.
 */
final class CollectionSerializers {
    private CollectionSerializers() {
    }

    // ------------------------------------------------------------------ mutable collections and maps

    /**
     * A mutable collection: its comparator (sorted kinds), then its elements. The new collection is referenced
     * before its elements are read, so a collection that contains itself reads back.
     */
    static final class CollectionSerializer extends Serializer<Collection<Object>> {
        private final Function<Comparator<?>, Collection<Object>> factory;
        private final boolean sorted;
        private final boolean retry;

        CollectionSerializer(Function<Comparator<?>, Collection<Object>> factory, boolean sorted, boolean retry) {
            this.factory = factory;
            this.sorted = sorted;
            this.retry = retry;
        }

        @Override
        public void write(Kryo kryo, Output output, Collection<Object> c) {
            if (sorted) {
                kryo.writeClassAndObject(output, comparatorOf(c));
            }
            writeElements(kryo, output, snapshot(c, retry));
        }

        @Override
        public Collection<Object> read(Kryo kryo, Input input, Class<? extends Collection<Object>> type) {
            Comparator<?> comparator = sorted ? (Comparator<?>) kryo.readClassAndObject(input) : null;
            Collection<Object> c = factory == null ? kryo.newInstance(type) : factory.apply(comparator);
            kryo.reference(c);
            hashWork(kryo).remember(c, readInto(kryo, input, c, count(input, 1)));
            return c;
        }

        static Comparator<?> comparatorOf(Collection<?> c) {
            if (c instanceof SortedSet) {
                return ((SortedSet<?>) c).comparator();
            }
            if (c instanceof java.util.PriorityQueue) {
                return ((java.util.PriorityQueue<?>) c).comparator();
            }
            if (c instanceof PriorityBlockingQueue) {
                return ((PriorityBlockingQueue<?>) c).comparator();
            }
            return null;
        }
    }

    /** A mutable map: its comparator (sorted kinds), then keys and values. */
    static final class MapSerializer extends Serializer<Map<Object, Object>> {
        private final Function<Comparator<?>, Map<Object, Object>> factory;
        private final boolean sorted;
        private final boolean retry;

        MapSerializer(Function<Comparator<?>, Map<Object, Object>> factory, boolean sorted, boolean retry) {
            this.factory = factory;
            this.sorted = sorted;
            this.retry = retry;
        }

        @Override
        public void write(Kryo kryo, Output output, Map<Object, Object> m) {
            if (sorted) {
                kryo.writeClassAndObject(output, ((SortedMap<?, ?>) m).comparator());
            }
            writeEntries(kryo, output, snapshot(m, retry));
        }

        @Override
        public Map<Object, Object> read(Kryo kryo, Input input, Class<? extends Map<Object, Object>> type) {
            Comparator<?> comparator = sorted ? (Comparator<?>) kryo.readClassAndObject(input) : null;
            Map<Object, Object> m = factory == null ? kryo.newInstance(type) : factory.apply(comparator);
            kryo.reference(m);
            readEntries(kryo, input, m);
            return m;
        }
    }

    // ------------------------------------------------------------------ Collections.unmodifiable*/synchronized*

    /**
     * {@code Collections.unmodifiableX(..)} and {@code synchronizedX(..)}: written as their elements (a synchronized
     * one under its own lock, as its Javadoc asks for iteration), read back as the same wrapper class around a fresh
     * collection of the matching kind. The wrapped collection's own class is not kept (no public API reveals it).
     */
    static final class WrapperSerializer extends Serializer<Object> {
        private final Function<Comparator<?>, Object> backing;
        private final UnaryOperator<Object> wrap;
        private final boolean map;
        private final boolean sorted;
        private final boolean synchronizedWrapper;
        private final boolean retry;

        WrapperSerializer(Function<Comparator<?>, Object> backing, UnaryOperator<Object> wrap, boolean map,
                boolean sorted, boolean synchronizedWrapper, boolean retry) {
            this.backing = backing;
            this.wrap = wrap;
            this.map = map;
            this.sorted = sorted;
            this.synchronizedWrapper = synchronizedWrapper;
            this.retry = retry;
        }

        @Override
        public void write(Kryo kryo, Output output, Object wrapper) {
            Object[] contents;
            if (synchronizedWrapper) {
                synchronized (wrapper) {
                    contents = contents(wrapper);
                }
            } else {
                contents = contents(wrapper);
            }
            if (sorted) {
                kryo.writeClassAndObject(output, wrapper instanceof SortedMap ? ((SortedMap<?, ?>) wrapper).comparator()
                        : ((SortedSet<?>) wrapper).comparator());
            }
            if (map) {
                writeEntries(kryo, output, contents);
            } else {
                writeElements(kryo, output, contents);
            }
        }

        private Object[] contents(Object wrapper) {
            return map ? snapshot((Map<?, ?>) wrapper, retry) : snapshot((Collection<?>) wrapper, retry);
        }

        @Override
        @SuppressWarnings("unchecked")
        public Object read(Kryo kryo, Input input, Class<?> type) {
            Comparator<?> comparator = sorted ? (Comparator<?>) kryo.readClassAndObject(input) : null;
            Object inner = backing.apply(comparator);
            Object wrapper = wrap.apply(inner);
            kryo.reference(wrapper);
            if (map) {
                readEntries(kryo, input, (Map<Object, Object>) inner);
                hashWork(kryo).remember(wrapper, hashWork(kryo).weightOf(inner));
            } else {
                hashWork(kryo).remember(wrapper, readInto(kryo, input, (Collection<Object>) inner, count(input, 1)));
            }
            return wrapper;
        }
    }

    // ------------------------------------------------------------------ EnumMap

    /** A non-empty EnumMap as its key type and entries; an empty one (whose key type no public API shows) in Java form. */
    static final class EnumMapSerializer extends Serializer<EnumMap<?, ?>> {
        private final JavaSerializer java;
        private final boolean retry;

        EnumMapSerializer(JavaSerializer java, boolean retry) {
            this.java = java;
            this.retry = retry;
        }

        @Override
        public void write(Kryo kryo, Output output, EnumMap<?, ?> m) {
            Object[] flat = snapshot(m, retry);
            if (flat.length == 0) {
                output.writeByte(0);
                java.write(kryo, output, m);
                return;
            }
            output.writeByte(1);
            kryo.writeClass(output, ((Enum<?>) flat[0]).getDeclaringClass());
            output.writeVarInt(flat.length / 2, true);
            for (int i = 0; i < flat.length; i += 2) {
                kryo.writeObject(output, flat[i]);
                kryo.writeClassAndObject(output, flat[i + 1]);
            }
        }

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public EnumMap<?, ?> read(Kryo kryo, Input input, Class<? extends EnumMap<?, ?>> type) {
            if (input.readByte() == 0) {
                Object m = java.read(kryo, input, Object.class);
                if (!(m instanceof EnumMap)) {
                    throw new KryoException("expected an EnumMap");
                }
                return (EnumMap<?, ?>) m;
            }
            Registration keys = kryo.readClass(input);
            if (keys == null || !keys.getType().isEnum()) {
                throw new KryoException("EnumMap key type is not an enum: " + keys);
            }
            EnumMap m = new EnumMap(keys.getType());
            kryo.reference(m);
            int n = count(input, 2);
            for (int i = 0; i < n; i++) {
                Object k = kryo.readObject(input, keys.getType());
                m.put(k, kryo.readClassAndObject(input));
            }
            return m;
        }
    }
}
