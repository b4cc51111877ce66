package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.msm.internal.HashWork;
import io.msm.internal.JavaStreamScan;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.ConcurrentModificationException;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Serializers for the JDK types sessions hold, written against public JDK APIs only (no reflection into
 * {@code java.base}, so no {@code --add-opens}). Each one reads back an equal object of the same class.
 */
final class JdkSerializers {
    private JdkSerializers() {
    }

    /** Snapshot attempts of a collection another thread is changing, before giving up with a CME. */
    static final int SNAPSHOT_ATTEMPTS = 100;

    /**
     * The elements of {@code c} as an array. {@code retry}: a copy that meets a concurrent change is taken again
     * ({@code copyCollectionsForSerialization}); otherwise the failure propagates (and the engine serializes again).
     */
    static Object[] snapshot(Collection<?> c, boolean retry) {
        if (!retry) {
            return c.toArray();
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return c.toArray();
            } catch (RuntimeException e) { // CME, or a broken read of an unsynchronized collection (AIOOBE, NPE)
                if (attempt >= SNAPSHOT_ATTEMPTS) {
                    ConcurrentModificationException cme = new ConcurrentModificationException(
                            c.getClass().getName() + " kept changing while it was copied for serialization");
                    cme.initCause(e);
                    throw cme;
                }
                pause(attempt);
            }
        }
    }

    /**
     * Between two snapshot attempts: spins at first, then yields, then parks a little longer each time (at most 1 ms;
     * about 50 ms over all attempts), so that a copy preempted on a busy machine, or still interpreted while the
     * writer is compiled, gets a turn between two changes instead of spending its attempts within one.
     */
    private static void pause(int attempt) {
        if (attempt < 10) {
            Thread.onSpinWait();
        } else if (attempt < 20) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(Math.min(1_000_000L, 10_000L * attempt));
        }
    }

    /**
     * Keys and values of {@code m}, alternating. The keys are copied first (retried like a collection), then each
     * value is looked up: a key removed meanwhile is left out, a value changed meanwhile is taken as it is now.
     */
    static Object[] snapshot(Map<?, ?> m, boolean retry) {
        Object[] keys = snapshot(m.keySet(), retry);
        Object[] flat = new Object[keys.length * 2];
        int n = 0;
        for (Object k : keys) {
            Object v = m.get(k);
            if (v == null && !m.containsKey(k)) {
                continue;
            }
            flat[n++] = k;
            flat[n++] = v;
        }
        return n == flat.length ? flat : Arrays.copyOf(flat, n);
    }

    /** A count read from the input, refused if the rest of the input cannot hold that many items of a byte each. */
    static int count(Input input, int bytesPerItem) {
        int n = input.readVarInt(true);
        long remaining = input.limit() - input.position();
        if (n < 0 || (long) n * bytesPerItem > remaining) {
            throw new KryoException("declared " + n + " items, but only " + remaining + " bytes follow");
        }
        return n;
    }

    /** Starts a session read's hashing account for a blob of this size (Kryo's reset ends it). */
    @SuppressWarnings("unchecked")
    static void startHashWork(Kryo kryo, long blobBytes) {
        kryo.getGraphContext().put(HashWork.class, new HashWork(blobBytes));
    }

    /** This session read's hashing account ({@link HashWork}), kept in Kryo's graph context (cleared by reset). */
    @SuppressWarnings("unchecked")
    static HashWork hashWork(Kryo kryo) {
        HashWork work = (HashWork) kryo.getGraphContext().get(HashWork.class);
        if (work == null) {
            work = new HashWork(0);
            kryo.getGraphContext().put(HashWork.class, work);
        }
        return work;
    }

    /** Whether adding to this set or map hashes the element or key (sorted, identity and enum ones do not). */
    static boolean hashes(Object container) {
        return container instanceof Set && !(container instanceof SortedSet)
                || container instanceof Map && !(container instanceof SortedMap)
                        && !(container instanceof IdentityHashMap) && !(container instanceof EnumMap);
    }

    /** Reads {@code n} elements into {@code c}, charging their hashing if {@code c} hashes; returns c's weight. */
    static long readInto(Kryo kryo, Input input, Collection<Object> c, int n) {
        HashWork work = hashWork(kryo);
        boolean hashes = hashes(c);
        long weight = 1;
        for (int i = 0; i < n; i++) {
            Object e = kryo.readClassAndObject(input);
            long w = work.weightOf(e);
            if (hashes) {
                work.hashed(w);
            }
            weight = HashWork.add(weight, w);
            c.add(e);
        }
        return weight;
    }

    static void writeElements(Kryo kryo, Output output, Object[] elements) {
        output.writeVarInt(elements.length, true);
        for (Object e : elements) {
            kryo.writeClassAndObject(output, e);
        }
    }

    static Object[] readElements(Kryo kryo, Input input) {
        Object[] elements = new Object[count(input, 1)];
        for (int i = 0; i < elements.length; i++) {
            elements[i] = kryo.readClassAndObject(input);
        }
        return elements;
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

    static void writeEntries(Kryo kryo, Output output, Object[] flat) {
        output.writeVarInt(flat.length / 2, true);
        for (Object o : flat) {
            kryo.writeClassAndObject(output, o);
        }
    }

    /** Reads entries into {@code into}, charging the keys' hashing if it hashes them, and remembers its weight. */
    static void readEntries(Kryo kryo, Input input, Map<Object, Object> into) {
        HashWork work = hashWork(kryo);
        boolean hashes = hashes(into);
        long weight = 1;
        int n = count(input, 2);
        for (int i = 0; i < n; i++) {
            Object k = kryo.readClassAndObject(input);
            long w = work.weightOf(k);
            Object v = kryo.readClassAndObject(input);
            if (hashes) {
                work.hashed(w);
            }
            weight = HashWork.add(HashWork.add(weight, w), work.weightOf(v));
            into.put(k, v);
        }
        work.remember(into, weight);
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

    // ------------------------------------------------------------------ atomics

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

    // ------------------------------------------------------------------ Locale

    /** A Locale as its language tag when that round-trips (script, extensions and all), else in Java form. */
    static final class LocaleSerializer extends Serializer<Locale> {
        private final JavaSerializer java;

        LocaleSerializer(JavaSerializer java) {
            this.java = java;
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output output, Locale locale) {
            String tag = locale.toLanguageTag();
            if (Locale.forLanguageTag(tag).equals(locale)) {
                output.writeString(tag);
            } else {
                output.writeString(null);
                java.write(kryo, output, locale);
            }
        }

        @Override
        public Locale read(Kryo kryo, Input input, Class<? extends Locale> type) {
            String tag = input.readString();
            if (tag != null) {
                return Locale.forLanguageTag(tag);
            }
            Object l = java.read(kryo, input, Object.class);
            if (!(l instanceof Locale)) {
                throw new KryoException("expected a Locale");
            }
            return (Locale) l;
        }
    }

    // ------------------------------------------------------------------ JDK dynamic proxies

    /**
     * A JDK dynamic proxy (Kryo routes every proxy class to the registration of {@link InvocationHandler}): its
     * interfaces and its handler; read back as a proxy defined in the webapp class loader.
     */
    static final class ProxySerializer extends Serializer<Object> {
        @Override
        public void write(Kryo kryo, Output output, Object proxy) {
            if (!Proxy.isProxyClass(proxy.getClass())) {
                throw new KryoException(proxy.getClass().getName() + " is an InvocationHandler, not a proxy; "
                        + "register a serializer for it");
            }
            Class<?>[] interfaces = proxy.getClass().getInterfaces();
            output.writeVarInt(interfaces.length, true);
            for (Class<?> i : interfaces) {
                kryo.writeClass(output, i);
            }
            kryo.writeClassAndObject(output, Proxy.getInvocationHandler(proxy));
        }

        @Override
        public Object read(Kryo kryo, Input input, Class<?> type) {
            Class<?>[] interfaces = new Class<?>[count(input, 1)];
            for (int i = 0; i < interfaces.length; i++) {
                Registration r = kryo.readClass(input);
                if (r == null || !r.getType().isInterface()) {
                    throw new KryoException("proxy interface expected, got " + r);
                }
                interfaces[i] = r.getType();
            }
            Object handler = kryo.readClassAndObject(input);
            if (!(handler instanceof InvocationHandler)) {
                throw new KryoException("proxy handler expected, got " + (handler == null ? null
                        : handler.getClass().getName()));
            }
            try {
                return Proxy.newProxyInstance(kryo.getClassLoader(), interfaces, (InvocationHandler) handler);
            } catch (IllegalArgumentException e) {
                throw new KryoException("cannot define a proxy for " + Arrays.toString(interfaces)
                        + " in the webapp class loader: " + e.getMessage(), e);
            }
        }
    }

    // ------------------------------------------------------------------ Java serialization, for the long tail

    /**
     * Java serialization inside the Kryo stream, for {@link java.io.Serializable} JDK classes Kryo has no
     * serializer for and cannot reflect into. Reading resolves classes through the webapp loader and applies the
     * same deny list, plus depth and allocation limits.
     */
    static final class JavaSerializer extends Serializer<Object> {
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

    /**
     * Java serialization under msm's deny list, depth and allocation bounds, and the JVM-wide filter an
     * administrator may have set ({@code -Djdk.serialFilter} or a filter factory): setting a stream's filter replaces
     * the JVM-wide one, so this filter applies it first; a class either rejects is refused.
     */
    static final class FilteredObjectInputStream extends ObjectInputStream {
        private final ClassLoader loader;
        private final ClassPolicy policy;
        Class<?> rejected;
        String rejectedBy;

        FilteredObjectInputStream(InputStream in, ClassLoader loader, ClassPolicy policy, long streamBytes)
                throws IOException {
            super(in);
            this.loader = loader;
            this.policy = policy;
            ObjectInputFilter jvmWide = getObjectInputFilter();
            long[] arrayElements = new long[1];
            setObjectInputFilter(info -> {
                if (info.depth() > 100) {
                    return ObjectInputFilter.Status.REJECTED;
                }
                if (info.arrayLength() >= 0) {
                    arrayElements[0] += info.arrayLength();
                    if (arrayElements[0] > streamBytes) {
                        return ObjectInputFilter.Status.REJECTED;
                    }
                }
                ObjectInputFilter.Status admin = jvmWide == null ? ObjectInputFilter.Status.UNDECIDED
                        : jvmWide.checkInput(info);
                Class<?> c = info.serialClass();
                if (admin == ObjectInputFilter.Status.REJECTED) {
                    return reject(c, "the JVM-wide deserialization filter (jdk.serialFilter)");
                }
                String denied = c == null ? null : policy.denyingPattern(c);
                if (denied != null) {
                    return reject(c, denied.equals(ClassPolicy.CONFIGURED_FILTER)
                            ? "the configured deserializationFilter" : "msm's Kryo deny list (" + denied + ")");
                }
                return admin;
            });
        }

        private ObjectInputFilter.Status reject(Class<?> c, String by) {
            if (c != null && rejected == null) {
                rejected = c;
                rejectedBy = by;
            }
            return ObjectInputFilter.Status.REJECTED;
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            try {
                return Class.forName(desc.getName(), false, loader);
            } catch (ClassNotFoundException e) {
                String denied = policy.denyingPattern(desc.getName());
                if (denied != null) { // not here, and refused if it were
                    rejectedBy = "msm's Kryo deny list (" + denied + ")";
                    throw new InvalidClassException(desc.getName(), "is refused by " + rejectedBy);
                }
                return super.resolveClass(desc);
            }
        }

        @Override
        @SuppressWarnings("deprecation")
        protected Class<?> resolveProxyClass(String[] interfaces) throws ClassNotFoundException {
            Class<?>[] resolved = new Class<?>[interfaces.length];
            for (int i = 0; i < interfaces.length; i++) {
                resolved[i] = Class.forName(interfaces[i], false, loader);
            }
            try {
                return Proxy.getProxyClass(loader, resolved);
            } catch (IllegalArgumentException e) {
                throw new ClassNotFoundException("proxy for " + String.join(", ", interfaces), e);
            }
        }
    }

    /** Stands for a class msm's Kryo cannot store faithfully: fails on write (and read) with the reason. */
    static final class RefusingSerializer extends Serializer<Object> {
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
}
