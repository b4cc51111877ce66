package io.msm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** Which changes of a node's availability are reported, from the state of its two connections and its probes. */
class NodeAvailabilityTest {
    private final Set<String> clientUp = ConcurrentHashMap.newKeySet();
    private final Set<String> watchUp = ConcurrentHashMap.newKeySet();
    private final Set<String> answers = ConcurrentHashMap.newKeySet();
    private final List<String> reports = new ArrayList<>();
    private final NodeAvailability availability = new NodeAvailability(
            node -> clientUp.contains(node) && watchUp.contains(node), answers::contains, (node, available) -> reports.add(node + (available ? " available" : " unavailable")));

    @Test
    void connectionsComingUpAtStartInEitherOrderAreNoChange() {
        clientUp.add("n1");
        availability.changed("n1"); // spymemcached first: the watch is not up yet
        watchUp.add("n1");
        availability.changed("n1");

        watchUp.add("n2");
        availability.changed("n2"); // the watch first
        clientUp.add("n2");
        availability.changed("n2");

        availability.started("n1");
        availability.started("n2");
        assertEquals(List.of(), reports);
        assertTrue(availability.isAvailable("n1") && availability.isAvailable("n2"));
    }

    /**
     * A node moved to another address is a new, empty one: its loss and return are reported even when its new
     * connections came up before the move was told (the watch connects as soon as the store adds the node), so what
     * this Tomcat holds is stored there again. Before, nothing was reported then and nothing stored (NodeChangeIT,
     * now and then in CI).
     */
    @Test
    void aNodeRenewedAfterItsNewConnectionsCameUpReportsItsLossAndReturn() {
        clientUp.add("n1");
        watchUp.add("n1");
        availability.started("n1");
        availability.changed("n1"); // the new address's watch connected first
        availability.renewed("n1");
        assertEquals(List.of("n1 unavailable", "n1 available"), reports);
    }

    @Test
    void aNodeRenewedBeforeItsNewConnectionsCameUpReportsItsReturnWhenTheyDo() {
        clientUp.add("n1");
        watchUp.add("n1");
        availability.started("n1");
        watchUp.remove("n1"); // the new address's watch has not connected yet
        availability.renewed("n1");
        assertEquals(List.of("n1 unavailable"), reports);
        watchUp.add("n1");
        availability.changed("n1");
        assertEquals(List.of("n1 unavailable", "n1 available"), reports);
    }

    @Test
    void aNodeRenewedWhileTheStartWaitsIsStillUnknown() {
        clientUp.add("n1");
        watchUp.add("n1");
        availability.changed("n1"); // the old address connected while the start waits
        availability.renewed("n1");
        availability.started("n1");
        assertEquals(List.of(), reports);
    }

    /** A timeout at the old address says nothing of the new one: the renewed node is not kept suspect. */
    @Test
    void aNodeRenewedIsNoLongerSuspect() {
        clientUp.add("n1");
        watchUp.add("n1");
        availability.started("n1");
        availability.timedOut("n1");
        assertFalse(availability.isAvailable("n1"));
        availability.renewed("n1");
        assertTrue(availability.isAvailable("n1"), "without waiting for a probe of the old address's timeout");
        assertEquals(List.of("n1 unavailable", "n1 available"), reports);
    }

    @Test
    void aNodeDownAtStartIsReportedOnceThenItsReturn() {
        clientUp.add("n1");
        availability.changed("n1");
        availability.changed("n1"); // reconnect attempts while the start waits
        availability.started("n1");
        assertEquals(List.of("n1 unavailable"), reports);
        availability.changed("n1");
        availability.started("n1");
        assertEquals(List.of("n1 unavailable"), reports, "once");

        watchUp.add("n1");
        availability.changed("n1");
        assertEquals(List.of("n1 unavailable", "n1 available"), reports);
    }

    @Test
    void aNodeThatCameUpDuringTheStartReportsItsLaterLossAndReturnOnce() {
        clientUp.add("n1");
        watchUp.add("n1");
        availability.changed("n1");
        availability.started("n1");

        watchUp.remove("n1"); // memcached killed: the watch notices first, then the client
        availability.changed("n1");
        clientUp.remove("n1");
        availability.changed("n1");
        assertEquals(List.of("n1 unavailable"), reports);

        clientUp.add("n1");
        availability.changed("n1");
        watchUp.add("n1");
        availability.changed("n1");
        availability.changed("n1");
        assertEquals(List.of("n1 unavailable", "n1 available"), reports);
    }

    @Test
    void aTimedOutNodeIsSkippedUntilAProbeAnswers() {
        clientUp.add("n1");
        watchUp.add("n1");
        availability.started("n1");

        availability.timedOut("n1");
        availability.timedOut("n1");
        assertFalse(availability.isAvailable("n1"));
        assertTrue(availability.hasSuspects());
        availability.probeSuspects();
        assertEquals(List.of("n1 unavailable"), reports, "no answer yet");

        answers.add("n1");
        availability.probeSuspects();
        assertTrue(availability.isAvailable("n1"));
        assertFalse(availability.hasSuspects());
        assertEquals(List.of("n1 unavailable", "n1 available"), reports);
    }

    @Test
    void aNodeNotYetStartedIsAnsweredFromItsConnections() {
        assertFalse(availability.isAvailable("n1"), "no connection yet");
        clientUp.add("n1");
        watchUp.add("n1");
        assertTrue(availability.isAvailable("n1"), "usable before the start has finished waiting");
        assertEquals(List.of(), reports);
    }
}
