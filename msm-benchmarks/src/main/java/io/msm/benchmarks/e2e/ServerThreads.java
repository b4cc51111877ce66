package io.msm.benchmarks.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * CPU time and allocated bytes of a server's live threads, by group: Tomcat's request threads, its connector's poller
 * and acceptor, msm's own threads (backups, probes, connection watch; spymemcached's I/O), and every other thread of
 * the server (GC and JIT threads are not Java threads: their CPU is the process's total minus these groups). A thread
 * that ended between two readings drops out of its group; the benchmark's Tomcat keeps its threads, so that only
 * loses a few.
 *
 * <p>A Tomcat in a JVM of its own serves its reading at {@link #PATH} ({@link Servlet}); a Tomcat on an earlier
 * build's jar has no such servlet, and {@link #fetch} then answers {@code null}.
 */
final class ServerThreads {
    static final String REQUEST = "Tomcat request threads";
    static final String CONNECTOR = "Tomcat poller and acceptor";
    static final String MSM = "msm threads";
    static final String OTHER = "other server threads";
    static final List<String> GROUPS = List.of(REQUEST, CONNECTOR, MSM, OTHER);
    static final String PATH = "/benchmark-server-threads";
    private static final String PREFIX = "server-threads";

    /** Group -> {CPU ns, allocated bytes}. */
    final Map<String, long[]> byGroup;

    private ServerThreads(Map<String, long[]> byGroup) {
        this.byGroup = byGroup;
    }

    /** This JVM's threads, leaving out the load generator's ({@code load-*}) and JDK's own without a group. */
    static ServerThreads read() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Map<String, long[]> groups = new LinkedHashMap<>();
        GROUPS.forEach(g -> groups.put(g, new long[2]));
        for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t == null || t.getThreadName().startsWith("load-")) {
                continue;
            }
            long cpu = threads.getThreadCpuTime(t.getThreadId());
            long allocated = threads.getThreadAllocatedBytes(t.getThreadId());
            long[] g = groups.get(groupOf(t.getThreadName()));
            g[0] += Math.max(0, cpu);
            g[1] += Math.max(0, allocated);
        }
        return new ServerThreads(groups);
    }

    private static String groupOf(String name) {
        return name.startsWith("http-") && name.contains("-exec-") ? REQUEST
                : name.startsWith("http-") ? CONNECTOR
                : name.startsWith("msm-") || name.startsWith("Memcached IO") ? MSM : OTHER;
    }

    /** The reading of the Tomcat on {@code port}; {@code null} if it has no {@link Servlet} (an earlier build). */
    static ServerThreads fetch(int port) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + PATH).openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(5000);
        try (InputStream in = c.getInputStream()) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            in.transferTo(body);
            return parse(body.toString(StandardCharsets.US_ASCII));
        } finally {
            c.disconnect();
        }
    }

    static ServerThreads parse(String body) {
        String[] lines = body.split("\n");
        if (lines.length != GROUPS.size() + 1 || !lines[0].equals(PREFIX)) {
            return null; // not ours: an earlier build's servlet answered
        }
        Map<String, long[]> groups = new LinkedHashMap<>();
        for (int i = 0; i < GROUPS.size(); i++) {
            String[] f = lines[i + 1].split(" ");
            groups.put(GROUPS.get(i), new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])});
        }
        return new ServerThreads(groups);
    }

    String format() {
        StringBuilder b = new StringBuilder(PREFIX);
        byGroup.values().forEach(g -> b.append('\n').append(g[0]).append(' ').append(g[1]));
        return b.toString();
    }

    /** CPU ns ({@code figure} 0) or allocated bytes (1) of {@code group} since {@code before}. */
    long since(ServerThreads before, String group, int figure) {
        return byGroup.get(group)[figure] - before.byGroup.get(group)[figure];
    }

    /** "server CPU µs/request by threads: ..." and "allocated bytes/request by threads: ..." of {@code requests}. */
    String describeSince(ServerThreads before, long requests, long serverCpuNanos) {
        StringBuilder cpu = new StringBuilder("server CPU µs/request by threads:");
        StringBuilder alloc = new StringBuilder("allocated bytes/request by threads:");
        long rest = serverCpuNanos;
        for (String group : GROUPS) {
            long used = since(before, group, 0);
            rest -= used;
            cpu.append(String.format(Locale.ROOT, " %s %.1f,", group, used / 1000.0 / requests));
            alloc.append(String.format(Locale.ROOT, " %s %,.0f,", group, since(before, group, 1) / (double) requests));
        }
        cpu.append(String.format(Locale.ROOT, " GC, JIT, ... %.1f", rest / 1000.0 / requests));
        alloc.setLength(alloc.length() - 1);
        return cpu + "\n" + " ".repeat(40) + alloc;
    }

    /** Serves this JVM's {@link #read()} at {@link #PATH}. */
    static final class Servlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain");
            response.getWriter().write(read().format());
        }
    }
}
