package io.msm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.testing.TestTranscoderFactory;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NodeSelectorTest {
    private final Set<String> up = new HashSet<>(Set.of("n1", "n2", "n3"));

    private NodeSelector selector(String failover) {
        MsmConfig.Builder b = MsmConfig.builder()
                .set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:1,n2:127.0.0.1:2,n3:127.0.0.1:3")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName());
        if (failover != null) {
            b.set(MsmConfig.FAILOVER_NODES, failover);
        }
        List<MemcachedNode> nodes = b.build(getClass().getClassLoader()).nodes();
        return new NodeSelector(nodes, up::contains);
    }

    @Test
    void newSessionsAreSpreadEvenlyOverPrimaries() {
        NodeSelector s = selector(null);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            seen.add(s.forNewSession());
        }
        assertEquals(Set.of("n1", "n2", "n3"), seen);
    }

    @Test
    void failoverNodesOnlyWhenEveryPrimaryIsDown() {
        NodeSelector s = selector("n3");
        for (int i = 0; i < 10; i++) {
            assertTrue(Set.of("n1", "n2").contains(s.forNewSession()));
        }
        up.remove("n1");
        for (int i = 0; i < 10; i++) {
            assertEquals("n2", s.forNewSession());
        }
        up.remove("n2");
        assertEquals("n3", s.forNewSession());
        up.remove("n3");
        assertTrue(Set.of("n1", "n2").contains(s.forNewSession()), "nothing up: a primary anyway");
    }

    @Test
    void relocationLeavesHealthyPrimariesAlone() {
        NodeSelector s = selector("n3");
        assertNull(s.relocation("n1"));
        up.remove("n1");
        assertEquals("n2", s.relocation("n1"));
        up.remove("n2");
        assertEquals("n3", s.relocation("n1"));
        assertNull(s.relocation("n3"), "on the failover node while every primary is down");
        up.add("n2");
        assertEquals("n2", s.relocation("n3"), "back to a primary once one returns");
        up.clear();
        assertNull(s.relocation("n1"), "nowhere better to go");
    }
}
