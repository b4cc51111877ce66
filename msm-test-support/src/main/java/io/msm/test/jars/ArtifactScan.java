package io.msm.test.jars;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Finds text in built artifacts: every entry of a jar (or file under a class directory) is read whole and searched
 * byte for byte. Class files keep their constant pool uncompressed, and every class, method, field and string
 * constant a class refers to is in it as (modified) UTF-8, so a search for {@code javax/servlet} finds every
 * reference to the javax servlet API, whether a type, a signature or a string naming a class.
 */
public final class ArtifactScan {
    /** How msm's own artifacts look on a test class path: a built jar, or a module's class directory. */
    private static final Pattern MSM_ARTIFACT =
            Pattern.compile(".*[/\\\\]msm-[a-z0-9-]+?(-\\d[^/\\\\]*)?\\.jar|.*[/\\\\]msm-[a-z0-9-]+[/\\\\]target[/\\\\]classes");

    private ArtifactScan() {
    }

    /**
     * Every entry of {@code artifact} (a jar or a directory) whose bytes contain one of {@code needles}, as
     * {@code artifact!entry: needle}.
     */
    public static List<String> entriesContaining(Path artifact, String... needles) {
        List<String> hits = new ArrayList<>();
        forEachEntry(artifact, (name, content) -> {
            for (String needle : needles) {
                if (indexOf(content, needle.getBytes(StandardCharsets.UTF_8), 0) >= 0) {
                    hits.add(artifact + "!" + name + ": " + needle);
                }
            }
        });
        return hits;
    }

    /** Calls {@code visit} with the name and whole content of every file of a jar or under a directory. */
    private static void forEachEntry(Path artifact, BiConsumer<String, byte[]> visit) {
        try {
            if (Files.isDirectory(artifact)) {
                try (Stream<Path> files = Files.walk(artifact)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                        visit.accept(artifact.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
                    }
                }
                return;
            }
            try (ZipFile zip = new ZipFile(artifact.toFile())) {
                Enumeration<? extends ZipEntry> entries = zip.entries();
                while (entries.hasMoreElements()) {
                    ZipEntry e = entries.nextElement();
                    if (!e.isDirectory()) {
                        try (InputStream in = zip.getInputStream(e)) {
                            visit.accept(e.getName(), in.readAllBytes());
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + artifact, e);
        }
    }

    /**
     * Asserts that a jar is built for one servlet API: it refers to {@code ownApi} (e.g. "jakarta"; this also
     * proves the scan reads its classes) and never to {@code foreignApi}.
     */
    public static void assertServletApiLine(Path jar, String ownApi, String foreignApi) {
        Assertions.assertTrue(Files.isRegularFile(jar), "not built: " + jar);
        List<String> foreign = code(entriesContaining(jar, foreignApi + "/servlet", foreignApi + ".servlet"));
        Assertions.assertEquals(List.of(), foreign, jar + " refers to " + foreignApi + ".servlet");
        Assertions.assertFalse(entriesContaining(jar, ownApi + "/servlet/").isEmpty(),
                jar + " has no reference to " + ownApi + ".servlet at all: wrong jar, or the scan is broken");
    }

    /**
     * Asserts that no msm artifact on the class path other than those of the module that built {@code ownJar}
     * (msm-core, the serializers) refers to any servlet API.
     */
    public static void assertOtherMsmArtifactsServletFree(Path ownJar) {
        Path module = ownJar.toAbsolutePath().getParent();
        List<Path> others = new ArrayList<>();
        for (Path p : msmArtifactsOnClassPath()) {
            if (!p.toAbsolutePath().startsWith(module)) { // the module itself, as its jar or its target/classes
                others.add(p);
            }
        }
        Assertions.assertFalse(others.isEmpty(), "msm-core not found on " + System.getProperty("java.class.path"));
        for (Path other : others) {
            Assertions.assertEquals(List.of(),
                    code(entriesContaining(other, "javax/servlet", "javax.servlet", "jakarta/servlet", "jakarta.servlet")),
                    other + " must not depend on a servlet API");
        }
    }

    /**
     * Asserts what a bundle for tomcat/lib must be: msm's classes and the third-party ones relocated under
     * {@code io/msm/shaded/}, nothing else at the top level, and no class referring to a third-party package by its
     * original name (which would load the webapp's or Tomcat's copy, or fail).
     */
    public static void assertBundle(Path jar, String... relocatedPackages) {
        Assertions.assertTrue(Files.isRegularFile(jar), "not built: " + jar);
        List<String> names = new ArrayList<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            zip.stream().forEach(e -> names.add(e.getName()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> stray = new ArrayList<>();
        for (String n : names) {
            if (!n.startsWith("io/msm/") && !n.startsWith("META-INF/") && !n.equals("io/")) {
                stray.add(n);
            }
        }
        Assertions.assertEquals(List.of(), stray, "entries outside io/msm/ and META-INF/");
        for (String required : List.of("io/msm/tomcat/MemcachedSessionManager.class",
                "io/msm/serializer/java/JavaSerializationTranscoderFactory.class",
                "io/msm/serializer/kryo/KryoTranscoderFactory.class",
                "io/msm/shaded/net/spy/memcached/MemcachedClient.class",
                "io/msm/shaded/com/esotericsoftware/kryo/Kryo.class",
                "io/msm/shaded/org/objenesis/ObjenesisStd.class",
                "META-INF/THIRD-PARTY-NOTICES.txt")) {
            Assertions.assertTrue(names.contains(required), jar + " lacks " + required);
        }
        List<String> unrelocated = new ArrayList<>();
        for (String pkg : relocatedPackages) {
            for (String form : new String[] {pkg.replace('.', '/') + "/", pkg + "."}) {
                boolean internal = form.endsWith("/");
                String shaded = internal ? "io/msm/shaded/" : "io.msm.shaded.";
                // internal names (a/b/C) appear only in class references and descriptors; dotted ones count where
                // a string constant starts with them (Class.forName("a.b.C")), not inside a message text
                for (String hit : entriesContainingUnprefixed(jar, form, shaded, !internal)) {
                    unrelocated.add(hit);
                }
            }
        }
        Assertions.assertEquals(List.of(), code(unrelocated), "references to third-party packages not relocated");
    }

    /**
     * Class entries containing {@code needle} at least once not directly preceded by {@code prefix} (and, if
     * {@code constantStart}, at the start of a constant pool UTF-8 entry: tag 1, two length bytes).
     */
    private static List<String> entriesContainingUnprefixed(Path jar, String needle, String prefix,
            boolean constantStart) {
        byte[] n = needle.getBytes(StandardCharsets.UTF_8);
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        List<String> hits = new ArrayList<>();
        forEachEntry(jar, (name, content) -> {
            if (!name.endsWith(".class")) {
                return;
            }
            for (int i = indexOf(content, n, 0); i >= 0; i = indexOf(content, n, i + 1)) {
                boolean prefixed = i >= p.length && startsAt(content, p, i - p.length);
                boolean atStart = i >= 3 && content[i - 3] == 1;
                if (!prefixed && (atStart || !constantStart)) {
                    hits.add(jar + "!" + name + ": " + needle);
                    return;
                }
            }
        });
        return hits;
    }

    /** Drops hits in Maven's build metadata (a pom.xml may name an API in a comment or an enforcer ban). */
    private static List<String> code(List<String> hits) {
        List<String> kept = new ArrayList<>();
        for (String hit : hits) {
            if (!hit.contains("!META-INF/maven/")) {
                kept.add(hit);
            }
        }
        return kept;
    }

    /** msm's artifacts (jars or class directories) on this JVM's class path, e.g. msm-core and msm-serializer-java. */
    public static List<Path> msmArtifactsOnClassPath() {
        List<Path> found = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (MSM_ARTIFACT.matcher(entry).matches() && !entry.contains("msm-test-support")) {
                found.add(Paths.get(entry));
            }
        }
        return found;
    }

    private static boolean startsAt(byte[] haystack, byte[] needle, int at) {
        for (int j = 0; j < needle.length; j++) {
            if (haystack[at + j] != needle[j]) {
                return false;
            }
        }
        return true;
    }

    static int indexOf(byte[] haystack, byte[] needle, int from) {
        for (int i = from; i <= haystack.length - needle.length; i++) {
            if (startsAt(haystack, needle, i)) {
                return i;
            }
        }
        return -1;
    }
}
