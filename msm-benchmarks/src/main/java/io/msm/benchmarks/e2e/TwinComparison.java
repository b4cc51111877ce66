package io.msm.benchmarks.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * The tables that compare a row with its twin measured in the same passes: the before/after table of an
 * {@code --baseline} run (each row against its {@code @baseline} twin), and the TLS table (each TLS row against the
 * same row without TLS). For each pair: the median and quartiles of the per-slice (or per-round) ratios of the
 * row's requests/s to the twin's in the same pass, and both rows' medians of memcached calls, server CPU and
 * memcached CPU per request.
 */
final class TwinComparison {
    private TwinComparison() {
    }

    static String table(Map<String, Map<String, List<EndToEndBenchmark.Result>>> results) {
        return pairs(results, row -> row + EndToEndBenchmark.BASELINE_SUFFIX, "after / before", "before", "after");
    }

    /**
     * TLS rows against their twins without TLS, with the connections memcached accepted from each during all its
     * measured slices (each a TLS handshake, full or resumed, for the TLS row).
     */
    static String tlsTable(Map<String, Map<String, List<EndToEndBenchmark.Result>>> results) {
        return pairs(results, row -> BenchmarkServers.isTls(row) ? row.replace(" TLS", "") : null, "TLS / plain",
                "plain", "TLS");
    }

    private static String pairs(Map<String, Map<String, List<EndToEndBenchmark.Result>>> results,
            Function<String, String> twinOf, String ratioName, String twinName, String rowName) {
        StringBuilder t = new StringBuilder();
        results.forEach((workload, rows) -> rows.forEach((row, after) -> {
            String twin = twinOf.apply(row);
            List<EndToEndBenchmark.Result> before = twin == null ? null : rows.get(twin);
            if (before == null) {
                return;
            }
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < after.size() && i < before.size(); i++) {
                ratios.add(after.get(i).perSecond / before.get(i).perSecond);
            }
            if (t.length() == 0) {
                t.append(String.format(Locale.ROOT, "%n| workload | row | %1$s req/s: median (quartiles)"
                        + " | memcached calls/req %2$s | %3$s | server CPU µs/req %2$s | %3$s"
                        + " | memcached CPU µs/req %2$s | %3$s | connections opened %2$s | %3$s | p99 µs %2$s | %3$s"
                        + " | request threads' bytes/req %2$s | %3$s |%n"
                        + "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|%n", ratioName,
                        twinName, rowName));
            }
            t.append(String.format(Locale.ROOT, "| %s | %s | %.2f (%.2f-%.2f) | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f"
                    + " | %d | %d | %.0f | %.0f | %,.0f | %,.0f |%n", workload, row, EndToEndBenchmark.median(ratios), quantile(ratios, 0.25),
                    quantile(ratios, 0.75), median(before, r -> r.callsPerRequest),
                    median(after, r -> r.callsPerRequest), median(before, r -> r.cpuMicrosPerRequest),
                    median(after, r -> r.cpuMicrosPerRequest), median(before, r -> r.memcachedCpuMicrosPerRequest),
                    median(after, r -> r.memcachedCpuMicrosPerRequest), connections(before), connections(after),
                    median(before, r -> r.p99Micros), median(after, r -> r.p99Micros),
                    median(before, r -> r.requestThreadBytesPerRequest),
                    median(after, r -> r.requestThreadBytesPerRequest)));
        }));
        return t.toString();
    }

    static double median(List<EndToEndBenchmark.Result> results,
            ToDoubleFunction<EndToEndBenchmark.Result> figure) {
        List<Double> values = new ArrayList<>();
        results.forEach(r -> values.add(figure.applyAsDouble(r)));
        return EndToEndBenchmark.median(values);
    }

    private static long connections(List<EndToEndBenchmark.Result> results) {
        return results.stream().mapToLong(r -> r.connectionsOpened).sum();
    }

    static double quantile(List<Double> values, double q) {
        List<Double> sorted = new ArrayList<>(values);
        java.util.Collections.sort(sorted);
        return sorted.get((int) Math.round(q * (sorted.size() - 1)));
    }
}
