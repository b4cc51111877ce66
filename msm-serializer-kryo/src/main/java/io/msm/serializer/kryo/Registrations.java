package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.serializers.ClosureSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers;
import com.esotericsoftware.minlog.Log;
import io.msm.serializer.kryo.BuiltCollectionSerializers.BuiltCollectionSerializer;
import io.msm.serializer.kryo.CollectionSerializers.CollectionSerializer;
import io.msm.serializer.kryo.CollectionSerializers.MapSerializer;
import io.msm.serializer.kryo.CollectionSerializers.WrapperSerializer;
import java.lang.reflect.InvocationHandler;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Currency;
import java.util.Date;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.Stack;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.Vector;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * msm's fixed Kryo registrations: common JDK classes get small ids instead of their names in every blob, and the
 * JDK types sessions hold get serializers that use public APIs only.
 *
 * <p><b>The ids are part of the stored format.</b> Every Tomcat sharing memcached must assign the same id to the same
 * class, so each entry has a fixed id; new entries take new ids, and an id is never reused. Application ids start at
 * {@link KryoTranscoderFactory#FIRST_APPLICATION_REGISTRATION_ID}.
 */
final class Registrations {
    private Registrations() {
    }

    private static final int BASE = 20;

    @SuppressWarnings({"unchecked", "rawtypes"})
    static void apply(Kryo kryo, JavaSerializer java, boolean retry) {
        Table t = new Table(kryo);
        // id = 20 + offset. Offsets 0..: plain values
        t.add(0, BigDecimal.class, null);
        t.add(1, BigInteger.class, null);
        t.add(2, Date.class, null);
        t.add(3, UUID.class, new DefaultSerializers.UUIDSerializer());
        t.add(4, URI.class, new DefaultSerializers.URISerializer());
        t.add(5, URL.class, null);
        t.add(6, Pattern.class, new DefaultSerializers.PatternSerializer());
        t.add(7, Locale.class, new LocaleSerializer(java));
        t.add(8, Currency.class, null);
        t.add(9, BitSet.class, null);
        t.add(10, StringBuilder.class, null);
        t.add(11, LocalDate.class, null);
        t.add(12, LocalTime.class, null);
        t.add(13, LocalDateTime.class, null);
        t.add(14, Instant.class, null);
        t.add(15, ZonedDateTime.class, null);
        t.add(16, OffsetDateTime.class, null);
        t.add(17, Duration.class, null);
        t.add(18, Object[].class, null);
        t.add(19, String[].class, null);
        t.add(20, byte[].class, null);
        t.add(21, int[].class, null);
        t.add(22, long[].class, null);
        t.add(23, InvocationHandler.class, new ProxySerializer());
        t.add(24, ClosureSerializer.Closure.class, SharedClosureSerializer.INSTANCE);
        t.add(25, Class.class, null);

        // 40..: mutable collections and maps
        t.add(40, ArrayList.class, coll(c -> new ArrayList<>(), false, retry));
        t.add(41, LinkedList.class, coll(c -> new LinkedList<>(), false, retry));
        t.add(42, HashSet.class, coll(c -> new HashSet<>(), false, retry));
        t.add(43, LinkedHashSet.class, coll(c -> new LinkedHashSet<>(), false, retry));
        t.add(44, TreeSet.class, coll(c -> new TreeSet<>((Comparator) c), true, retry));
        t.add(45, ArrayDeque.class, coll(c -> new ArrayDeque<>(), false, retry));
        t.add(46, Vector.class, coll(c -> new Vector<>(), false, retry));
        t.add(47, Stack.class, coll(c -> new Stack<>(), false, retry));
        t.add(48, PriorityQueue.class, coll(c -> new PriorityQueue<>((Comparator) c), true, retry));
        t.add(49, CopyOnWriteArrayList.class, coll(c -> new CopyOnWriteArrayList<>(), false, retry));
        t.add(50, CopyOnWriteArraySet.class, coll(c -> new CopyOnWriteArraySet<>(), false, retry));
        t.add(51, ConcurrentLinkedQueue.class, coll(c -> new ConcurrentLinkedQueue<>(), false, retry));
        t.add(52, ConcurrentLinkedDeque.class, coll(c -> new ConcurrentLinkedDeque<>(), false, retry));
        t.add(53, ConcurrentSkipListSet.class, coll(c -> new ConcurrentSkipListSet<>((Comparator) c), true, retry));
        t.add(54, PriorityBlockingQueue.class, coll(c -> new PriorityBlockingQueue<>(11, (Comparator) c), true,
                retry));
        t.add(60, HashMap.class, map(c -> new HashMap<>(), false, retry));
        t.add(61, LinkedHashMap.class, map(c -> new LinkedHashMap<>(), false, retry));
        t.add(62, TreeMap.class, map(c -> new TreeMap<>((Comparator) c), true, retry));
        t.add(63, Hashtable.class, map(c -> new Hashtable<>(), false, retry));
        t.add(64, IdentityHashMap.class, map(c -> new IdentityHashMap<>(), false, retry));
        t.add(65, ConcurrentHashMap.class, map(c -> new ConcurrentHashMap<>(), false, retry));
        t.add(66, ConcurrentSkipListMap.class, map(c -> new ConcurrentSkipListMap<>((Comparator) c), true, retry));
        t.add(67, EnumMap.class, new CollectionSerializers.EnumMapSerializer(java, retry));
        t.add(68, ConcurrentHashMap.newKeySet().getClass(), built(a -> {
            Set<Object> s = ConcurrentHashMap.newKeySet();
            s.addAll(Arrays.asList(a));
            return s;
        }, false, retry));

        // 80..: immutable collections, views and wrappers (classes found by asking the running JDK)
        t.add(80, List.of().getClass(), built(BuiltCollectionSerializers::immutableList, false, retry));
        t.add(81, List.of(1).getClass(), built(BuiltCollectionSerializers::immutableList, false, retry));
        t.add(82, List.of(1, 2, 3).getClass(), built(BuiltCollectionSerializers::immutableList, false, retry));
        t.add(83, List.of(1, 2, 3).subList(0, 2).getClass(),
                built(BuiltCollectionSerializers::immutableSubList, false, retry));
        t.add(84, Set.of().getClass(), built(a -> Set.of(a), false, retry));
        t.add(85, Set.of(1).getClass(), built(a -> Set.of(a), false, retry));
        t.add(86, Set.of(1, 2, 3).getClass(), built(a -> Set.of(a), false, retry));
        t.add(87, Map.of().getClass(), built(BuiltCollectionSerializers::immutableMap, true, retry));
        t.add(88, Map.of(1, 2).getClass(), built(BuiltCollectionSerializers::immutableMap, true, retry));
        t.add(89, Map.of(1, 2, 3, 4).getClass(), built(BuiltCollectionSerializers::immutableMap, true, retry));
        t.add(90, Arrays.asList(1).getClass(), new BuiltCollectionSerializers.ArraysAsListSerializer());
        t.add(91, new ArrayList<>(List.of(1)).subList(0, 1).getClass(),
                built(a -> new ArrayList<>(Arrays.asList(a)).subList(0, a.length), false, retry));
        t.add(92, new LinkedList<>(List.of(1)).subList(0, 1).getClass(),
                built(a -> new LinkedList<>(Arrays.asList(a)).subList(0, a.length), false, retry));
        t.add(93, Arrays.asList(1).subList(0, 1).getClass(),
                built(a -> Arrays.asList(a).subList(0, a.length), false, retry));
        t.add(94, Collections.emptyList().getClass(), null);
        t.add(95, Collections.emptySet().getClass(), null);
        t.add(96, Collections.emptyMap().getClass(), null);
        t.add(97, Collections.singletonList(1).getClass(), null);
        t.add(98, Collections.singleton(1).getClass(), null);
        t.add(99, Collections.singletonMap(1, 1).getClass(), null);

        t.wrapper(100, ArrayList::new, c -> Collections.unmodifiableCollection((Collection<Object>) c), false, false, false, retry);
        t.wrapper(101, ArrayList::new, l -> Collections.unmodifiableList((List<Object>) l), false, false, false,
                retry);
        t.wrapper(102, LinkedList::new, l -> Collections.unmodifiableList((List<Object>) l), false, false, false,
                retry);
        t.wrapper(103, LinkedHashSet::new, s -> Collections.unmodifiableSet((Set<Object>) s), false, false, false,
                retry);
        t.sortedWrapper(104, c -> new TreeSet<>((Comparator) c), s -> Collections.unmodifiableSortedSet(
                (SortedSet<Object>) s), false, false, retry);
        t.sortedWrapper(105, c -> new TreeSet<>((Comparator) c), s -> Collections.unmodifiableNavigableSet(
                (NavigableSet<Object>) s), false, false, retry);
        t.wrapper(106, LinkedHashMap::new, m -> Collections.unmodifiableMap((Map<Object, Object>) m), true, false,
                false, retry);
        t.sortedWrapper(107, c -> new TreeMap<>((Comparator) c), m -> Collections.unmodifiableSortedMap(
                (SortedMap<Object, Object>) m), true, false, retry);
        t.sortedWrapper(108, c -> new TreeMap<>((Comparator) c), m -> Collections.unmodifiableNavigableMap(
                (NavigableMap<Object, Object>) m), true, false, retry);
        t.wrapper(110, ArrayList::new, c -> Collections.synchronizedCollection((Collection<Object>) c), false, false,
                true, retry);
        t.wrapper(111, ArrayList::new, l -> Collections.synchronizedList((List<Object>) l), false, false, true,
                retry);
        t.wrapper(112, LinkedList::new, l -> Collections.synchronizedList((List<Object>) l), false, false, true,
                retry);
        t.wrapper(113, LinkedHashSet::new, s -> Collections.synchronizedSet((Set<Object>) s), false, false, true,
                retry);
        t.sortedWrapper(114, c -> new TreeSet<>((Comparator) c), s -> Collections.synchronizedSortedSet(
                (SortedSet<Object>) s), false, true, retry);
        t.sortedWrapper(115, c -> new TreeSet<>((Comparator) c), s -> Collections.synchronizedNavigableSet(
                (NavigableSet<Object>) s), false, true, retry);
        t.wrapper(116, LinkedHashMap::new, m -> Collections.synchronizedMap((Map<Object, Object>) m), true, false,
                true, retry);
        t.sortedWrapper(117, c -> new TreeMap<>((Comparator) c), m -> Collections.synchronizedSortedMap(
                (SortedMap<Object, Object>) m), true, true, retry);
        t.sortedWrapper(118, c -> new TreeMap<>((Comparator) c), m -> Collections.synchronizedNavigableMap(
                (NavigableMap<Object, Object>) m), true, true, retry);

        // 130..: atomics
        t.add(130, AtomicInteger.class, new DefaultSerializers.AtomicIntegerSerializer());
        t.add(131, AtomicLong.class, new DefaultSerializers.AtomicLongSerializer());
        t.add(132, AtomicBoolean.class, new DefaultSerializers.AtomicBooleanSerializer());
        t.add(133, AtomicReference.class, new DefaultSerializers.AtomicReferenceSerializer());
        t.add(134, AtomicIntegerArray.class, AtomicSerializers.<AtomicIntegerArray>arrayOf(a -> {
            Object[] v = new Object[a.length()];
            Arrays.setAll(v, a::get);
            return v;
        }, AtomicIntegerArray::new, (a, i, v) -> a.set(i, (Integer) v)));
        t.add(135, AtomicLongArray.class, AtomicSerializers.<AtomicLongArray>arrayOf(a -> {
            Object[] v = new Object[a.length()];
            Arrays.setAll(v, a::get);
            return v;
        }, AtomicLongArray::new, (a, i, v) -> a.set(i, (Long) v)));
        t.add(136, AtomicReferenceArray.class, AtomicSerializers.<AtomicReferenceArray<Object>>arrayOf(a -> {
            Object[] v = new Object[a.length()];
            Arrays.setAll(v, a::get);
            return v;
        }, AtomicReferenceArray::new, AtomicReferenceArray::set));
        t.add(137, LongAdder.class, AtomicSerializers.<LongAdder>valueOf(LongAdder::sum, v -> {
            LongAdder a = new LongAdder();
            a.add((Long) v);
            return a;
        }));
        t.add(138, DoubleAdder.class, AtomicSerializers.<DoubleAdder>valueOf(DoubleAdder::sum, v -> {
            DoubleAdder a = new DoubleAdder();
            a.add((Double) v);
            return a;
        }));
    }

    private static Serializer<?> coll(Function<Comparator<?>, Collection<Object>> factory, boolean sorted,
            boolean retry) {
        return new CollectionSerializer(factory, sorted, retry);
    }

    private static Serializer<?> map(Function<Comparator<?>, Map<Object, Object>> factory, boolean sorted,
            boolean retry) {
        return new MapSerializer(factory, sorted, retry);
    }

    private static Serializer<?> built(Function<Object[], Object> build, boolean isMap, boolean retry) {
        return new BuiltCollectionSerializer(build, isMap, retry);
    }

    /** Registers classes with fixed ids; a wrapper class is registered only if re-wrapping gives that same class. */
    private static final class Table {
        private final Kryo kryo;

        Table(Kryo kryo) {
            this.kryo = kryo;
        }

        void add(int offset, Class<?> type, Serializer<?> serializer) {
            int id = BASE + offset;
            if (serializer == null) {
                kryo.register(type, id);
            } else {
                kryo.register(type, serializer, id);
            }
        }

        void wrapper(int offset, Supplier<Object> backing, UnaryOperator<Object> wrap, boolean map, boolean sorted,
                boolean sync, boolean retry) {
            register(offset, c -> backing.get(), wrap, map, sorted, sync, retry);
        }

        void sortedWrapper(int offset, Function<Comparator<?>, Object> backing, UnaryOperator<Object> wrap,
                boolean map, boolean sync, boolean retry) {
            register(offset, backing, wrap, map, true, sync, retry);
        }

        private void register(int offset, Function<Comparator<?>, Object> backing, UnaryOperator<Object> wrap,
                boolean map, boolean sorted, boolean sync, boolean retry) {
            Class<?> type = wrap.apply(backing.apply(null)).getClass();
            add(offset, type, new WrapperSerializer(backing, wrap, map, sorted, sync, retry));
        }
    }

    /**
     * ClosureSerializer is stateless, but its constructor tries reflective access to SerializedLambda's private members
     * and, denied as it always is without --add-opens, logs a warning with a stack trace at every Tomcat start. The
     * access is optional (it then resolves lambdas through their capturing class, which works), so the warning is
     * noise: one instance per class loader, built with minlog's warnings off for that moment.
     */
    private static final class SharedClosureSerializer {
        static final ClosureSerializer INSTANCE = create();

        private static ClosureSerializer create() {
            boolean warn = Log.WARN;
            Log.WARN = false;
            try {
                return new ClosureSerializer();
            } finally {
                Log.WARN = warn;
            }
        }
    }
}
