package io.msm.test.transcoder;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderFactory;
import io.msm.test.transcoder.TranscoderContract.Case;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A rolling JDK upgrade of a Tomcat cluster (Java 17 to 25, or back) must not log anyone out: what a serializer wrote
 * on one JDK, the other reads back equal. The contract's value cases are written by one JVM and read by a JVM of the
 * other JDK, both ways; the other JVM runs this class's {@link #main} with the same class path.
 */
public final class CrossJdk {
    /** Where each JDK is looked for: an environment variable naming its home, else Debian's (or Temurin's) path. */
    private static final Map<String, String[]> JDKS = Map.of(
            "17", new String[] {"JAVA17_HOME", "/usr/lib/jvm/java-17-openjdk-amd64"},
            "25", new String[] {"JAVA25_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"});

    private CrossJdk() {
    }

    /** The java launcher of the JDK this JVM is not (17 when this is 25, 25 otherwise), or null if not installed. */
    public static Path otherJava() {
        String other = Runtime.version().feature() == 25 ? "17" : "25";
        String[] where = JDKS.get(other);
        String home = System.getenv(where[0]) != null ? System.getenv(where[0]) : where[1];
        Path java = Paths.get(home, "bin", "java");
        return Files.isExecutable(java) ? java : null;
    }

    /**
     * This JVM writes every supported case; {@code otherJava} reads them. Then it writes them; this JVM reads them.
     *
     * @return a description of every case that did not read back as the contract demands, in either direction
     */
    public static List<String> readAcross(Path otherJava, TranscoderFactory factory, Set<String> unsupported,
            Path work) throws IOException, InterruptedException {
        List<String> failures = new ArrayList<>();
        Path here = Files.createDirectories(work.resolve("written-on-" + Runtime.version().feature()));
        write(factory, unsupported, here);
        ChildResult read = child(otherJava, "read", factory, unsupported, here);
        int otherFeature = featureOf(read.output);
        if (otherFeature == Runtime.version().feature()) {
            failures.add(otherJava + " is Java " + otherFeature + " too: no other JDK to read across");
        }
        if (read.exit != 0) {
            failures.add("JDK " + Runtime.version().feature() + " -> " + otherJava + ": exit " + read.exit + ": "
                    + read.output);
        }
        Path there = Files.createDirectories(work.resolve("written-by-other"));
        ChildResult written = child(otherJava, "write", factory, unsupported, there);
        if (written.exit != 0) {
            failures.add("writing on " + otherJava + " failed: " + written.output);
        } else {
            for (String f : read(factory, unsupported, there)) {
                failures.add(otherJava + " -> JDK " + Runtime.version().feature() + ": " + f);
            }
        }
        return failures;
    }

    /**
     * {@code java} (another JVM, the same class path) reads what {@link #write} left in {@code dir}.
     *
     * @return null if every case read back as the contract demands, else what the other JVM printed
     */
    public static String readWith(Path java, TranscoderFactory factory, Set<String> unsupported, Path dir)
            throws IOException, InterruptedException {
        ChildResult r = child(java, "read", factory, unsupported, dir);
        return r.exit == 0 ? null : "exit " + r.exit + ": " + r.output;
    }

    /** {@code write|read <factory class> <unsupported cases, tab separated> <dir>}: exits 1 listing failures. */
    public static void main(String[] args) throws Exception {
        TranscoderFactory factory = (TranscoderFactory) Class.forName(args[1]).getDeclaredConstructor().newInstance();
        Set<String> unsupported = new TreeSet<>(Arrays.asList(args[2].split("\t")));
        Path dir = Paths.get(args[3]);
        List<String> failures = List.of();
        if (args[0].equals("write")) {
            write(factory, unsupported, dir);
        } else {
            failures = read(factory, unsupported, dir);
        }
        for (String f : failures) {
            System.out.println(f);
        }
        System.out.println((failures.isEmpty() ? "OK" : failures.size() + " case(s) failed") + " on JDK "
                + Runtime.version() + " (feature " + Runtime.version().feature() + ")");
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    /** The feature version a child printed last ({@code (feature 25)}), or -1. */
    private static int featureOf(String output) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\(feature (\\d+)\\)").matcher(output);
        int feature = -1;
        while (m.find()) {
            feature = Integer.parseInt(m.group(1));
        }
        return feature;
    }

    private static List<Case> cases(Set<String> unsupported) throws Exception {
        List<Case> cases = new ArrayList<>();
        TranscoderContract.cases().filter(c -> !unsupported.contains(c.name)).forEach(cases::add);
        return cases;
    }

    private static SessionAttributesTranscoder transcoder(TranscoderFactory factory) {
        return factory.createTranscoder(TranscoderContract.context(CrossJdk.class.getClassLoader(), false, List.of(),
                "/cross-jdk"));
    }

    /** Writes every value case not in {@code unsupported} into {@code dir}, one file each. */
    public static void write(TranscoderFactory factory, Set<String> unsupported, Path dir) throws IOException {
        SessionAttributesTranscoder t = transcoder(factory);
        List<Case> cases = uncheckedCases(unsupported);
        for (int i = 0; i < cases.size(); i++) {
            Map<String, Object> attributes = new LinkedHashMap<>();
            attributes.put("case", cases.get(i).name);
            attributes.put("value", cases.get(i).value.get());
            Files.write(dir.resolve(i + ".bin"), t.serialize(attributes));
        }
        Files.write(dir.resolve("count"), String.valueOf(cases.size()).getBytes(StandardCharsets.US_ASCII));
    }

    /** Reads what {@link #write} left in {@code dir}; returns a line per case that did not read back right. */
    public static List<String> read(TranscoderFactory factory, Set<String> unsupported, Path dir) throws IOException {
        SessionAttributesTranscoder t = transcoder(factory);
        List<Case> cases = uncheckedCases(unsupported);
        int written = Integer.parseInt(Files.readString(dir.resolve("count")).trim());
        List<String> failures = new ArrayList<>();
        if (written != cases.size()) {
            failures.add(written + " cases written, " + cases.size() + " known here");
        }
        for (int i = 0; i < Math.min(written, cases.size()); i++) {
            Case c = cases.get(i);
            try {
                Map<String, Object> out = t.deserialize(Files.readAllBytes(dir.resolve(i + ".bin")));
                if (!c.name.equals(out.get("case"))) {
                    failures.add("case " + i + " is " + out.get("case") + " there, " + c.name + " here");
                    continue;
                }
                c.check.accept(c.value.get(), out.get("value"));
            } catch (Throwable e) { // an AssertionError of the case's check, or the serializer's own exception
                failures.add(c.name + ": " + e);
            }
        }
        return failures;
    }

    private static List<Case> uncheckedCases(Set<String> unsupported) {
        try {
            return cases(unsupported);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class ChildResult {
        final int exit;
        final String output;

        ChildResult(int exit, String output) {
            this.exit = exit;
            this.output = output;
        }
    }

    private static ChildResult child(Path java, String mode, TranscoderFactory factory, Set<String> unsupported,
            Path dir) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-opens") || arg.startsWith("--add-exports") || arg.startsWith("-ea")) {
                command.add(arg); // the options the tests run with, not the agent or debugger ones
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), CrossJdk.class.getName(), mode,
                factory.getClass().getName(), String.join("\t", unsupported), dir.toString()));
        Path log = dir.resolveSibling(dir.getFileName() + "-" + mode + ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean ended = p.waitFor(60, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = Files.readString(log);
        return ended ? new ChildResult(p.exitValue(), out) : new ChildResult(-1, "timed out after 60 s: " + out);
    }
}
