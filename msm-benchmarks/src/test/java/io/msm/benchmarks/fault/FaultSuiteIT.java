package io.msm.benchmarks.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fault suite in every build (about two minutes): for every fault in both modes, no failed request; no lost
 * session; while a node is paused, p99 below operationTimeout + 50 ms. The table goes to
 * {@code target/reliability.md}; RELIABILITY.md records a run.
 */
class FaultSuiteIT {
    private static final int USERS = 8;
    private static final long THINK_MILLIS = 10;

    @Test
    void noFailedRequestAndNoLostSessionUnderAnyFaultInEitherMode() throws Exception {
        FaultSuite suite = new FaultSuite(USERS, THINK_MILLIS);
        List<FaultSuite.Result> results = new ArrayList<>();
        for (boolean sticky : new boolean[] {true, false}) {
            for (FaultSuite.Fault f : FaultSuite.Fault.values()) {
                if (f == FaultSuite.Fault.KILL_ALL_MEMCACHED) {
                    continue; // its own test below
                }
                FaultSuite.Result r = suite.run(sticky, f);
                System.out.println(r + " " + r.problems);
                results.add(r);
            }
        }
        StringBuilder table = new StringBuilder(FaultSuite.HEADER).append('\n');
        results.forEach(r -> table.append(r).append('\n'));
        Files.writeString(Path.of("target", "reliability.md"), table);
        for (FaultSuite.Result r : results) {
            String what = r.mode + ", " + r.fault.description + ": " + r.problems;
            assertTrue(r.requests > 1000, what + " (only " + r.requests + " requests)");
            assertEquals(0, r.failedRequests, "failed requests; " + what);
            assertEquals(0, r.lostSessions, "lost sessions; " + what);
            if (r.fault == FaultSuite.Fault.PAUSE_MEMCACHED) {
                assertTrue(r.p99DuringMillis < MsmConfig.DEFAULT_OPERATION_TIMEOUT_MILLIS + 50,
                        "p99 " + r.p99DuringMillis + " ms while the node is paused; " + what);
            }
        }
    }

    /**
     * Non-sticky, every memcached node killed under load, then started again (5 s here; RELIABILITY.md records a 30 s
     * run): no failed request, nothing left waiting for a node, and each Tomcat's used heap after a full GC, 5 s
     * after it settled, within 10 % of before (the Tomcats forget when they refreshed each secondary copy after 2 s
     * here, not msm's 60 s). Users get new sessions meanwhile (round robin: no Tomcat holds their session). About
     * 30 s (82 s with the 60 s wait).
     */
    @Test
    void nonStickyWithEveryNodeKilledFailsNoRequestAndGivesItsHeapBack() throws Exception {
        FaultSuite.Result r = new FaultSuite(USERS, THINK_MILLIS, List.of(), 5_000, 5_000, 2_000)
                .run(false, FaultSuite.Fault.KILL_ALL_MEMCACHED);
        String what = r + " " + r.problems + "; heap " + r.heapLine();
        System.out.println(what);
        assertTrue(r.requests > 1000, what);
        assertEquals(0, r.failedRequests, "failed requests; " + what);
        assertTrue(r.problems.stream().noneMatch(p -> p.contains("waiting for a node")), what);
        assertEquals(2, r.heapAfter.size(), what);
        assertTrue(r.maxHeapGrowth() < 0.10, "heap after the outage; " + what);
    }

    /** The same check finds losses where there is no replication: msm disabled, a Tomcat killed. */
    @Test
    void withoutReplicationAKilledTomcatLosesItsSessions() throws Exception {
        FaultSuite.Result r = new FaultSuite(USERS, THINK_MILLIS, List.of("enabled=false"))
                .run(true, FaultSuite.Fault.KILL_TOMCAT);
        assertTrue(r.lostSessions > 0, r.toString());
    }
}
