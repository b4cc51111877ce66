package io.msm.benchmarks;

import io.msm.benchmarks.model.Sessions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link SerializerBenchmark} and prints one table: ops/s and serialized bytes per serializer and session, with
 * ratios against memcached-session-manager 2.3.2's Kryo transcoder. Without arguments it uses bounded settings
 * ({@code -f 1 -wi 5 -i 5 -w 1s -r 1s}); any arguments are JMH's own command line instead.
 */
public final class Main {
    private Main() {
    }

    static final List<String> CODECS = List.of("msm-java", "msm-kryo", "anchor-java", "anchor-kryo");
    /** Rows of the table: the codecs, and the anchor's Kryo run with the --add-opens it needs on Java 17. */
    static final List<String> ROWS = List.of("msm-java", "msm-kryo", "anchor-java", "anchor-kryo",
            "anchor-kryo+add-opens");
    /** Directory where forked benchmark JVMs record serialized sizes (a system property set by {@link #main}). */
    static final String SIZES_PROPERTY = "msm.bench.sizes";
    static final List<String> SESSIONS = List.of("typical", "large");

    public static void main(String[] args) throws Exception {
        Path sizeDir = Files.createTempDirectory("msm-bench-sizes");
        String sizeProperty = "-D" + SIZES_PROPERTY + "=" + sizeDir;
        OptionsBuilder builder = new OptionsBuilder();
        if (args.length > 0) {
            builder.parent(new CommandLineOptions(args));
        } else {
            builder.include(SerializerBenchmark.class.getSimpleName())
                    .include(AnchorKryoAddOpensBenchmark.class.getSimpleName())
                    .forks(1).warmupIterations(5).measurementIterations(5)
                    .warmupTime(TimeValue.seconds(1)).measurementTime(TimeValue.seconds(1));
        }
        Options options = builder.jvmArgsPrepend(sizeProperty).build();
        Map<String, String> sizes = new LinkedHashMap<>();
        for (String session : SESSIONS) {
            for (String codec : CODECS) {
                sizes.put(codec + "/" + session, size(codec, session)); // in this JVM: the error, if any
            }
        }
        Collection<RunResult> results = new Runner(options).run();
        Map<String, double[]> scores = new LinkedHashMap<>();
        for (RunResult r : results) {
            String codec = r.getParams().getParam("codec");
            if (r.getParams().getBenchmark().contains(AnchorKryoAddOpensBenchmark.class.getSimpleName())) {
                codec += "+add-opens";
            }
            String key = codec + "/" + r.getParams().getParam("session");
            scores.put(key, new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
        }
        try (DirectoryStream<Path> recorded = Files.newDirectoryStream(sizeDir)) {
            for (Path p : recorded) {
                sizes.put(p.getFileName().toString().replace('_', '/'), Files.readString(p).trim());
                Files.delete(p);
            }
        }
        Files.delete(sizeDir);
        System.out.println();
        System.out.println(table(sizes, scores, System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version")));
    }

    static String size(String codec, String session) {
        try {
            Codec c = Codec.create(codec);
            Map<String, Object> attributes = Sessions.build(session);
            checkRoundTrip(c, attributes);
            return Integer.toString(c.serialize(attributes).length);
        } catch (RuntimeException | Error e) {
            return "FAILED: " + rootCause(e);
        }
    }

    static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.toString().replaceAll(" to unnamed module @[0-9a-f]+", " to unnamed module");
    }

    /** Called in the forked benchmark JVM: records the serialized size for {@link #main} to print. */
    static void recordSize(String codec, String session, String bytes) {
        String dir = System.getProperty(SIZES_PROPERTY);
        if (dir == null) {
            return;
        }
        try {
            Files.writeString(Path.of(dir, codec + "_" + session), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void checkRoundTrip(Codec c, Map<String, Object> attributes) {
        Map<String, Object> back = c.deserialize(c.serialize(attributes));
        if (!new LinkedHashMap<>(attributes).equals(new LinkedHashMap<>(back))) {
            throw new IllegalStateException("round trip differs: " + back.keySet() + " vs " + attributes.keySet());
        }
    }

    static String table(Map<String, String> sizes, Map<String, double[]> scores, String jvm) {
        StringBuilder sb = new StringBuilder();
        sb.append("Serialize + deserialize of one session (").append(jvm).append(")\n\n");
        sb.append("| session | serializer | ops/s | ± (99.9%) | bytes | ops/s vs anchor-java | bytes vs anchor-java"
                + " | ops/s vs anchor-kryo | bytes vs anchor-kryo |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (String session : SESSIONS) {
            String kryoRef = scores.containsKey("anchor-kryo/" + session) ? "anchor-kryo" : "anchor-kryo+add-opens";
            for (String codec : ROWS) {
                String key = codec + "/" + session;
                double[] s = scores.get(key);
                String bytes = sizes.getOrDefault(key, "-");
                List<String> row = new ArrayList<>(List.of(session, codec));
                row.add(s == null ? "-" : String.format(Locale.ROOT, "%,.0f", s[0]));
                row.add(s == null ? "-" : String.format(Locale.ROOT, "%,.0f", s[1]));
                row.add(bytes);
                for (String ref : List.of("anchor-java", kryoRef)) {
                    double[] r = scores.get(ref + "/" + session);
                    String refBytes = sizes.get(ref + "/" + session);
                    row.add(s == null || r == null ? "-" : String.format(Locale.ROOT, "%.2fx", s[0] / r[0]));
                    row.add(refBytes == null || !isNumber(refBytes) || !isNumber(bytes) ? "-"
                            : String.format(Locale.ROOT, "%.2fx", Double.parseDouble(bytes)
                                    / Double.parseDouble(refBytes)));
                }
                sb.append("| ").append(String.join(" | ", row)).append(" |\n");
            }
        }
        return sb.toString();
    }

    private static boolean isNumber(String s) {
        return s.chars().allMatch(Character::isDigit) && !s.isEmpty();
    }
}
