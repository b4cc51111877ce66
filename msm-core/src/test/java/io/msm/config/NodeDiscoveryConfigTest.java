package io.msm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.testing.TestTranscoderFactory;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code memcachedNodes="discover:..."} and {@code "dns:..."}, and {@code discoveryInterval}. */
class NodeDiscoveryConfigTest {

    private static MsmConfig.Builder with(String nodes) {
        return MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, nodes)
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName());
    }

    private static MsmConfig build(MsmConfig.Builder b) {
        return b.build(NodeDiscoveryConfigTest.class.getClassLoader());
    }

    private static String problems(MsmConfig.Builder b) {
        return assertThrows(InvalidConfigurationException.class, () -> build(b)).getMessage();
    }

    @Test
    void aConfigurationEndpointOrANameIsASourceOfNodes() {
        MsmConfig c = build(with("discover:mycluster.abc123.cfg.use1.cache.amazonaws.com:11211"));
        NodeDiscovery d = c.discovery().orElseThrow();
        assertEquals(NodeDiscovery.Kind.CONFIG_ENDPOINT, d.kind());
        assertEquals("mycluster.abc123.cfg.use1.cache.amazonaws.com", d.host());
        assertEquals(11211, d.port());
        assertEquals(30, d.intervalSeconds(), "the default");
        assertEquals(List.of(), c.nodes(), "the nodes come from the source");
        assertTrue(c.nodeIdsInSessionIds());
        assertTrue(c.toString().contains("discover:mycluster.abc123.cfg.use1.cache.amazonaws.com:11211"), c.toString());

        NodeDiscovery dns = build(with(" dns:[::1]:11212 ").set(MsmConfig.DISCOVERY_INTERVAL, "5")).discovery()
                .orElseThrow();
        assertEquals(NodeDiscovery.Kind.DNS, dns.kind());
        assertEquals("::1", dns.host());
        assertEquals(5, dns.intervalSeconds());
        assertEquals("dns:[::1]:11212", dns.toString());

        assertTrue(build(with("n1:127.0.0.1:11211")).discovery().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"discover:host:11211,n1:127.0.0.1:11211", "n1:127.0.0.1:11211 dns:host:11211",
        "discover:host", "dns:host:port", "discover::11211", "discover:a:b:11211", "dns:host:70000"})
    void aSourceStandsAloneAsHostAndPort(String nodes) {
        String p = problems(with(nodes));
        assertTrue(p.contains(MsmConfig.MEMCACHED_NODES + "=\"" + nodes + "\""), p);
    }

    @Test
    void failoverNodesBinaryAndAnIntervalWithoutSourceAreRefusedInOneMessage() {
        String p = problems(with("discover:cfg.example.com:11211").set(MsmConfig.FAILOVER_NODES, "n2")
                .set(MsmConfig.MEMCACHED_PROTOCOL, "binary").set(MsmConfig.DISCOVERY_INTERVAL, "0"));
        assertTrue(p.contains("failoverNodes=\"n2\": discovered nodes are all primary nodes"), p);
        assertTrue(p.contains("memcachedProtocol=\"binary\""), p);
        assertTrue(p.contains("needs the text protocol"), p);
        assertTrue(p.contains("discoveryInterval=\"0\": expected a positive whole number of seconds"), p);

        String alone = problems(with("n1:127.0.0.1:11211").set(MsmConfig.DISCOVERY_INTERVAL, "10"));
        assertTrue(alone.contains("discoveryInterval=\"10\": only used with memcachedNodes=\"discover:"), alone);
    }
}
