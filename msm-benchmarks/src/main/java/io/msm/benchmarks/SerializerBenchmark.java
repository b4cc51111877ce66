package io.msm.benchmarks;

import io.msm.benchmarks.model.Sessions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Serialize + deserialize of one session, as a backup followed by a failover read does it. Run through
 * {@link Main}, which also prints the serialized sizes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SerializerBenchmark {

    @Param({"msm-java", "msm-kryo", "anchor-java", "anchor-kryo"})
    public String codec;

    @Param({"typical", "large"})
    public String session;

    private Codec c;
    private Map<String, Object> attributes;

    @Setup
    public void setUp() {
        c = Codec.create(codec);
        attributes = Sessions.build(session);
        Main.checkRoundTrip(c, attributes); // a codec that does not read back equal is not measured
        Main.recordSize(codec, session, Integer.toString(c.serialize(attributes).length));
    }

    @Benchmark
    public Map<String, Object> serializeAndDeserialize() {
        return c.deserialize(c.serialize(attributes));
    }
}
