package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MemcachedNode;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.net.HostsFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code memcachedNodes="dns:mc.test:<port>"}: the nodes are the addresses of a name, as a Kubernetes headless service
 * lists its pods, here from the JVM's hosts-file resolver the test writes ({@link HostsFile}; this class runs in the
 * failsafe execution {@code dns-integration-tests}, without DNS caching), one real memcached on each of 127.0.0.2,
 * .3 and .4 (one port). Two Tomcats under load: an address added takes new sessions, an address removed (then its
 * memcached killed) fails no request and loses no session; node ids stay the same across re-resolutions.
 */
@Tag("dns")
class DiscoveryDnsIT {
    private static final String NAME = "mc.test";
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(3)
            .onLoopbackAddresses("127.0.0.2", "127.0.0.3", "127.0.0.4");
    private final List<EmbeddedTomcat> tomcats = new ArrayList<>();

    @AfterEach
    void stop() {
        tomcats.forEach(EmbeddedTomcat::close);
        HostsFile.set(Map.of());
    }

    private static void resolveTo(String... addresses) {
        HostsFile.set(Map.of(NAME, List.of(addresses), "localhost", List.of("127.0.0.1")));
    }

    private EmbeddedTomcat tomcat(String route, String sticky) {
        EmbeddedTomcat t = EmbeddedTomcat.on(route)
                .with("memcachedNodes", "dns:" + NAME + ":" + MEMCACHED.server(0).port())
                .with("discoveryInterval", "1").with("sticky", sticky).start();
        tomcats.add(t);
        return t;
    }

    private static String idOf(EmbeddedTomcat tc, String address) {
        for (MemcachedNode n : tc.manager().engine().nodes()) {
            if (n.host().equals(address)) {
                return n.id();
            }
        }
        throw new AssertionError("no node at " + address + ": " + tc.manager().engine().nodes());
    }

    private static void await(String what, long maxMillis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + maxMillis * 1_000_000;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within " + maxMillis + " ms: " + what);
            Thread.sleep(20);
        }
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"false", "true"})
    void addressesAddedAndRemovedUnderLoadLoseNothing(String sticky) throws Exception {
        resolveTo("127.0.0.2", "127.0.0.3");
        EmbeddedTomcat tc1 = tomcat("tc1", sticky);
        EmbeddedTomcat tc2 = tomcat("tc2", sticky);
        EmbeddedTomcat[] both = {tc1, tc2};
        boolean nonSticky = sticky.equals("false");
        String first = idOf(tc1, "127.0.0.2");
        UserLoad load = new UserLoad(6, n -> nonSticky ? both[n % 2] : tc1);
        try {
            load.awaitRequests(60);
            long changedAt = System.nanoTime();
            resolveTo("127.0.0.4", "127.0.0.3", "127.0.0.2"); // one more, in another order
            await("both Tomcats know 127.0.0.4", 5000, () -> tc1.manager().engine().nodes().size() == 3
                    && tc2.manager().engine().nodes().size() == 3);
            assertEquals(first, idOf(tc1, "127.0.0.2"), "the same address keeps its id");
            String added = idOf(tc1, "127.0.0.4");
            assertEquals(added, idOf(tc2, "127.0.0.4"));
            await("a new session on 127.0.0.4", 10_000, () -> {
                Browser b = new Browser();
                b.get(tc1.url("/counter"));
                return MsmIT.nodeOf(b.sessionId()).equals(added);
            });
            long tookMillis = (System.nanoTime() - changedAt) / 1_000_000;
            int afterAdd = load.requests.get();

            resolveTo("127.0.0.3", "127.0.0.4");
            await("both Tomcats dropped 127.0.0.2", 5000, () -> tc1.manager().engine().nodes().size() == 2
                    && tc2.manager().engine().nodes().size() == 2);
            await("no user left on it", 10_000, () -> load.sessionIds().stream()
                    .noneMatch(id -> MsmIT.nodeOf(id).equals(first)));
            MEMCACHED.server(0).kill();
            load.awaitRequests(100);
            load.stop();
            assertEquals(List.of(), load.failures);
            System.out.println("DiscoveryDnsIT sticky=" + sticky + ": " + afterAdd + " requests until the added"
                    + " address took a session " + tookMillis + " ms after the name resolved to it, "
                    + (load.requests.get() - afterAdd) + " while one was removed and killed; 0 failed");
        } finally {
            load.stop();
        }
    }
}
