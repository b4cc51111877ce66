import java.lang.management.*;
import java.net.*;
import java.util.*;
/**
 * Two builds' PlainValues.encodeHeld in one JVM, a class loader each, in alternating rounds: thread CPU per call (reflection
 * included). Usage: javac PlainValuesAB.java && java -cp . PlainValuesAB <msm-core classes A> <msm-core classes B>
 */
public class PlainValuesAB {
    public static void main(String[] a) throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        java.lang.reflect.Method[] m = new java.lang.reflect.Method[2];
        for (int j = 0; j < 2; j++) {
            URLClassLoader l = new URLClassLoader(new URL[] {new java.io.File(a[j]).toURI().toURL()}, ClassLoader.getPlatformClassLoader());
            m[j] = l.loadClass("io.msm.codec.PlainValues").getMethod("encodeHeld", Map.class, int.class);
        }
        Map<String, Object> s = new HashMap<>();
        s.put("user", new ArrayList<>(List.of("x"))); s.put("cart", new ArrayList<>(List.of("y")));
        s.put("recentlyViewed", new ArrayList<>()); s.put("flash", new LinkedHashMap<>());
        s.put("locale", "de_DE"); s.put("csrfToken", "5a1b2c3d4e5f60718293a4b5c6d7e8f9");
        s.put("lastSearch", "blue running shoes size 42"); s.put("pageViews", 37); s.put("counter", 12345);
        int rounds = 21; double[][] r = new double[2][rounds]; long sink = 0;
        for (int k = -5; k < rounds; k++) {
            for (int j0 = 0; j0 < 2; j0++) {
                int j = (k & 1) == 0 ? j0 : 1 - j0;
                int n = 200_000;
                long t = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < n; i++) { s.put("counter", i); sink += ((byte[]) m[j].invoke(null, s, 5)).length; }
                if (k >= 0) r[j][k] = (mx.getCurrentThreadCpuTime() - t) / 1e3 / n;
            }
        }
        double[] ratio = new double[rounds];
        for (int k = 0; k < rounds; k++) ratio[k] = r[1][k] / r[0][k];
        Arrays.sort(ratio); for (double[] x : r) Arrays.sort(x);
        System.out.printf("old %.3f µs, new %.3f µs per encode (CPU medians incl. reflection), new/old per round %.3f (%.3f-%.3f) %d%n",
            r[0][rounds/2], r[1][rounds/2], ratio[rounds/2], ratio[rounds/4], ratio[3*rounds/4], sink % 3);
    }
}
