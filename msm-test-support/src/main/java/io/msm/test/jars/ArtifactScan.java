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
        List<byte[]> patterns = new ArrayList<>();
        for (String n : needles) {
            patterns.add(n.getBytes(StandardCharsets.UTF_8));
        }
        List<String> hits = new ArrayList<>();
        try {
            if (Files.isDirectory(artifact)) {
                try (Stream<Path> files = Files.walk(artifact)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                        match(artifact + "!" + artifact.relativize(f), Files.readAllBytes(f), needles, patterns, hits);
                    }
                }
            } else {
                try (ZipFile zip = new ZipFile(artifact.toFile())) {
                    Enumeration<? extends ZipEntry> entries = zip.entries();
                    while (entries.hasMoreElements()) {
                        ZipEntry e = entries.nextElement();
                        if (e.isDirectory()) {
                            continue;
                        }
                        try (InputStream in = zip.getInputStream(e)) {
                            match(artifact + "!" + e.getName(), in.readAllBytes(), needles, patterns, hits);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + artifact, e);
        }
        return hits;
    }

    /**
     * Asserts that a Tomcat adapter jar is built for one servlet API: {@code adapterJar} refers to
     * {@code ownApi} (e.g. "jakarta"; this also proves the scan reads the classes) and never to
     * {@code foreignApi}, and no other msm artifact on the class path (msm-core, serializers) refers to either.
     */
    public static void assertServletApiLine(Path adapterJar, String ownApi, String foreignApi) {
        Assertions.assertTrue(Files.isRegularFile(adapterJar), "not built: " + adapterJar);
        List<String> foreign = code(entriesContaining(adapterJar, foreignApi + "/servlet", foreignApi + ".servlet"));
        Assertions.assertEquals(List.of(), foreign, adapterJar + " refers to " + foreignApi + ".servlet");
        Assertions.assertFalse(entriesContaining(adapterJar, ownApi + "/servlet/").isEmpty(),
                adapterJar + " has no reference to " + ownApi + ".servlet at all: wrong jar, or the scan is broken");
        Path module = adapterJar.toAbsolutePath().getParent();
        List<Path> others = new ArrayList<>();
        for (Path p : msmArtifactsOnClassPath()) {
            if (!p.toAbsolutePath().startsWith(module)) { // the adapter itself, as its jar or its target/classes
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

    private static void match(String name, byte[] content, String[] needles, List<byte[]> patterns,
            List<String> hits) {
        for (int i = 0; i < patterns.size(); i++) {
            if (indexOf(content, patterns.get(i)) >= 0) {
                hits.add(name + ": " + needles[i]);
            }
        }
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
