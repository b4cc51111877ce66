import io.msm.benchmarks.model.Sessions;
import io.msm.serializer.java.JavaSerializationTranscoderFactory;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One thread serializing the typical session with Java serialization, two ways in turn (BENCHMARKS.md, "Reused object
 * streams"): a new ObjectOutputStream over a ByteArrayOutputStream for every write (msm's Java transcoder before
 * ReusableObjectOutput), and msm's Java transcoder now. Both write the same bytes (checked first). Not part of the
 * build. Run: {@code java -cp msm-benchmarks/target/benchmarks.jar msm-benchmarks/profiles-26/StreamReuse.java}.
 * Prints the median of rounds 6-15 (20,000 writes each) per way.
 */
public class StreamReuse {
    static byte[] newStream(Map<String, Object> attributes) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeInt(attributes.size());
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                out.writeObject(e.getKey());
                out.writeObject(e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static void main(String[] args) {
        ClassLoader loader = StreamReuse.class.getClassLoader();
        SessionAttributesTranscoder msm = new JavaSerializationTranscoderFactory().createTranscoder(
                new TranscoderContext() {
                    public ClassLoader classLoader() {
                        return loader;
                    }

                    public boolean copyCollectionsForSerialization() {
                        return false;
                    }

                    public List<String> customConverterClassNames() {
                        return List.of();
                    }

                    public String name() {
                        return "/bench";
                    }
                });
        Map<String, Object> session = new LinkedHashMap<>(Sessions.build("typical"));
        session.put("counter", 37);
        if (!Arrays.equals(newStream(session), msm.serialize(session))) {
            throw new AssertionError("the two ways write different bytes");
        }
        int rounds = 15;
        int writes = 20_000;
        double[][] ns = new double[2][rounds];
        long sink = 0;
        for (int r = 0; r < rounds; r++) {
            for (int way = 0; way < 2; way++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < writes; i++) {
                    sink += (way == 0 ? newStream(session) : msm.serialize(session)).length;
                }
                ns[way][r] = (System.nanoTime() - t0) / (double) writes;
            }
        }
        String[] names = {"a new stream per write", "msm's transcoder (reused streams)"};
        for (int way = 0; way < 2; way++) {
            double[] kept = Arrays.copyOfRange(ns[way], 5, rounds);
            Arrays.sort(kept);
            System.out.printf("%-36s median %,.0f ns per write%n", names[way], kept[kept.length / 2]);
        }
        System.out.println("(bytes written: " + sink + ")");
    }
}
