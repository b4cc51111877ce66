package io.msm.test.transcoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderContext;
import io.msm.spi.TranscoderException;
import io.msm.spi.TranscoderFactory;
import io.msm.test.fuzz.Fuzzer;
import io.msm.test.transcoder.ContractTypes.Color;
import io.msm.test.transcoder.ContractTypes.Greeter;
import io.msm.test.transcoder.ContractTypes.Node;
import io.msm.test.transcoder.ContractTypes.Op;
import io.msm.test.transcoder.ContractTypes.Order;
import io.msm.test.transcoder.ContractTypes.Point;
import io.msm.test.transcoder.ContractTypes.PrefixHandler;
import io.msm.test.transcoder.ContractTypes.User;
import io.msm.test.transcoder.ContractTypes.Wizard;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.ConcurrentModificationException;
import java.util.Currency;
import java.util.Date;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.Vector;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The round-trip contract of a {@link SessionAttributesTranscoder}. A serializer module tests itself by extending
 * this class and naming its factory.
 *
 * <p>Each value case is stored as a session attribute and read back; it must come back <em>equal</em> (by
 * {@code equals}, or by its contents for types without value equality) and, unless the case says otherwise, of the
 * same class. A transcoder may declare a case {@link #unsupportedCases() unsupported}: then that value must be left
 * out of the session or fail with {@link TranscoderException}, never come back different.
 */
public abstract class TranscoderContract {

    /** The factory under test. */
    protected abstract TranscoderFactory factory();

    /**
     * Names of value cases this transcoder documents it cannot store (e.g. Java serialization and non-serializable
     * JDK views). Defaults to none.
     */
    protected Set<String> unsupportedCases() {
        return Set.of();
    }

    protected final SessionAttributesTranscoder transcoder(ClassLoader loader, boolean copyCollections,
            List<String> customConverters) {
        return factory().createTranscoder(context(loader, copyCollections, customConverters, "/contract"));
    }

    /** A transcoder context for tests: the given class loader, options and name. */
    public static TranscoderContext context(ClassLoader loader, boolean copyCollections,
            List<String> customConverters, String name) {
        return context(loader, copyCollections, customConverters, name, null);
    }

    /** A transcoder context for tests, with a {@code deserializationFilter} pattern (or {@code null}). */
    public static TranscoderContext context(ClassLoader loader, boolean copyCollections,
            List<String> customConverters, String name, String deserializationFilter) {
        return new TranscoderContext() {
            @Override
            public java.util.Optional<String> deserializationFilter() {
                return java.util.Optional.ofNullable(deserializationFilter);
            }

            @Override
            public ClassLoader classLoader() {
                return loader;
            }

            @Override
            public boolean copyCollectionsForSerialization() {
                return copyCollections;
            }

            @Override
            public List<String> customConverterClassNames() {
                return customConverters;
            }

            @Override
            public String name() {
                return name;
            }
        };
    }

    protected final SessionAttributesTranscoder transcoder() {
        return transcoder(getClass().getClassLoader(), false, List.of());
    }

    // ------------------------------------------------------------------ value cases

    /** One value to store; {@code check} asserts that what came back matches what went in. */
    public static final class Case {
        final String name;
        final Supplier<Object> value;
        final BiConsumer<Object, Object> check;

        Case(String name, Supplier<Object> value, BiConsumer<Object, Object> check) {
            this.name = name;
            this.value = value;
            this.check = check;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Equal and of the same class. */
    static Case same(String name, Supplier<Object> value) {
        return new Case(name, value, (in, out) -> {
            assertEquals(in.getClass(), out.getClass(), "class");
            assertTrue(deepEquals(in, out), () -> "read back " + out + ", stored " + in);
        });
    }

    /** Same class, compared through a view (for types without value equality). */
    static Case via(String name, Supplier<Object> value, Function<Object, Object> view) {
        return new Case(name, value, (in, out) -> {
            assertEquals(in.getClass(), out.getClass(), "class");
            assertEquals(view.apply(in), view.apply(out));
        });
    }

    static boolean deepEquals(Object a, Object b) {
        return Objects.deepEquals(a, b);
    }

    static ArrayList<Object> arrayList(Object... items) {
        return new ArrayList<>(Arrays.asList(items));
    }

    static URL url(String spec) {
        try {
            return URI.create(spec).toURL();
        } catch (java.net.MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static Object contents(Object collection) {
        return new ArrayList<>((Collection<?>) collection);
    }

    static Object sortedContents(Object collection) {
        return ((Collection<?>) collection).stream().map(String::valueOf).sorted().collect(Collectors.toList());
    }

    public static Stream<Case> cases() throws Exception {
        List<Case> c = new ArrayList<>();
        // scalars and arrays
        c.add(same("String", () -> "grüße \u2603 " + "x".repeat(300)));
        c.add(same("Integer", () -> -42));
        c.add(same("Long", () -> Long.MIN_VALUE));
        c.add(same("Double", () -> 3.25));
        c.add(same("Boolean", () -> true));
        c.add(same("Character", () -> 'ß'));
        c.add(same("byte[]", () -> new byte[] {1, -2, 3}));
        c.add(same("int[]", () -> new int[] {1, Integer.MAX_VALUE, -7}));
        c.add(same("long[][]", () -> new long[][] {{1L}, {2L, 3L}}));
        c.add(same("String[]", () -> new String[] {"a", null, "c"}));
        c.add(same("Object[] mixed", () -> new Object[] {"a", 1, LocalDate.of(2026, 1, 2), null}));
        c.add(via("StringBuilder", () -> new StringBuilder("abc"), String::valueOf));
        // plain collections
        c.add(same("ArrayList", () -> arrayList("a", null, 3, List.of("x"))));
        c.add(same("LinkedList", () -> new LinkedList<>(List.of("a", "b"))));
        c.add(same("Vector", () -> new Vector<>(List.of(1, 2))));
        c.add(same("HashMap", () -> new HashMap<>(Map.of("a", 1, "b", 2))));
        c.add(via("LinkedHashMap keeps order", () -> {
            Map<String, Integer> m = new LinkedHashMap<>();
            m.put("z", 1);
            m.put("a", 2);
            m.put("m", 3);
            return m;
        }, m -> new ArrayList<>(((Map<?, ?>) m).entrySet())));
        c.add(same("Hashtable", () -> new Hashtable<>(Map.of("a", 1))));
        c.add(same("HashSet", () -> new HashSet<>(Set.of("a", "b", "c"))));
        c.add(via("LinkedHashSet keeps order", () -> new LinkedHashSet<>(List.of("z", "a", "m")),
                TranscoderContract::contents));
        c.add(same("TreeMap", () -> new TreeMap<>(Map.of("b", 1, "a", 2))));
        c.add(via("TreeMap with reverse comparator", () -> {
            TreeMap<String, Integer> m = new TreeMap<>(Collections.reverseOrder());
            m.putAll(Map.of("b", 1, "a", 2, "c", 3));
            return m;
        }, m -> new ArrayList<>(((Map<?, ?>) m).keySet()) + " " + ((TreeMap<?, ?>) m).comparator()));
        c.add(via("TreeSet case-insensitive", () -> {
            TreeSet<String> s = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
            s.addAll(List.of("b", "A", "c"));
            return s;
        }, s -> contents(s) + " contains B: " + ((TreeSet<?>) s).contains("B")));
        c.add(via("ArrayDeque", () -> new ArrayDeque<>(List.of(3, 1, 2)), TranscoderContract::contents));
        c.add(via("PriorityQueue", () -> new PriorityQueue<>(List.of(3, 1, 2)), q -> ((PriorityQueue<?>) q).peek()
                + " " + sortedContents(q)));
        // wrappers and views
        c.add(same("unmodifiableList(ArrayList)", () -> Collections.unmodifiableList(arrayList("a", "b"))));
        c.add(same("unmodifiableList(LinkedList)", () -> Collections.unmodifiableList(new LinkedList<>(List.of(1)))));
        c.add(same("unmodifiableSet", () -> Collections.unmodifiableSet(new HashSet<>(Set.of(1, 2)))));
        c.add(same("unmodifiableMap", () -> Collections.unmodifiableMap(new HashMap<>(Map.of("k", "v")))));
        c.add(same("unmodifiableSortedMap", () -> Collections.unmodifiableSortedMap(new TreeMap<>(Map.of("k", 1)))));
        c.add(same("unmodifiableSortedSet", () -> Collections.unmodifiableSortedSet(new TreeSet<>(Set.of(2, 1)))));
        c.add(via("unmodifiableCollection", () -> Collections.unmodifiableCollection(arrayList(1, 2)),
                TranscoderContract::contents));
        c.add(same("synchronizedList", () -> Collections.synchronizedList(arrayList("a"))));
        c.add(same("synchronizedMap", () -> Collections.synchronizedMap(new HashMap<>(Map.of("k", 1)))));
        c.add(same("synchronizedSet", () -> Collections.synchronizedSet(new HashSet<>(Set.of("a")))));
        c.add(same("synchronizedSortedMap", () -> Collections.synchronizedSortedMap(new TreeMap<>(Map.of(1, 2)))));
        c.add(same("emptyList", Collections::emptyList));
        c.add(same("emptyMap", Collections::emptyMap));
        c.add(same("singletonList", () -> Collections.singletonList("one")));
        c.add(same("singletonMap", () -> Collections.singletonMap("k", "v")));
        c.add(same("List.of()", List::of));
        c.add(same("List.of(1)", () -> List.of(1)));
        c.add(same("List.of(1, 2, 3)", () -> List.of(1, 2, 3)));
        c.add(same("List.copyOf", () -> List.copyOf(arrayList("a", "b", "c", "d"))));
        c.add(same("Set.of(...)", () -> Set.of("a", "b", "c")));
        c.add(same("Set.of(1)", () -> Set.of(1)));
        c.add(same("Map.of(...)", () -> Map.of("a", 1, "b", 2, "c", 3)));
        c.add(same("Map.of(k, v)", () -> Map.of("a", 1)));
        c.add(same("Stream.toList with nulls", () -> Stream.of("a", null, "b").toList()));
        c.add(same("Arrays.asList", () -> Arrays.asList("a", "b")));
        c.add(same("ArrayList.subList", () -> arrayList(1, 2, 3, 4).subList(1, 3)));
        c.add(same("LinkedList.subList", () -> new LinkedList<>(List.of(1, 2, 3)).subList(0, 2)));
        c.add(new Case("List.of(..).subList", () -> List.of(1, 2, 3, 4).subList(1, 3), (in, out) -> {
            assertEquals(in, out);
            assertEquals(in.getClass(), out.getClass(), "class");
            assertThrows(UnsupportedOperationException.class, () -> ((List<?>) out).clear(), "still immutable");
        }));
        c.add(same("EnumMap", () -> new EnumMap<>(Map.of(Color.RED, "r", Color.BLUE, "b"))));
        c.add(new Case("EnumMap empty", () -> new EnumMap<Color, String>(Color.class), (in, out) -> {
            assertEquals(EnumMap.class, out.getClass());
            assertEquals(in, out);
            @SuppressWarnings("unchecked")
            EnumMap<Color, String> m = (EnumMap<Color, String>) out;
            m.put(Color.GREEN, "g"); // the key type survived
            assertThrows(ClassCastException.class, () -> putUnchecked(m, "x", "y"));
        }));
        c.add(same("EnumSet", () -> EnumSet.of(Color.RED, Color.BLUE)));
        c.add(new Case("EnumSet empty", () -> EnumSet.noneOf(Color.class), (in, out) -> {
            assertEquals(in, out);
            assertEquals(EnumSet.allOf(Color.class), EnumSet.complementOf((EnumSet<?>) out), "element type survived");
        }));
        // concurrent
        c.add(same("ConcurrentHashMap", () -> new ConcurrentHashMap<>(Map.of("a", 1, "b", 2))));
        c.add(same("ConcurrentSkipListMap", () -> new ConcurrentSkipListMap<>(Map.of("b", 1, "a", 2))));
        c.add(via("ConcurrentSkipListSet reverse", () -> {
            ConcurrentSkipListSet<Integer> s = new ConcurrentSkipListSet<>(Collections.reverseOrder());
            s.addAll(List.of(1, 3, 2));
            return s;
        }, TranscoderContract::contents));
        c.add(same("CopyOnWriteArrayList", () -> new CopyOnWriteArrayList<>(List.of("a", "b"))));
        c.add(via("ConcurrentLinkedQueue", () -> new ConcurrentLinkedQueue<>(List.of(1, 2)),
                TranscoderContract::contents));
        c.add(via("ConcurrentHashMap.newKeySet", () -> {
            Set<String> s = ConcurrentHashMap.newKeySet();
            s.addAll(List.of("a", "b"));
            return s;
        }, TranscoderContract::sortedContents));
        // atomics
        c.add(via("AtomicInteger", () -> new AtomicInteger(7), String::valueOf));
        c.add(via("AtomicLong", () -> new AtomicLong(-7), String::valueOf));
        c.add(via("AtomicBoolean", () -> new AtomicBoolean(true), String::valueOf));
        c.add(via("AtomicReference", () -> new AtomicReference<>(List.of("x")), String::valueOf));
        c.add(via("AtomicIntegerArray", () -> new AtomicIntegerArray(new int[] {1, 2}), String::valueOf));
        c.add(via("AtomicLongArray", () -> new AtomicLongArray(new long[] {3, 4}), String::valueOf));
        c.add(via("LongAdder", () -> {
            LongAdder a = new LongAdder();
            a.add(41);
            a.increment();
            return a;
        }, a -> ((LongAdder) a).sum()));
        // values
        c.add(same("BitSet", () -> BitSet.valueOf(new long[] {0b1011L, 1L << 63})));
        c.add(via("Pattern", () -> Pattern.compile("a+b?"), p -> p.toString() + ((Pattern) p).flags()));
        c.add(via("Pattern with flags", () -> Pattern.compile("^ab$", Pattern.CASE_INSENSITIVE | Pattern.MULTILINE),
                p -> p.toString() + ((Pattern) p).flags() + ((Pattern) p).matcher("x\nAB").find()));
        c.add(same("LocalDate", () -> LocalDate.of(2026, 11, 21)));
        c.add(same("LocalTime", () -> LocalTime.of(23, 59, 1, 5)));
        c.add(same("LocalDateTime", () -> LocalDateTime.of(2026, 11, 21, 10, 15, 30, 123456789)));
        c.add(same("Instant", () -> Instant.ofEpochSecond(1_700_000_000L, 42)));
        c.add(same("ZonedDateTime", () -> ZonedDateTime.of(2026, 3, 29, 2, 30, 0, 0, ZoneId.of("Europe/Berlin"))));
        c.add(same("OffsetDateTime", () -> OffsetDateTime.of(2026, 1, 1, 0, 0, 0, 0, ZoneOffset.ofHours(-5))));
        c.add(same("Duration", () -> Duration.ofMillis(90061001)));
        c.add(same("Period", () -> Period.of(1, 2, 3)));
        c.add(via("ZoneId", () -> ZoneId.of("America/New_York"), String::valueOf));
        c.add(same("ZoneOffset", () -> ZoneOffset.ofHoursMinutes(5, 30)));
        c.add(same("Year", () -> Year.of(2026)));
        c.add(same("YearMonth", () -> YearMonth.of(2026, 2)));
        c.add(same("MonthDay", () -> MonthDay.of(2, 29)));
        c.add(same("DayOfWeek", () -> DayOfWeek.FRIDAY));
        c.add(same("Date", () -> new Date(1_700_000_000_123L)));
        c.add(same("UUID", () -> UUID.fromString("123e4567-e89b-12d3-a456-426614174000")));
        c.add(same("BigDecimal", () -> new BigDecimal("-12345678901234567890.0012300")));
        c.add(same("BigInteger", () -> new BigInteger("123456789012345678901234567890")));
        c.add(same("Locale", () -> Locale.GERMANY));
        c.add(same("Locale with script and variant", () -> new Locale.Builder().setLanguage("sr").setScript("Latn")
                .setRegion("RS").setVariant("POSIX").build()));
        c.add(same("Currency", () -> Currency.getInstance("EUR")));
        c.add(same("URI", () -> URI.create("https://example.org/a%20b?q=1#frag")));
        c.add(via("URL", () -> url("https://example.org:8443/p?q=1"), String::valueOf));
        // the application's own types
        c.add(same("enum", () -> Color.GREEN));
        c.add(new Case("enum constant with a body", () -> Op.TIMES, (in, out) -> assertSame(in, out)));
        c.add(same("record", () -> new Point(1, -2)));
        c.add(same("record holding collections", () -> new Order("o1", List.of(new Point(1, 2)), Color.RED,
                new BigDecimal("9.99"))));
        c.add(same("object without no-arg constructor", () -> new User("alice", List.of("admin"),
                LocalDate.of(2020, 1, 1))));
        c.add(new Case("inner class keeps its outer instance", () -> {
            Wizard w = new Wizard("checkout");
            w.addStep("address");
            return w.addStep("payment");
        }, (in, out) -> {
            Wizard.Step s = (Wizard.Step) out;
            assertEquals("payment", s.name());
            assertEquals("checkout", s.wizard().title());
            assertEquals(2, s.wizard().steps().size());
            assertSame(s, s.wizard().steps().get(1), "one outer instance, shared");
        }));
        c.add(new Case("cyclic graph", () -> {
            Node root = new Node("root");
            root.child("a").child("a1");
            root.child("b");
            return root;
        }, (in, out) -> {
            Node root = (Node) out;
            assertEquals("root", root.name);
            assertEquals(2, root.children.size());
            assertSame(root, root.children.get(0).parent);
            assertSame(root.children.get(0), root.children.get(0).children.get(0).parent);
            assertEquals("a1", root.children.get(0).children.get(0).name);
        }));
        c.add(new Case("list containing itself", () -> {
            List<Object> l = new ArrayList<>();
            l.add("x");
            l.add(l);
            return l;
        }, (in, out) -> {
            List<?> l = (List<?>) out;
            assertEquals("x", l.get(0));
            assertSame(l, l.get(1));
        }));
        c.add(new Case("JDK dynamic proxy", () -> Proxy.newProxyInstance(Greeter.class.getClassLoader(),
                new Class<?>[] {Greeter.class}, new PrefixHandler("hello ")), (in, out) -> {
                    assertTrue(Proxy.isProxyClass(out.getClass()));
                    assertEquals("hello bob", ((Greeter) out).greet("bob"));
                }));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.msm.test.transcoder.TranscoderContract#cases")
    void valueReadsBackEqual(Case c) {
        Object in = c.value.get();
        SessionAttributesTranscoder t = transcoder();
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("before", "b");
        attributes.put("value", in);
        attributes.put("after", 1);
        if (unsupportedCases().contains(c.name)) {
            try {
                Map<String, Object> out = t.deserialize(t.serialize(attributes));
                assertFalse(out.containsKey("value"), "an unsupported value must be left out, not changed");
                assertEquals("b", out.get("before"));
                assertEquals(1, out.get("after"));
            } catch (TranscoderException expected) {
                // also allowed: the session fails loudly
            }
            return;
        }
        byte[] bytes = t.serialize(attributes);
        Map<String, Object> out = t.deserialize(bytes);
        assertEquals(List.of("before", "value", "after"), new ArrayList<>(out.keySet()), "attribute names");
        c.check.accept(in, out.get("value"));
        // a second transcoder (another Tomcat) reads the same bytes
        c.check.accept(in, transcoder().deserialize(bytes).get("value"));
    }

    /**
     * A rolling JDK upgrade logs nobody out: every value case written on this JDK reads back on the other (17 and
     * 25) and the reverse ({@link CrossJdk}). Skipped where the other JDK is not installed.
     */
    @Test
    void valuesWrittenOnOneJdkReadBackOnTheOther(@TempDir Path work) throws Exception {
        Path otherJava = CrossJdk.otherJava();
        org.junit.jupiter.api.Assumptions.assumeTrue(otherJava != null,
                "the other JDK (17 or 25) is not installed; set JAVA17_HOME or JAVA25_HOME");
        List<String> failures = CrossJdk.readAcross(otherJava, factory(), unsupportedCases(), work);
        assertEquals(List.of(), failures, "cases that did not read back across JDKs");
    }

    @Test
    void emptySessionAndManyAttributes() {
        SessionAttributesTranscoder t = transcoder();
        assertEquals(Map.of(), t.deserialize(t.serialize(Map.of())));
        Map<String, Object> many = new LinkedHashMap<>();
        IntStream.range(0, 500).forEach(i -> many.put("attr" + i, i % 2 == 0 ? "v" + i : i));
        assertEquals(many, t.deserialize(t.serialize(many)));
    }

    @Test
    void oneObjectHeldByTwoAttributesStaysOneObject() {
        SessionAttributesTranscoder t = transcoder();
        List<Object> shared = arrayList("x");
        Map<String, Object> out = t.deserialize(t.serialize(Map.of("a", shared, "b", List.of(shared))));
        assertSame(out.get("a"), ((List<?>) out.get("b")).get(0));
    }

    @Test
    void transcoderIsThreadSafe() throws Exception {
        SessionAttributesTranscoder t = transcoder();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        for (int n = 0; n < 4; n++) {
            int id = n;
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < 300; i++) {
                        Map<String, Object> in = Map.of("user", new User("u" + id, List.of("r" + i),
                                LocalDate.of(2020, 1, 1).plusDays(i)), "n", i);
                        assertEquals(in, t.deserialize(t.serialize(in)));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread th : threads) {
            th.join();
        }
        assertEquals(List.of(), failures);
    }

    // ------------------------------------------------------------------ unreadable input

    @Test
    void garbageAndTruncationGiveOnlyTranscoderException() {
        SessionAttributesTranscoder t = transcoder();
        byte[] good = t.serialize(Map.of("user", new User("bob", List.of("x"), LocalDate.of(2021, 5, 6)),
                "n", 1, "list", arrayList("a", "b")));
        for (int len = 0; len < good.length; len++) {
            byte[] cut = Arrays.copyOf(good, len);
            assertThrows(TranscoderException.class, () -> t.deserialize(cut), "length " + len);
        }
        Random r = new Random(7);
        for (int i = 0; i < 3000; i++) {
            byte[] m = good.clone();
            m[r.nextInt(m.length)] = (byte) r.nextInt(256);
            try {
                t.deserialize(m);
            } catch (TranscoderException expected) {
                // the documented outcome
            }
        }
        for (int i = 0; i < 500; i++) {
            byte[] noise = new byte[r.nextInt(64)];
            r.nextBytes(noise);
            try {
                t.deserialize(noise);
            } catch (TranscoderException expected) {
                // the documented outcome
            }
        }
    }

    /**
     * Random and mutated bytes (from a fixed seed, bounded in count and time): the only outcome for bad input is
     * {@link TranscoderException}; no input allocates beyond 64 bytes per input byte + 8 MB, none hangs.
     */
    @Test
    void fuzzedBytesGiveOnlyTranscoderExceptionBoundedAllocationAndNoHang() {
        SessionAttributesTranscoder t = transcoder();
        List<byte[]> corpus = new ArrayList<>();
        corpus.add(t.serialize(Map.of()));
        corpus.add(t.serialize(Map.of("user", new User("bob", List.of("admin", "dev"), LocalDate.of(2021, 5, 6)),
                "n", 1, "s", "text")));
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("list", arrayList("a", "b", "c"));
        nested.put("map", new HashMap<>(Map.of("k", 1L, "l", 2.5d)));
        nested.put("array", new int[] {1, 2, 3});
        nested.put("strings", new String[] {"x", null, "z"});
        nested.put("bytes", new byte[64]);
        nested.put("date", LocalDate.of(2020, 1, 1));
        corpus.add(t.serialize(nested));
        Fuzzer.Report r = Fuzzer.of(20261121L, corpus).bounded(10_000, Duration.ofSeconds(20))
                .allocationLimit(64, 8 << 20)
                .run(getClass().getSimpleName(), TranscoderException.class, t::deserialize);
        System.out.println(getClass().getSimpleName() + " fuzz: " + r);
        assertTrue(r.refused > 0, r.toString());
    }

    // ------------------------------------------------------------------ the webapp class loader

    /** Compiles {@code source} (one public class) into {@code dir} and returns a class loader for it, as a webapp's. */
    protected static ClassLoader webapp(Path dir, String className, String source) throws IOException {
        return webapp(dir, className, source, TranscoderContract.class.getClassLoader());
    }

    /** As {@link #webapp(Path, String, String)}, with classes of {@code parent} visible to the compiled one. */
    protected static ClassLoader webapp(Path dir, String className, String source, ClassLoader parent)
            throws IOException {
        Path file = dir.resolve(className.replace('.', '/') + ".java");
        Files.createDirectories(file.getParent());
        Files.writeString(file, source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "--release", "17", "-d", dir.toString(), file.toString()));
        return new URLClassLoader(new URL[] {dir.toUri().toURL()}, parent);
    }

    @Test
    void classesAreResolvedThroughTheWebappLoader(@TempDir Path dir) throws Exception {
        ClassLoader webapp = webapp(dir, "com.shop.Cart",
                "package com.shop; public class Cart implements java.io.Serializable {"
                        + " public java.util.List<String> items = new java.util.ArrayList<>();"
                        + " public record Line(String sku, int qty) implements java.io.Serializable {} }");
        Object cart = webapp.loadClass("com.shop.Cart").getConstructor().newInstance();
        Object line = webapp.loadClass("com.shop.Cart$Line").getConstructor(String.class, int.class)
                .newInstance("sku-1", 2);
        byte[] bytes = transcoder(webapp, false, List.of()).serialize(Map.of("cart", cart, "lines", List.of(line)));
        Map<String, Object> back = transcoder(webapp, false, List.of()).deserialize(bytes);
        assertSame(webapp, back.get("cart").getClass().getClassLoader());
        Object lineBack = ((List<?>) back.get("lines")).get(0);
        assertSame(line.getClass(), lineBack.getClass());
        assertEquals(line, lineBack);
        // a loader that cannot see the class: the error names it
        TranscoderException e = assertThrows(TranscoderException.class, () -> transcoder().deserialize(bytes));
        assertTrue(e.getMessage().contains("com.shop.Cart"), e.getMessage());
    }

    /**
     * {@code deserializationFilter} is checked before the serializer's own class policy: here an allowlist (the
     * webapp's package, the JDK's base module, nothing else) refuses a class it does not list, as written by a
     * Tomcat without the filter; what it lists still reads.
     */
    @Test
    void configuredDeserializationFilterRefusesWhatItDoesNotAllow(@TempDir Path dir) throws Exception {
        ClassLoader shop = webapp(dir.resolve("shop"), "com.shop.Cart",
                "package com.shop; public class Cart implements java.io.Serializable {"
                        + " public java.util.List<String> items = new java.util.ArrayList<>(); }");
        ClassLoader both = webapp(dir.resolve("other"), "com.other.Gadget",
                "package com.other; public class Gadget implements java.io.Serializable { public String cmd = \"x\"; }",
                shop);
        Object cart = both.loadClass("com.shop.Cart").getConstructor().newInstance();
        Object gadget = both.loadClass("com.other.Gadget").getConstructor().newInstance();
        String allowlist = "com.shop.*;java.base/*;!*";
        SessionAttributesTranscoder filtered = factory().createTranscoder(context(both, false, List.of(), "/f",
                allowlist));
        SessionAttributesTranscoder open = transcoder(both, false, List.of());
        byte[] cartOnly = open.serialize(Map.of("cart", cart, "n", 1));
        Map<String, Object> back = filtered.deserialize(cartOnly);
        assertEquals("com.shop.Cart", back.get("cart").getClass().getName());
        byte[] planted = open.serialize(Map.of("cart", cart, "x", List.of(gadget)));
        TranscoderException e = assertThrows(TranscoderException.class, () -> filtered.deserialize(planted));
        assertTrue(e.getMessage().contains("com.other.Gadget"), e.getMessage());
        // a pattern that rejects one class, and leaves the rest to the defaults
        SessionAttributesTranscoder noCarts = factory().createTranscoder(context(both, false, List.of(), "/f",
                "!com.shop.Cart"));
        assertThrows(TranscoderException.class, () -> noCarts.deserialize(cartOnly));
        assertEquals(Map.of("n", 2), noCarts.deserialize(open.serialize(Map.of("n", 2))));
    }

    @Test
    void proxyOfWebappInterfaceIsDefinedInTheWebappLoader(@TempDir Path dir) throws Exception {
        ClassLoader webapp = webapp(dir, "com.shop.Pricing",
                "package com.shop; public interface Pricing { String price(String sku); }");
        Class<?> pricing = webapp.loadClass("com.shop.Pricing");
        Object proxy = Proxy.newProxyInstance(webapp, new Class<?>[] {pricing}, new PrefixHandler("EUR "));
        SessionAttributesTranscoder t = transcoder(webapp, false, List.of());
        Object back = t.deserialize(t.serialize(Map.of("p", proxy))).get("p");
        assertTrue(pricing.isInstance(back));
        assertEquals("EUR 3", pricing.getMethod("price", String.class).invoke(back, "3"));
    }

    // ------------------------------------------------------------------ redeploys

    /**
     * A redeploy adds one field to an attribute class and removes another: sessions stored by the old version must
     * still be readable by the new one (kept fields kept, the added one at its default). Java serialization needs a
     * fixed {@code serialVersionUID} for this, so the class declares one.
     */
    @Test
    void sessionsSurviveARedeployThatAddsAndRemovesFields(@TempDir Path dir) throws Exception {
        String v1 = "package com.shop; public class Item implements java.io.Serializable {"
                + " private static final long serialVersionUID = 1L;"
                + " public String name; public java.math.BigDecimal price; public int qty;"
                + " public java.util.List<String> tags; }";
        String v2 = "package com.shop; public class Item implements java.io.Serializable {"
                + " private static final long serialVersionUID = 1L;"
                + " public String name; public int qty; public String note; public java.util.List<String> tags; }";
        ClassLoader old = webapp(dir.resolve("v1"), "com.shop.Item", v1);
        ClassLoader redeployed = webapp(dir.resolve("v2"), "com.shop.Item", v2);
        Class<?> oldItem = old.loadClass("com.shop.Item");
        Object item = oldItem.getConstructor().newInstance();
        oldItem.getField("name").set(item, "tea");
        oldItem.getField("price").set(item, new BigDecimal("3.50"));
        oldItem.getField("qty").setInt(item, 4);
        oldItem.getField("tags").set(item, arrayList("green"));
        byte[] bytes = transcoder(old, false, List.of()).serialize(Map.of("item", item, "n", 5));

        Map<String, Object> back = transcoder(redeployed, false, List.of()).deserialize(bytes);
        Object read = back.get("item");
        Class<?> newItem = read.getClass();
        assertSame(redeployed, newItem.getClassLoader());
        assertEquals("tea", newItem.getField("name").get(read));
        assertEquals(4, newItem.getField("qty").getInt(read));
        assertEquals(List.of("green"), newItem.getField("tags").get(read));
        assertNull(newItem.getField("note").get(read));
        assertEquals(5, back.get("n"));
    }

    // ------------------------------------------------------------------ copyCollectionsForSerialization

    /**
     * With {@code copyCollectionsForSerialization}, a backup that runs while another request changes a collection
     * in the session succeeds (within the engine's three serialization attempts) and stores a state the collection
     * really had.
     */
    @Test
    void copyCollectionsSurvivesConcurrentChanges() throws Exception {
        SessionAttributesTranscoder t = transcoder(getClass().getClassLoader(), true, List.of());
        List<String> list = new ArrayList<>();
        Map<String, Integer> map = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            list.add("i" + i);
            map.put("k" + i, i);
        }
        List<String> expected = new ArrayList<>(list);
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            int i = 0;
            while (!stop.get()) {
                list.add("n" + i);
                list.remove(list.size() - 1);
                map.put("n" + (i % 50), i);
                map.remove("n" + ((i + 25) % 50));
                i++;
                LockSupport.parkNanos(1_000_000); // ~1000 changes/s: far more than requests make, not a tight loop
            }
        });
        writer.start();
        try {
            for (int round = 0; round < 300; round++) {
                byte[] bytes = null;
                for (int attempt = 1; bytes == null; attempt++) {
                    try {
                        bytes = t.serialize(Map.of("list", list, "map", map));
                    } catch (RuntimeException e) {
                        if (attempt >= 3 || !causedBy(e, ConcurrentModificationException.class)) {
                            throw e;
                        }
                    }
                }
                Map<String, Object> out = t.deserialize(bytes);
                List<?> l = (List<?>) out.get("list");
                assertTrue(l.size() >= 200 && l.subList(0, 200).equals(expected), "round " + round);
                Map<?, ?> m = (Map<?, ?>) out.get("map");
                for (int i = 0; i < 200; i++) {
                    assertEquals(i, m.get("k" + i));
                }
            }
        } finally {
            stop.set(true);
            writer.join();
        }
    }

    @SuppressWarnings("unchecked")
    private static void putUnchecked(Map<?, ?> m, Object k, Object v) {
        ((Map<Object, Object>) m).put(k, v);
    }

    static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }
}
