package io.msm.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.config.NodeDiscovery;
import io.msm.test.log.LogLines;
import io.msm.test.net.HostsFile;
import io.msm.testing.TestTranscoderFactory;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code dns:} at the poller, against the JVM's hosts-file resolver (execution {@code dns-integration-tests}, no DNS
 * cache): each address is a node, ids do not depend on the records' order, an IPv6 address is a node too, a name that
 * stops resolving keeps the list and is logged once, and a listener that throws does not stop the polling.
 */
@Tag("dns")
class DiscoveryPollerDnsIT {
    private final List<List<MemcachedNode>> changes = new CopyOnWriteArrayList<>();
    private LogLines log;
    private List<String> warnings;
    private DiscoveryPoller poller;

    @AfterEach
    void stop() {
        if (poller != null) {
            poller.close();
        }
        if (log != null) {
            log.close();
        }
        HostsFile.set(Map.of());
    }

    private DiscoveryPoller poller(java.util.function.Consumer<List<MemcachedNode>> onChange) {
        log = LogLines.warnings("io.msm.discovery");
        warnings = log.lines();
        NodeDiscovery source = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, "dns:mc.test:11211")
                .set(MsmConfig.DISCOVERY_INTERVAL, "1")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(getClass().getClassLoader()).discovery().orElseThrow();
        poller = new DiscoveryPoller(source, Optional.empty(), 1000, "dns-poller", onChange);
        return poller;
    }

    private static List<String> hosts(List<MemcachedNode> nodes) {
        return nodes.stream().map(MemcachedNode::host).sorted().collect(Collectors.toList());
    }

    @Test
    void theAddressesAreTheNodesWhateverTheirOrder() throws Exception {
        HostsFile.set(Map.of("mc.test", List.of("127.0.0.3", "127.0.0.2", "::1")));
        List<MemcachedNode> first = poller(changes::add).first();
        assertEquals(List.of("0:0:0:0:0:0:0:1", "127.0.0.2", "127.0.0.3"), hosts(first)); // as the JDK writes IPv6
        assertTrue(first.stream().allMatch(n -> n.port() == 11211 && NodeIds.isShaped(n.id())));
        poller.start();
        HostsFile.set(Map.of("mc.test", List.of("::1", "127.0.0.2", "127.0.0.3")));
        Thread.sleep(2200); // two questions: what is measured is that the same addresses in another order change nothing
        assertEquals(List.of(), changes);
        HostsFile.set(Map.of("mc.test", List.of("127.0.0.2", "127.0.0.4")));
        await("the change", () -> changes.size() == 1);
        assertEquals(List.of("127.0.0.2", "127.0.0.4"), hosts(changes.get(0)));
        MemcachedNode two = first.stream().filter(n -> n.host().equals("127.0.0.2")).findFirst().orElseThrow();
        assertTrue(changes.get(0).contains(two), "127.0.0.2 keeps its id");
    }

    @Test
    void aNameThatStopsResolvingKeepsTheListAndAListenerThatThrowsIsAskedAgain() throws Exception {
        HostsFile.set(Map.of("mc.test", List.of("127.0.0.2")));
        java.util.concurrent.atomic.AtomicBoolean thrown = new java.util.concurrent.atomic.AtomicBoolean();
        poller(nodes -> {
            changes.add(nodes);
            if (thrown.compareAndSet(false, true)) {
                throw new IllegalStateException("a listener's bug");
            }
        }).first();
        poller.start();
        HostsFile.set(Map.of());
        await("the failure logged", () -> !warnings.isEmpty());
        Thread.sleep(2200); // two more failed questions: logged once
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("does not resolve"), warnings.get(0));
        HostsFile.set(Map.of("mc.test", List.of("127.0.0.2", "127.0.0.3")));
        await("the new list, then again after the listener threw", () -> changes.size() >= 2);
        assertEquals(changes.get(0), changes.get(1), "the list a listener failed to take is handed over again");
        assertTrue(warnings.stream().anyMatch(w -> w.endsWith("answers again")), warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("taking the nodes")), warnings.toString());
        Thread.sleep(1500); // a question more: what is measured is that a list taken is not handed over again
        assertEquals(2, changes.size());

        HostsFile.set(Map.of());
        DiscoveryException e = assertThrows(DiscoveryException.class, () -> poller(changes::add).first());
        assertTrue(e.getMessage().contains("dns:mc.test:11211") && e.getMessage().contains("does not resolve"),
                e.getMessage());
    }
}
