package io.msm.test.transcoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderException;
import io.msm.spi.TranscoderFactory;
import io.msm.test.transcoder.GadgetCorpus.Chain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a serializer does with planted bytes (memcached has no access control, so whoever reaches it can store any
 * blob for a session id): known gadget chains are refused before any of their code runs, a hash bomb costs bounded
 * CPU, and an administrator's JVM-wide deserialization filter still applies. A serializer module tests itself by
 * extending this class.
 */
public abstract class DeserializationGuardContract {

    /** The slowest a 4 KB hash bomb may take to be refused or read (best of five tries). */
    public static final Duration HASH_BOMB_BOUND = Duration.ofMillis(50);
    private static final String UNSAFE_COLLECTIONS = "org.apache.commons.collections.enableUnsafeSerialization";

    @TempDir
    static Path standIns;
    static ClassLoader webapp;

    /** The factory under test. */
    protected abstract TranscoderFactory factory();

    /**
     * The bytes this serializer's writer stores for {@code attributes} with every class check off: what a Tomcat
     * without msm's filters, or someone with write access to memcached, would put there.
     */
    protected abstract byte[] plant(ClassLoader loader, Map<String, Object> attributes) throws Exception;

    /**
     * Blobs of one attribute whose value names {@code className} as this serializer reads class names: one blob for
     * each way it can meet a class name (its own encoding, Java serialization inside it...).
     */
    protected abstract List<byte[]> plantByName(ClassLoader loader, String className) throws Exception;

    /** Arguments for {@link JvmWideFilterCheck} after the factory class: {@code java} for the Java layout. */
    protected List<String> jvmWideCheckArguments() {
        return List.of();
    }

    @BeforeAll
    static void compileStandIns() throws IOException {
        webapp = GadgetCorpus.webapp(standIns);
        // commons-collections 3.2.2 refuses to (de)serialize its functors unless told otherwise: say so, so a
        // functor that got past msm would really run its readObject
        System.setProperty(UNSAFE_COLLECTIONS, "true");
    }

    @AfterAll
    static void restore() {
        System.clearProperty(UNSAFE_COLLECTIONS);
    }

    @BeforeEach
    void clearTripwire() {
        StandIn.RAN.clear();
    }

    private SessionAttributesTranscoder reader() {
        return factory().createTranscoder(TranscoderContract.context(webapp, false, List.of(), "/guard"));
    }

    static Stream<Chain> chains() {
        return GadgetCorpus.chains().stream();
    }

    static Stream<String> keyClasses() {
        return GadgetCorpus.keyClasses().stream();
    }

    /**
     * Each chain, as an object graph holding one instance of every class of it that can be made and written here
     * (real classes, or stand-ins), is refused, and no stand-in's deserialization hook runs.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("chains")
    void everyChainOfThePublicPayloadCollectionIsRefused(Chain chain) throws Exception {
        Object graph = GadgetCorpus.graph(chain, webapp);
        byte[] blob = plantWritable(graph);
        if (blob == null) {
            // nothing of this chain can be made or written here: its classes are planted by name below
            assertTrue(chain.keyClasses.stream().allMatch(n -> GadgetCorpus.instance(webapp, n) == null
                    || !writable(n)), chain + ": some class could be written but none was");
            return;
        }
        assertRefused(chain.name, blob);
    }

    /** Every key class of every chain, named in the bytes the serializer reads, is refused before anything runs. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("keyClasses")
    void everyKeyClassIsRefusedWhereverTheSerializerMeetsItsName(String className) throws Exception {
        List<byte[]> blobs = plantByName(webapp, className);
        assertFalse(blobs.isEmpty());
        for (byte[] blob : blobs) {
            assertRefused(className, blob);
        }
    }

    private boolean writable(String className) {
        try {
            return plant(webapp, Map.of("g", GadgetCorpus.instance(webapp, className))) != null;
        } catch (Exception | LinkageError e) {
            return false;
        }
    }

    /** The graph (a list, or the chain's own object) written with the elements that can be written. */
    private byte[] plantWritable(Object graph) {
        Object kept = graph;
        if (graph instanceof List) {
            List<Object> writable = new ArrayList<>();
            for (Object o : (List<?>) graph) {
                try {
                    plant(webapp, Map.of("g", o));
                    writable.add(o);
                } catch (Exception | LinkageError e) {
                    // this instance cannot be written here (a field its writeObject needs is null...)
                }
            }
            if (writable.isEmpty()) {
                return null;
            }
            kept = writable;
        }
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("user", "bob");
        attributes.put("gadget", kept);
        try {
            return plant(webapp, attributes);
        } catch (Exception e) {
            throw new AssertionError("cannot plant " + graph, e);
        }
    }

    private void assertRefused(String what, byte[] blob) {
        SessionAttributesTranscoder t = reader();
        try {
            Map<String, Object> read = t.deserialize(blob);
            fail(what + " was read: " + describe(read));
        } catch (TranscoderException e) {
            assertTrue(e.getMessage().contains("refused"), what + ": not refused but " + e.getMessage());
        }
        assertEquals(Set.of(), StandIn.RAN, what + ": a stand-in's deserialization hook ran");
    }

    private static String describe(Map<String, Object> read) {
        StringBuilder s = new StringBuilder();
        read.forEach((k, v) -> s.append(k).append('=').append(v == null ? "null" : v.getClass().getName())
                .append(v instanceof java.util.Collection ? " of " + ((java.util.Collection<?>) v).stream()
                        .map(e -> e == null ? "null" : e.getClass().getName()).collect(
                                java.util.stream.Collectors.toList()) : "").append(' '));
        return s.toString();
    }

    /** URLDNS's URL one step removed: inside a list that is a set's element, hashing it still hashes the URL. */
    @Test
    void urlInsideAHashKeyIsRefused() throws Exception {
        Set<Object> set = new HashSet<>();
        set.add(new ArrayList<>(List.of(GadgetCorpus.url("http://localhost/inside"))));
        assertRefused("a URL inside a set's element", plant(webapp, Map.of("set", set)));
        Map<String, Object> ok = reader().deserialize(plant(webapp, Map.of("list",
                new ArrayList<>(List.of(GadgetCorpus.url("http://localhost/value"))))));
        assertEquals(1, ((List<?>) ok.get("list")).size(), "a URL that is not hashed reads");
    }

    // ------------------------------------------------------------------ CPU

    /**
     * The "SerialDOS" hash bomb: sets nested {@code depth} deep, each holding the same two sets of the next level,
     * so hashing the root visits 2^depth sets. Building it is linear: every set is added while it is still small.
     */
    static Set<Object> hashBomb(int depth) {
        Set<Object> root = new HashSet<>();
        Set<Object> s1 = root;
        Set<Object> s2 = new HashSet<>();
        for (int i = 0; i < depth; i++) {
            Set<Object> t1 = new HashSet<>();
            Set<Object> t2 = new HashSet<>();
            t1.add("foo"); // t1 and t2 must differ
            s1.add(t1);
            s1.add(t2);
            s2.add(t1);
            s2.add(t2);
            s1 = t1;
            s2 = t2;
        }
        return root;
    }

    /**
     * A hash bomb of at most 4 KB (sets nested as deep as fit, up to 400 levels; 50 levels make reading it hash
     * 2^50 sets) is refused or read within {@link #HASH_BOMB_BOUND}, best of five tries, so a few planted kilobytes
     * cannot pin a request thread.
     */
    @Test
    void hashBombOf4KbIsRefusedOrReadWithin50Milliseconds() throws Exception {
        byte[] bomb = null;
        int depth = 0;
        for (int d = 10; d <= 400; d++) {
            byte[] b = plant(webapp, Map.of("bomb", hashBomb(d)));
            if (b.length > 4096) {
                break;
            }
            bomb = b;
            depth = d;
        }
        assertTrue(depth >= 40, "a 4 KB bomb nests at least 40 deep, got " + depth);
        byte[] blob = bomb;
        long best = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            long min = Long.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long start = System.nanoTime();
                try {
                    reader().deserialize(blob);
                } catch (TranscoderException refused) {
                    // refused is one of the two allowed outcomes
                }
                min = Math.min(min, System.nanoTime() - start);
            }
            return min;
        }, "reading a " + blob.length + "-byte hash bomb " + depth + " deep did not end");
        System.out.println(getClass().getSimpleName() + ": " + blob.length + "-byte hash bomb " + depth
                + " deep handled in " + TimeUnit.NANOSECONDS.toMicros(best) + " us (best of 5)");
        assertTrue(best <= HASH_BOMB_BOUND.toNanos(), "took " + TimeUnit.NANOSECONDS.toMillis(best) + " ms");
    }

    /** Nested sets that hash a few thousand objects are a session like any other: they read back. */
    @Test
    void smallNestedSetsStillRead() throws Exception {
        Set<Object> sets = hashBomb(10);
        Map<String, Object> back = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> reader().deserialize(plant(webapp, Map.of("sets", sets))));
        assertEquals(2, ((Set<?>) back.get("sets")).size());
    }

    // ------------------------------------------------------------------ the administrator's JVM-wide filter

    /**
     * An administrator's {@code -Djdk.serialFilter} (JVM-wide, settable once per JVM, so checked in a JVM of its own)
     * still applies when msm reads a session: it refuses what it rejects, and its allowing a class does not lift
     * msm's own refusal.
     */
    @Test
    void jdkSerialFilterStillAppliesOnTopOfMsms() throws Exception {
        runCheck("-Djdk.serialFilter=javax.management.**;!java.lang.IllegalStateException");
    }

    /** Likewise a JVM-wide filter factory ({@code -Djdk.serialFilterFactory}, Java 17+). */
    @Test
    @EnabledForJreRange(min = JRE.JAVA_17)
    void jvmWideFilterFactoryStillAppliesOnTopOfMsms() throws Exception {
        runCheck("-Djdk.serialFilterFactory=" + JvmWideFilterCheck.RejectIllegalState.class.getName());
    }

    private void runCheck(String jvmOption) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), jvmOption, "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                JvmWideFilterCheck.class.getName(), factory().getClass().getName()));
        command.addAll(jvmWideCheckArguments());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the check JVM did not end within 60 s");
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains(JvmWideFilterCheck.PASSED), output);
    }
}
