package io.msm.benchmarks.e2e;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The request path's cost targets (issue 26) in an interleaved run: each msm row against its anchor measured in the
 * same passes, sticky rows against StandardManager (no replication at all), non-sticky rows against the floor (the
 * request's memcached calls alone, without serialization or session handling). For each pair: the median and
 * quartiles of the per-slice ratios of requests/s (row / anchor) and of server CPU per request (anchor / row, so that
 * 1.00 is "costs the same" and below 1 "costs more" in both), the target, whether both medians reach it, and both
 * rows' median p99 latency and bytes allocated per request. When the run has the floor with Java's size, each
 * non-sticky Java row is also set against it, for reference (no target): the floor that sends what Java serialization
 * stores. The control row (the anchor once more, in a JVM of its own) is set against the anchor the same way, as
 * the scatter of the run.
 */
final class TargetTable {
    private static final Map<String, Double> TARGETS = new LinkedHashMap<>();

    static {
        TARGETS.put("change 2KB|msm sticky java (own JVM)", 0.90);
        TARGETS.put("change 2KB|msm sticky kryo (own JVM)", 0.95);
        TARGETS.put("read 2KB|msm sticky java (own JVM)", 0.99);
        TARGETS.put("read 2KB|msm sticky kryo (own JVM)", 0.99);
        TARGETS.put("change 2KB|msm non-sticky java (own JVM)", 0.85);
        TARGETS.put("change 2KB|msm non-sticky kryo (own JVM)", 0.90);
        TARGETS.put("read 2KB|msm non-sticky java (own JVM)", 0.95);
        TARGETS.put("read 2KB|msm non-sticky kryo (own JVM)", 0.95);
    }

    private TargetTable() {
    }

    /**
     * The row a row is judged against: the floor for a non-sticky msm row, StandardManager for a sticky one and for
     * the control, its row's for an {@code @baseline} twin; {@code null} for the anchors themselves and other rows.
     */
    static String anchorOf(String row) {
        if (row.endsWith(EndToEndBenchmark.BASELINE_SUFFIX)) { // an earlier build's twin: its row's anchor
            return anchorOf(row.substring(0, row.length() - EndToEndBenchmark.BASELINE_SUFFIX.length()));
        }
        if (row.equals(EndToEndBenchmark.CONTROL)) {
            return EndToEndBenchmark.OWN_JVM_BASE;
        }
        if (!row.startsWith("msm ") || !row.endsWith("(own JVM)")) {
            return null;
        }
        return row.contains("non-sticky") ? EndToEndBenchmark.FLOOR + " (own JVM)" : EndToEndBenchmark.OWN_JVM_BASE;
    }

    static String table(Map<String, Map<String, List<EndToEndBenchmark.Result>>> results) {
        StringBuilder t = new StringBuilder();
        results.forEach((workload, rows) -> rows.forEach((row, measured) -> {
            if (row.equals(EndToEndBenchmark.CONTROL)) {
                // no target: two JVMs of the same code, what this run's ratios move by without any code change
                line(t, workload, row, measured, anchorOf(row), rows, null);
                return;
            }
            Double target = TARGETS.get(workload + "|" + row);
            if (target == null) {
                return;
            }
            line(t, workload, row, measured, anchorOf(row), rows, target);
            if (row.contains("non-sticky java")) {
                // for reference, no target: the floor sending values of the size Java serialization gives the session
                line(t, workload, row, measured, EndToEndBenchmark.FLOOR_JAVA_SIZE, rows, null);
            }
        }));
        return t.toString();
    }

    /**
     * The table of a paired run ({@link PairedRun}): workload -> row -> the row's and its anchor's results, measured
     * at the same time. Rows without a target are set against their anchor as references.
     */
    static String pairedTable(Map<String, Map<String, Map<String, List<EndToEndBenchmark.Result>>>> pairs) {
        StringBuilder t = new StringBuilder();
        pairs.forEach((workload, byRow) -> byRow.forEach((row, pair) -> line(t, workload, row, pair.get(row),
                anchorOf(row), pair, TARGETS.get(workload + "|" + row))));
        return t.toString();
    }

    /** One pair's line, if the anchor was measured; {@code target} {@code null}: a reference line, no verdict. */
    private static void line(StringBuilder t, String workload, String row, List<EndToEndBenchmark.Result> measured,
            String anchorName, Map<String, List<EndToEndBenchmark.Result>> rows, Double target) {
        List<EndToEndBenchmark.Result> anchor = rows.get(anchorName);
        if (anchor == null) {
            return;
        }
        List<Double> throughput = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        for (int i = 0; i < measured.size() && i < anchor.size(); i++) {
            throughput.add(measured.get(i).perSecond / anchor.get(i).perSecond);
            cpu.add(anchor.get(i).cpuMicrosPerRequest / measured.get(i).cpuMicrosPerRequest);
        }
        long errors = 0; // failed requests count as served in req/s: no verdict on such a run
        for (int i = 0; i < measured.size() && i < anchor.size(); i++) {
            errors += measured.get(i).errors + anchor.get(i).errors;
        }
        double tput = EndToEndBenchmark.median(throughput);
        double cpuRatio = EndToEndBenchmark.median(cpu);
        if (t.length() == 0) {
            t.append(String.format(Locale.ROOT, "%n| workload | row | against | target | req/s row / anchor:"
                    + " median (quartiles) | server CPU/req anchor / row: median (quartiles) | met"
                    + " | p99 µs anchor | row | request threads' bytes/req anchor | row"
                    + " | server's bytes/req anchor | row |%n"
                    + "|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|%n"));
        }
        t.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %s"
                + " | %.0f | %.0f | %,.0f | %,.0f | %,.0f | %,.0f |%n", workload, row, anchorName,
                target == null ? "-" : String.format(Locale.ROOT, "%.2f", target), tput,
                TwinComparison.quantile(throughput, 0.25), TwinComparison.quantile(throughput, 0.75), cpuRatio,
                TwinComparison.quantile(cpu, 0.25), TwinComparison.quantile(cpu, 0.75),
                errors > 0 ? errors + " errors" : target == null ? "reference"
                        : tput >= target && cpuRatio >= target ? "met" : "missed",
                TwinComparison.median(anchor, r -> r.p99Micros), TwinComparison.median(measured, r -> r.p99Micros),
                TwinComparison.median(anchor, r -> r.requestThreadBytesPerRequest),
                TwinComparison.median(measured, r -> r.requestThreadBytesPerRequest),
                TwinComparison.median(anchor, r -> r.serverBytesPerRequest),
                TwinComparison.median(measured, r -> r.serverBytesPerRequest)));
    }
}
