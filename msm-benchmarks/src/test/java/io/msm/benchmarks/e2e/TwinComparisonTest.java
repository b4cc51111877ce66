package io.msm.benchmarks.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The TLS table pairs each TLS row with the same row without TLS, slice by slice; no benchmark runs here. */
class TwinComparisonTest {

    @Test
    void everyTlsRowHasItsPlainTwin() {
        for (String row : EndToEndBenchmark.ROWS.keySet()) {
            if (BenchmarkServers.isTls(row)) {
                String twin = row.replace(" TLS", "");
                assertTrue(EndToEndBenchmark.ROWS.containsKey(twin), row + " has no twin " + twin);
                Map<String, String> plain = new LinkedHashMap<>(EndToEndBenchmark.ROWS.get(row));
                plain.remove(BenchmarkServers.TLS);
                assertEquals(EndToEndBenchmark.ROWS.get(twin), plain, "only tls differs: " + row);
            }
        }
    }

    @Test
    void tlsTableGivesThePerSliceRatioOfEachPair() {
        Map<String, List<EndToEndBenchmark.Result>> rows = new LinkedHashMap<>();
        rows.put(EndToEndBenchmark.OWN_JVM_BASE, List.of(result(100, 0, 0, 0), result(100, 0, 0, 0)));
        rows.put("msm non-sticky java (own JVM)", List.of(result(50, 3, 10, 0), result(40, 3, 12, 0)));
        rows.put("msm non-sticky java TLS (own JVM)", List.of(result(45, 3, 20, 1), result(20, 3, 30, 0)));
        String table = TwinComparison.tlsTable(Map.of("read 2KB", rows));

        String[] lines = table.strip().split("\n");
        assertEquals(3, lines.length, table);
        // ratios 0.9 and 0.5: median 0.70; medians of calls, server CPU (0 here), memcached CPU; connections summed;
        // medians of p99 (0 here) and of bytes per request (unknown here)
        assertEquals("| read 2KB | msm non-sticky java TLS (own JVM) | 0.70 (0.50-0.90) | 3.00 | 3.00 | 0 | 0 | 11 | 25"
                + " | 0 | 1 | 0 | 0 | NaN | NaN |", lines[2]);
    }

    private static EndToEndBenchmark.Result result(double perSecond, double calls, double memcachedCpu,
            long connections) {
        return ResultRow.of(perSecond, r -> {
            r.callsPerRequest = calls;
            r.memcachedCpuMicrosPerRequest = memcachedCpu;
            r.connectionsOpened = connections;
        });
    }
}
