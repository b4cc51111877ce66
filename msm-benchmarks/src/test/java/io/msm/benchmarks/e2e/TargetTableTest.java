package io.msm.benchmarks.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The target table pairs sticky rows with StandardManager and non-sticky rows with the floor, slice by slice, and
 * calls a target met only when both the requests/s and the server CPU medians reach it; no benchmark runs here.
 */
class TargetTableTest {

    @Test
    void stickyRowsAgainstStandardManagerNonStickyRowsAgainstTheFloor() {
        Map<String, List<EndToEndBenchmark.Result>> rows = new LinkedHashMap<>();
        rows.put(EndToEndBenchmark.OWN_JVM_BASE, List.of(result(100, 50, 700, 1000), result(200, 40, 900, 1200)));
        rows.put(EndToEndBenchmark.FLOOR + " (own JVM)", List.of(result(40, 100, 900, 4000),
                result(50, 100, 1100, 4000)));
        // req/s ratios 0.96 and 0.96, CPU ratios 50/52 = 0.96 and 40/41 = 0.98: both reach 0.95
        rows.put("msm sticky kryo (own JVM)", List.of(result(96, 52, 800, 1100), result(192, 41, 1000, 1300)));
        // req/s 0.95 and 0.92 (median 0.935), CPU 0.95 and 0.96: req/s misses 0.95
        rows.put("msm non-sticky kryo (own JVM)", List.of(result(38, 105, 1500, 9000), result(46, 104, 1700, 9400)));
        // no target for this row
        rows.put("msm sticky java minBackupInterval=0 (own JVM)", List.of(result(1, 1, 1, 1), result(1, 1, 1, 1)));
        String[] lines = TargetTable.table(Map.of("change 2KB", rows)).strip().split("\n");

        assertEquals(4, lines.length, String.join("\n", lines));
        assertEquals("| change 2KB | msm sticky kryo (own JVM) | StandardManager (own JVM) | 0.95 | 0.96 (0.96-0.96)"
                + " | 0.97 (0.96-0.98) | met | 800 | 900 | 1,100 | 1,200 | NaN | NaN |", lines[2]);
        assertEquals("| change 2KB | msm non-sticky kryo (own JVM) | floor: memcached calls only (own JVM) | 0.90"
                + " | 0.94 (0.92-0.95) | 0.96 (0.95-0.96) | met | 1000 | 1600 | 4,000 | 9,200 | NaN | NaN |", lines[3]);
    }

    @Test
    void aNonStickyJavaRowIsAlsoSetAgainstTheFloorWithJavasSizeForReference() {
        Map<String, List<EndToEndBenchmark.Result>> rows = new LinkedHashMap<>();
        rows.put(EndToEndBenchmark.FLOOR + " (own JVM)", List.of(result(100, 50, 700, 1000)));
        rows.put(EndToEndBenchmark.FLOOR_JAVA_SIZE, List.of(result(90, 55, 750, 1000)));
        rows.put("msm non-sticky java (own JVM)", List.of(result(85, 60, 800, 2000))); // 0.85 / 0.83 of the floor
        String[] lines = TargetTable.table(Map.of("read 2KB", rows)).strip().split("\n");
        assertEquals(4, lines.length, String.join("\n", lines));
        assertEquals(true, lines[2].contains("| floor: memcached calls only (own JVM) | 0.95 | 0.85 (0.85-0.85)"
                + " | 0.83 (0.83-0.83) | missed |"), lines[2]);
        assertEquals(true, lines[3].contains("| floor with Java's size (own JVM) | - | 0.94 (0.94-0.94)"
                + " | 0.92 (0.92-0.92) | reference |"), lines[3]);
    }

    @Test
    void aRowMissesWhenEitherRatioFallsShort() {
        Map<String, List<EndToEndBenchmark.Result>> rows = new LinkedHashMap<>();
        rows.put(EndToEndBenchmark.OWN_JVM_BASE, List.of(result(100, 50, 700, 1000)));
        rows.put("msm sticky java (own JVM)", List.of(result(95, 60, 700, 1000))); // req/s 0.95, CPU 0.83
        String table = TargetTable.table(Map.of("change 2KB", rows));
        assertEquals(true, table.contains("| 0.90 | 0.95 (0.95-0.95) | 0.83 (0.83-0.83) | missed |"), table);
    }

    @Test
    void eachRowHasTheAnchorItIsJudgedAgainstAndTheAnchorsHaveNone() {
        assertEquals(EndToEndBenchmark.OWN_JVM_BASE, TargetTable.anchorOf(EndToEndBenchmark.CONTROL));
        assertEquals(EndToEndBenchmark.OWN_JVM_BASE, TargetTable.anchorOf("msm sticky kryo (own JVM)"));
        assertEquals(EndToEndBenchmark.FLOOR + " (own JVM)", TargetTable.anchorOf("msm non-sticky java (own JVM)"));
        assertEquals(EndToEndBenchmark.FLOOR + " (own JVM)",
                TargetTable.anchorOf("msm non-sticky java (own JVM)" + EndToEndBenchmark.BASELINE_SUFFIX));
        assertNull(TargetTable.anchorOf(EndToEndBenchmark.OWN_JVM_BASE));
        assertNull(TargetTable.anchorOf(EndToEndBenchmark.FLOOR + " (own JVM)"));
        assertNull(TargetTable.anchorOf(EndToEndBenchmark.FLOOR_JAVA_SIZE));
        assertNull(TargetTable.anchorOf("msm sticky kryo")); // in the benchmark's JVM: never paired
    }

    @Test
    void aPairedRunIsJudgedPairByPairAndFailedRequestsLeaveNoVerdict() {
        Map<String, List<EndToEndBenchmark.Result>> sticky = new LinkedHashMap<>();
        sticky.put(EndToEndBenchmark.OWN_JVM_BASE, List.of(result(100, 50, 700, 1000)));
        sticky.put("msm sticky kryo (own JVM)", List.of(result(100, 51, 700, 1000))); // CPU 0.98
        Map<String, List<EndToEndBenchmark.Result>> control = new LinkedHashMap<>();
        control.put(EndToEndBenchmark.OWN_JVM_BASE, List.of(result(90, 50, 700, 1000))); // another slice's anchor
        EndToEndBenchmark.Result failing = result(120, 50, 700, 1000);
        failing.errors = 3; // refused connections of a dead JVM, counted in req/s
        control.put(EndToEndBenchmark.CONTROL, List.of(failing));
        Map<String, Map<String, List<EndToEndBenchmark.Result>>> byRow = new LinkedHashMap<>();
        byRow.put("msm sticky kryo (own JVM)", sticky);
        byRow.put(EndToEndBenchmark.CONTROL, control);
        String[] lines = TargetTable.pairedTable(Map.of("read 2KB", byRow)).strip().split("\n");
        assertEquals(4, lines.length, String.join("\n", lines));
        assertEquals(true, lines[2].contains("| msm sticky kryo (own JVM) | StandardManager (own JVM) | 0.99"
                + " | 1.00 (1.00-1.00) | 0.98 (0.98-0.98) | missed |"), lines[2]);
        assertEquals(true, lines[3].contains("| StandardManager again (own JVM) | StandardManager (own JVM) | -"
                + " | 1.33 (1.33-1.33) | 1.00 (1.00-1.00) | 3 errors |"), lines[3]);
    }

    @Test
    void aServerThreadsReadingSurvivesItsTextAndAnEarlierBuildsAnswerIsNone() {
        ServerThreads parsed = ServerThreads.parse("server-threads\n1 2\n3 4\n5 6\n7 8");
        ServerThreads before = ServerThreads.parse("server-threads\n0 0\n1 1\n0 0\n0 0");
        assertEquals(2, parsed.since(before, ServerThreads.CONNECTOR, 0));
        assertEquals(6, parsed.since(before, ServerThreads.MSM, 1));
        assertEquals("server-threads\n1 2\n3 4\n5 6\n7 8", parsed.format());
        assertNull(ServerThreads.parse("ok 0")); // the session servlet of a build without the threads servlet
    }

    private static EndToEndBenchmark.Result result(double perSecond, double cpu, long p99, double bytes) {
        return ResultRow.of(perSecond, r -> {
            r.cpuMicrosPerRequest = cpu;
            r.p99Micros = p99;
            r.requestThreadBytesPerRequest = bytes;
        });
    }
}
