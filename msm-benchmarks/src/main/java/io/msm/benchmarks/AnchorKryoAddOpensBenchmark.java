package io.msm.benchmarks;

import io.msm.benchmarks.model.Sessions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * memcached-session-manager 2.3.2's Kryo transcoder fails on Java 17 as published (its kryo-serializers reflect
 * into {@code java.util}); this tries it the way its users on 17 would: with {@code --add-opens}. (It still fails:
 * kryo-serializers 0.41 looks for {@code ArrayList$SubList.parentOffset}, a field Java 9 removed; see
 * BENCHMARKS.md.) msm's own serializers run without any {@code --add-opens}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(jvmArgsAppend = {"--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.math=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED"})
public class AnchorKryoAddOpensBenchmark {

    @Param({"anchor-kryo"})
    public String codec;

    @Param({"typical", "large"})
    public String session;

    private Codec c;
    private Map<String, Object> attributes;

    @Setup
    public void setUp() {
        c = Codec.create(codec);
        attributes = Sessions.build(session);
        try {
            Main.checkRoundTrip(c, attributes);
        } catch (RuntimeException | Error e) {
            Main.recordSize(codec + "+add-opens", session, "FAILED: " + Main.rootCause(e));
            throw e;
        }
        Main.recordSize(codec + "+add-opens", session, Integer.toString(c.serialize(attributes).length));
    }

    @Benchmark
    public Map<String, Object> serializeAndDeserialize() {
        return c.deserialize(c.serialize(attributes));
    }
}
