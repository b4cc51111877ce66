package io.msm.benchmarks.e2e;

import io.msm.benchmarks.ForkedJvm;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Paired mode ({@code --slices N --paired true}): each row is measured at the same time as its anchor
 * ({@link TargetTable#anchorOf}), each Tomcat in a JVM of its own with {@code --clients} keep-alive clients of its
 * own, both for the same {@code --slice} seconds after the same 1 s of load. The rows take turns, N passes, each pass
 * starting with another row. On this shared 2-core machine the speed of a slice moves by about a tenth from one slice
 * to the next; two rows measured in the same seconds see the same slice, so their per-slice ratio keeps little of it.
 * The two Tomcats share the machine's cores, each getting about half: the ratio is one of costs (requests/s and server
 * CPU per request), not of either row's requests/s alone: the scheduler gives a Tomcat that asks for more CPU
 * more of it, so server CPU per request is the figure that tells the rows' costs apart. Both rows' Tomcats call the
 * same memcached pair, so the per-slice lines' memcached calls and memcached CPU count both. Each side reads its
 * Tomcat's CPU counters before its window starts, so the two windows may start a few milliseconds apart.
 */
final class PairedRun {
    private PairedRun() {
    }

    /**
     * Runs the pairs; the result maps each row to its own results and its anchor's, slice by slice, under the anchor's
     * and the row's names. Rows that are anchors themselves are not measured on their own.
     */
    static Map<String, Map<String, List<EndToEndBenchmark.Result>>> run(List<String> rows, String workload,
            int clients, int warmup, int slices, int sliceSeconds, int forks, BenchmarkServers memcached)
            throws Exception {
        List<String> paired = new ArrayList<>();
        for (String row : rows) {
            if (TargetTable.anchorOf(row) != null) {
                paired.add(row);
            }
        }
        if (paired.isEmpty()) {
            throw new IllegalArgumentException("--paired needs a row with an anchor (an msm row or the control), had "
                    + rows);
        }
        Map<String, Map<String, List<EndToEndBenchmark.Result>>> byRow = new LinkedHashMap<>();
        for (String row : paired) {
            Map<String, List<EndToEndBenchmark.Result>> pair = new LinkedHashMap<>();
            pair.put(TargetTable.anchorOf(row), new ArrayList<>());
            pair.put(row, new ArrayList<>());
            byRow.put(row, pair);
        }
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            int slice = 0;
            for (int f = 0; f < forks; f++) {
                int end = (int) ((long) slices * (f + 1) / forks);
                slice = oneFork(paired, workload, clients, warmup, slice, end, sliceSeconds, memcached, byRow, two);
            }
        } finally {
            two.shutdownNow();
        }
        return byRow;
    }

    private static int oneFork(List<String> paired, String workload, int clients, int warmup, int from, int to,
            int sliceSeconds, BenchmarkServers memcached, Map<String, Map<String, List<EndToEndBenchmark.Result>>> byRow,
            ExecutorService two) throws Exception {
        Map<String, ForkedJvm> jvms = new LinkedHashMap<>();
        String path = EndToEndBenchmark.WORKLOADS.get(workload);
        try {
            for (String row : paired) {
                jvms.computeIfAbsent(TargetTable.anchorOf(row), a -> EndToEndBenchmark.forkOrFail(a, memcached));
                jvms.put(row, EndToEndBenchmark.forkOrFail(row, memcached));
            }
            for (Map.Entry<String, ForkedJvm> j : jvms.entrySet()) {
                EndToEndBenchmark.run(j.getValue().port, path, clients, warmup, 1, memcached.servers(j.getKey()), null,
                        j.getValue());
            }
            for (int slice = from; slice < to; slice++) {
                for (int i = 0; i < paired.size(); i++) {
                    String row = paired.get((slice + i) % paired.size());
                    String anchor = TargetTable.anchorOf(row);
                    Future<EndToEndBenchmark.Result> a = two.submit(() -> EndToEndBenchmark.run(jvms.get(anchor).port,
                            path, clients, 1, sliceSeconds, memcached.servers(anchor), null, jvms.get(anchor)));
                    Future<EndToEndBenchmark.Result> r = two.submit(() -> EndToEndBenchmark.run(jvms.get(row).port,
                            path, clients, 1, sliceSeconds, memcached.servers(row), null, jvms.get(row)));
                    try {
                        byRow.get(row).get(anchor).add(a.get());
                        byRow.get(row).get(row).add(r.get());
                    } finally {
                        a.cancel(true); // done, or the other failed: its load ends now
                        r.cancel(true);
                    }
                    System.out.printf(Locale.ROOT, "  %-14s %-34s slice %d, with %s: %.2f%n    %s%n    %s%n", workload,
                            row, slice + 1, anchor, r.get().perSecond / a.get().perSecond, a.get(), r.get());
                }
            }
        } finally {
            for (ForkedJvm j : jvms.values()) {
                j.close();
            }
            memcached.flushAll();
        }
        return to;
    }
}
