package io.msm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LiveNodesTest {

    /** Nodes {@code ids} on ports 11211, 11212, ... of 127.0.0.1 (in the order given). */
    static List<MemcachedNode> nodes(String... ids) {
        StringBuilder attribute = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            attribute.append(i > 0 ? "," : "").append(ids[i]).append(":127.0.0.1:").append(portOf(ids[i]));
        }
        return MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, attribute.toString())
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, io.msm.testing.TestTranscoderFactory.class.getName())
                .build(LiveNodesTest.class.getClassLoader()).nodes();
    }

    /** A port per id, the same in every list. */
    private static int portOf(String id) {
        return 20000 + Math.floorMod(id.hashCode(), 10000);
    }

    private static List<String> ids(List<MemcachedNode> nodes) {
        return nodes.stream().map(MemcachedNode::id).collect(Collectors.toList());
    }

    @Test
    void theRingGoesOnAfterTheNodeAndForAnUnknownOneFromWhereItWouldStandInIdOrder() {
        NodeSet set = NodeSet.of(nodes("b", "d", "f"));
        assertEquals(List.of("d", "f"), ids(set.successors("b")));
        assertEquals(List.of("b", "d"), ids(set.successors("f")));
        assertEquals(List.of("d", "f", "b"), ids(set.successors("c")), "c stood between b and d");
        assertEquals(List.of("b", "d", "f"), ids(set.successors("g")), "after the last id: around to the first");
        assertEquals(List.of("b", "d", "f"), ids(set.successors("a")));
    }

    @Test
    void onlyTheSessionsOfTheNodeBeforeOneThatJoinsOrLeavesGetAnotherSecondaryNode() {
        NodeSet before = NodeSet.of(nodes("b", "d", "f", "h"));
        NodeSet after = NodeSet.of(nodes("b", "d", "h", "k")); // f left, k joined
        assertEquals("d", before.successors("b").get(0).id());
        assertEquals("d", after.successors("b").get(0).id(), "b: untouched");
        assertEquals("h", after.successors("d").get(0).id(), "d: f, before it, left");
        assertEquals("k", after.successors("h").get(0).id(), "h: k joined right after it");
        // f left: its sessions are looked for on h, where its copies went
        assertEquals("h", before.successors("f").get(0).id());
        assertEquals("h", after.successors("f").get(0).id());
    }

    @Test
    void replaceTellsWhatChangedAndRemembersRemovedIdsAsKnown() {
        LiveNodes live = new LiveNodes(NodeSet.of(nodes("n1", "n2")));
        LiveNodes.Change c = live.replace(nodes("n2", "n3"), 0);
        assertEquals(List.of("n3"), ids(c.added));
        assertEquals(List.of("n1"), ids(c.removed));
        assertEquals(List.of("n2", "n3"), ids(live.current().nodes()));
        assertTrue(live.isKnown("n1"), "its sessions are still sessions of this configuration");
        assertTrue(live.isKnown("n3"));
        assertFalse(live.isKnown("n9"));

        NodeSet now = live.current();
        LiveNodes.Change none = live.replace(nodes("n2", "n3"), 0);
        assertTrue(none.isEmpty());
        assertSame(now, live.current());

        live.replace(nodes("n1", "n2", "n3"), 0);
        assertTrue(live.current().contains("n1"), "back");
    }

    @Test
    void removedIdsRememberedAreBounded() {
        List<String> first = new ArrayList<>();
        for (int i = 0; i < LiveNodes.REMEMBERED + 10; i++) {
            first.add("r" + i);
        }
        LiveNodes live = new LiveNodes(NodeSet.of(nodes("keep")));
        for (String id : first) {
            live.replace(nodes("keep", id), 0);
        }
        live.replace(nodes("keep"), 0);
        assertFalse(live.isKnown("r0"), "the oldest removed ids are forgotten");
        assertTrue(live.isKnown(first.get(first.size() - 1)));
    }

    @Test
    void aNodeThatJoinsTakesSessionsOnlyAfterTheJoinDelayUnlessNoOtherIsAvailable() {
        AtomicLong nanos = new AtomicLong(1_000);
        LiveNodes live = new LiveNodes(NodeSet.of(nodes("n1", "n2")), nanos::get);
        Set<String> up = new java.util.HashSet<>(Set.of("n1", "n2", "n3"));
        NodeSelector selector = new NodeSelector(live, up::contains);
        live.replace(nodes("n1", "n2", "n3"), 5_000);
        for (int i = 0; i < 20; i++) {
            assertFalse(selector.forNewSession().equals("n3"), "n3 is still joining");
        }
        assertEquals(null, selector.relocation("n1"));
        up.remove("n1");
        for (int i = 0; i < 20; i++) {
            assertEquals("n2", selector.relocation("n1"), "moved to a node every Tomcat knows");
        }
        up.remove("n2");
        assertEquals("n3", selector.forNewSession(), "no other node: the joining one");

        up.add("n1");
        up.add("n2");
        nanos.addAndGet(5_000_000_000L);
        Set<String> chosen = new java.util.HashSet<>();
        for (int i = 0; i < 9; i++) {
            chosen.add(selector.forNewSession());
        }
        assertEquals(Set.of("n1", "n2", "n3"), chosen);
    }

    @Test
    void aListWithoutPrimaryOrWithAnIdTwiceIsRefused() {
        LiveNodes live = new LiveNodes(NodeSet.of(nodes("n1")));
        assertThrows(IllegalArgumentException.class, () -> live.replace(List.of(), 0));
        List<MemcachedNode> twice = new ArrayList<>(nodes("n1"));
        twice.addAll(nodes("n1"));
        assertThrows(IllegalArgumentException.class, () -> live.replace(twice, 0));
        assertEquals(List.of("n1"), ids(live.current().nodes()), "unchanged");
    }
}
