package io.msm.benchmarks.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The before/after table of an {@code --baseline} run: for each row with a {@code @baseline} twin, the median of the
 * per-slice (or per-round) ratios of its requests/s to the twin's in the same pass, and both rows' server CPU per
 * request (medians).
 */
final class BaselineComparison {
    private BaselineComparison() {
    }

    static String table(Map<String, Map<String, List<EndToEndBenchmark.Result>>> results) {
        StringBuilder t = new StringBuilder();
        results.forEach((workload, rows) -> rows.forEach((row, after) -> {
            List<EndToEndBenchmark.Result> before = rows.get(row + EndToEndBenchmark.BASELINE_SUFFIX);
            if (before == null) {
                return;
            }
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < after.size() && i < before.size(); i++) {
                ratios.add(after.get(i).perSecond / before.get(i).perSecond);
            }
            if (t.length() == 0) {
                t.append("\n| workload | row | after / before req/s: median (quartiles) | server CPU µs/req before"
                        + " | after |\n|---|---|---:|---:|---:|\n");
            }
            t.append(String.format(Locale.ROOT, "| %s | %s | %.2f (%.2f-%.2f) | %.0f | %.0f |%n", workload, row,
                    EndToEndBenchmark.median(ratios), quantile(ratios, 0.25), quantile(ratios, 0.75),
                    EndToEndBenchmark.median(cpu(before)), EndToEndBenchmark.median(cpu(after))));
        }));
        return t.toString();
    }

    private static List<Double> cpu(List<EndToEndBenchmark.Result> results) {
        List<Double> cpu = new ArrayList<>();
        results.forEach(r -> cpu.add(r.cpuMicrosPerRequest));
        return cpu;
    }

    private static double quantile(List<Double> values, double q) {
        List<Double> sorted = new ArrayList<>(values);
        java.util.Collections.sort(sorted);
        return sorted.get((int) Math.round(q * (sorted.size() - 1)));
    }
}
