import io.msm.benchmarks.Codec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a non-sticky split write of the typical session serialized on every change before plain values had a form of
 * their own: the map of its immutable values (the locale, the token, the last search, the page views, the counter),
 * through each serializer, µs per serialization (wall clock, one thread, the counter changing each time).
 * Usage: javac -cp benchmarks.jar ImmutableChunkCost.java && java -cp benchmarks.jar:. ImmutableChunkCost
 */
public class ImmutableChunkCost {
    public static void main(String[] args) {
        for (String name : new String[] {"msm-kryo", "msm-java", "msm-kryo", "msm-java"}) {
            Codec c = Codec.create(name);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("locale", "de_DE");
            m.put("csrfToken", "5a1b2c3d4e5f60718293a4b5c6d7e8f9");
            m.put("lastSearch", "blue running shoes size 42");
            m.put("pageViews", 37);
            m.put("counter", 12345);
            long sink = 0;
            for (int round = 0; round < 5; round++) {
                long t = System.nanoTime();
                int n = 400_000;
                for (int i = 0; i < n; i++) {
                    m.put("counter", i);
                    sink += c.serialize(m).length;
                }
                long dt = System.nanoTime() - t;
                if (round >= 2) {
                    System.out.printf("%s %.3f µs/serialize, %d bytes%n", name, dt / 1e3 / n, c.serialize(m).length);
                }
            }
            if (sink == 42) {
                System.out.println();
            }
        }
    }
}
