package io.msm.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class NodeIdsTest {
    private static final Pattern ID = Pattern.compile("[0-9A-Za-z]{8}");
    private static final DiscoveredNode AWS1 =
            new DiscoveredNode("myCluster.pc4ldq.0001.use1.cache.amazonaws.com", "10.82.235.120", 11211);
    private static final DiscoveredNode AWS2 =
            new DiscoveredNode("myCluster.pc4ldq.0002.use1.cache.amazonaws.com", "10.80.249.27", 11211);

    private static DiscoveredNode node(String host, int port) {
        return new DiscoveredNode(host, "", port);
    }

    /** The id of {@code n} when it is alone or among {@code others}. */
    private static String idOf(DiscoveredNode n, List<DiscoveredNode> nodes) {
        for (Map.Entry<String, DiscoveredNode> e : NodeIds.assign(nodes).entrySet()) {
            if (e.getValue().equals(n)) {
                return e.getKey();
            }
        }
        throw new AssertionError(n + " has no id");
    }

    @Test
    void idsArePinned() {
        // changing the function moves every session of a discovered cluster: these values must never change
        Map<String, DiscoveredNode> ids = NodeIds.assign(List.of(AWS1, AWS2));
        assertEquals(List.of("GPZpDFeO", "ig2FAm0J"), new ArrayList<>(ids.keySet()));
        assertEquals(List.of(AWS1, AWS2), new ArrayList<>(ids.values()));
    }

    @Test
    void anIdDependsOnHostAndPortOnly() {
        String id = idOf(AWS1, List.of(AWS1, AWS2));
        assertTrue(ID.matcher(id).matches(), id);
        DiscoveredNode otherIp = new DiscoveredNode(AWS1.host(), "10.9.9.9", 11211);
        DiscoveredNode noIp = new DiscoveredNode(AWS1.host(), "", 11211);
        DiscoveredNode upperCase = new DiscoveredNode(AWS1.host().toUpperCase(java.util.Locale.ROOT), "", 11211);
        assertEquals(id, idOf(otherIp, List.of(otherIp)));
        assertEquals(id, idOf(noIp, List.of(AWS2, noIp, node("c.example", 1))));
        assertEquals(id, idOf(upperCase, List.of(upperCase)));
        DiscoveredNode otherPort = new DiscoveredNode(AWS1.host(), "10.82.235.120", 11212);
        assertNotEquals(id, idOf(otherPort, List.of(otherPort)));
    }

    @Test
    void aThousandNodesGetDistinctIdsInTheirOrder() {
        List<DiscoveredNode> nodes = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            nodes.add(node("localhost", 10000 + i));
        }
        Map<String, DiscoveredNode> ids = NodeIds.assign(nodes);
        assertEquals(1000, ids.size());
        assertEquals(nodes, new ArrayList<>(ids.values()));
        ids.keySet().forEach(id -> assertTrue(ID.matcher(id).matches(), id));
    }

    /** Two keys whose first candidates of {@code length} characters are the same, found by a bounded search. */
    private static List<DiscoveredNode> collidingPair(int length) {
        Map<String, DiscoveredNode> seen = new HashMap<>();
        for (int i = 0; i < 100_000; i++) {
            DiscoveredNode n = node("n" + i + ".example", 11211);
            DiscoveredNode before = seen.putIfAbsent(NodeIds.candidate(n.key(), 0, length), n);
            if (before != null) {
                return List.of(before, n);
            }
        }
        throw new AssertionError("no collision of " + length + "-character ids among 100,000 keys");
    }

    @Test
    void aCollisionIsResolvedInKeyOrder() {
        List<DiscoveredNode> pair = collidingPair(3);
        DiscoveredNode first = pair.get(0).key().compareTo(pair.get(1).key()) < 0 ? pair.get(0) : pair.get(1);
        DiscoveredNode second = first == pair.get(0) ? pair.get(1) : pair.get(0);
        String shared = NodeIds.candidate(first.key(), 0, 3);
        assertEquals(shared, NodeIds.candidate(second.key(), 0, 3));

        Map<String, DiscoveredNode> ids = NodeIds.assign(List.of(second, first), 3);
        assertEquals(first, ids.get(shared), "the smaller key keeps its first candidate");
        String next = NodeIds.candidate(second.key(), 1, 3);
        assertEquals(second, ids.get(next), "the larger key takes its next one");
        assertEquals(ids, NodeIds.assign(List.of(first, second), 3), "the same ids whatever the order");
        assertEquals(List.of(second, first), new ArrayList<>(ids.values()), "in the answer's order");
        // the documented cost: alone, the second node has its first candidate again
        assertEquals(second, NodeIds.assign(List.of(second), 3).get(shared));
    }

    @Test
    void manyCollisionsStayDistinctAndDeterministic() {
        List<DiscoveredNode> nodes = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            nodes.add(node("node" + i + ".example", 11211));
        }
        Map<String, DiscoveredNode> ids = NodeIds.assign(nodes, 1); // 40 nodes, 62 one-character ids
        assertEquals(40, ids.size());
        List<DiscoveredNode> shuffled = new ArrayList<>(nodes);
        Collections.shuffle(shuffled, new Random(24));
        Map<String, DiscoveredNode> again = NodeIds.assign(shuffled, 1);
        assertEquals(new HashMap<>(ids), new HashMap<>(again));
    }

    @Test
    void moreNodesThanIdsFailsClearly() {
        List<DiscoveredNode> nodes = new ArrayList<>();
        for (int i = 0; i < 63; i++) {
            nodes.add(node("node" + i + ".example", 11211));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> NodeIds.assign(nodes, 1));
        assertTrue(e.getMessage().startsWith("no free id of 1 characters for node "), e.getMessage());
    }

    @Test
    void aNodeTwiceIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NodeIds.assign(List.of(node("a.example", 1), node("A.example", 1))));
        assertEquals("node a.example:1 is listed twice", e.getMessage());
    }
}
