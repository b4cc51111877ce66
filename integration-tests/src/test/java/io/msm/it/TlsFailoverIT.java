package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import io.msm.test.memcached.MemcachedTls;
import io.msm.test.tls.TestCertificates;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The failover story over TLS (memcached started with {@code -Z}, msm with {@code tls="true"} and the test CA as
 * trust store), in both modes: a Tomcat killed with SIGKILL, then the session's memcached node killed; and a memcached
 * whose certificate names another host is refused (requests are served from memory, nothing is stored there).
 */
class TlsFailoverIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2).withTls(MemcachedTls.serverCertificate());
    @RegisterExtension
    static final MemcachedExtension WRONG_HOST = MemcachedExtension.servers(1).withTls(MemcachedTls.wrongHost());

    private final List<AutoCloseable> tomcats = new ArrayList<>();

    @AfterEach
    void stopTomcats() throws Exception {
        for (AutoCloseable t : tomcats) {
            t.close();
        }
    }

    private static List<String> tls(String nodes, String... more) {
        TestCertificates c = TestCertificates.get();
        List<String> a = new ArrayList<>(List.of("memcachedNodes", nodes, "tls", "true",
                "tlsTrustStore", c.trustStore().toString(), "tlsTrustStorePassword", c.trustStorePassword()));
        a.addAll(List.of(more));
        return a;
    }

    private EmbeddedTomcat embedded(String route, List<String> attributes) {
        EmbeddedTomcat.Builder b = EmbeddedTomcat.on(route);
        for (int i = 0; i < attributes.size(); i += 2) {
            b.with(attributes.get(i), attributes.get(i + 1));
        }
        EmbeddedTomcat t = b.start();
        tomcats.add(t);
        return t;
    }

    private ForkedTomcat forked(String route, List<String> attributes) {
        ForkedTomcat t = ForkedTomcat.start(route, attributes.toArray(new String[0]));
        tomcats.add(t);
        return t;
    }

    private static MemcachedServer server(String nodeId) {
        return MEMCACHED.server(nodeId.equals("n1") ? 0 : 1);
    }

    @Test
    void stickyOverTls() {
        List<String> attributes = tls(MEMCACHED.nodesAttribute("n1", "n2"), "sessionBackupAsync", "false");
        EmbeddedTomcat tc2 = embedded("tc2", attributes);
        Browser b = new Browser();
        String id;
        try (ForkedTomcat tc1 = forked("tc1", attributes)) {
            for (int i = 1; i <= 3; i++) {
                assertEquals(i, b.get(tc1.url("/counter")).count());
            }
            id = b.sessionId();
            assertNotNull(server(MsmIT.nodeOf(id)).get(id), "stored over TLS (read back on the plain port)");
            tc1.kill();
        }
        Browser.Page p = b.get(tc2.url("/counter"));
        assertEquals(4, p.count(), "the counter continues on tc2 after tc1's SIGKILL");
        assertEquals("tc2", MsmIT.routeOf(b.sessionId()));
        assertEquals(1, tc2.manager().getMsmTomcatFailovers());

        String node = MsmIT.nodeOf(b.sessionId());
        String other = node.equals("n1") ? "n2" : "n1";
        server(node).kill();
        MsmIT.await("tc2 to notice that " + node + " died", 2000,
                () -> !tc2.manager().getMsmAvailableNodes().contains(node));
        p = b.get(tc2.url("/counter"));
        assertEquals(5, p.count(), "the counter continues after its memcached node died");
        assertNotNull(p.setCookie("JSESSIONID"), "moved: a new cookie");
        assertEquals(other, MsmIT.nodeOf(b.sessionId()));
        assertNotNull(server(other).get(b.sessionId()), "stored on the live node over TLS");
        assertEquals(1, tc2.manager().getMsmNodeFailovers());
    }

    @Test
    void nonStickyOverTls() {
        List<String> attributes = tls(MEMCACHED.nodesAttribute("n1", "n2"), "sticky", "false");
        EmbeddedTomcat tc2 = embedded("tc2", attributes);
        Browser b = new Browser();
        try (ForkedTomcat tc1 = forked("tc1", attributes)) {
            for (int i = 1; i <= 10; i++) {
                assertEquals(i, b.get(i % 2 == 1 ? tc1.url("/counter") : tc2.url("/counter")).count());
            }
            tc1.kill();
        }
        for (int i = 11; i <= 14; i++) {
            assertEquals(i, b.get(tc2.url("/counter")).count(), "tc2 after tc1's SIGKILL");
        }
        EmbeddedTomcat tc3 = embedded("tc3", attributes);
        String id = b.sessionId();
        String node = MsmIT.nodeOf(id);
        String other = node.equals("n1") ? "n2" : "n1";
        MsmIT.awaitBackups(tc2);
        assertNotNull(server(other).get("bak:" + id), "the secondary copy is on the other node");
        server(node).kill();
        MsmIT.await("both Tomcats to notice", 2000, () -> !tc2.manager().getMsmAvailableNodes().contains(node)
                && !tc3.manager().getMsmAvailableNodes().contains(node));
        Browser.Page p = b.get(tc3.url("/counter"));
        assertEquals(15, p.count(), "continued from the secondary copy");
        assertNotNull(p.setCookie("JSESSIONID"), "moved to the live node: new cookie");
        assertEquals(other, MsmIT.nodeOf(b.sessionId()));
        for (int i = 16; i <= 20; i++) {
            assertEquals(i, b.get((i % 2 == 1 ? tc3 : tc2).url("/counter")).count());
        }
    }

    /** The wrong host's certificate is refused: requests are served (from memory), memcached gets nothing. */
    @Test
    void aCertificateForAnotherHostIsRefused() {
        EmbeddedTomcat tc1 = embedded("tc1", tls(WRONG_HOST.nodesAttribute("n1")));
        Browser b = new Browser();
        for (int i = 1; i <= 3; i++) {
            Browser.Page p = b.get(tc1.url("/counter"));
            assertEquals(200, p.status);
            assertEquals(i, p.count());
        }
        assertEquals("", tc1.manager().getMsmAvailableNodes(), "the node is never available");
        MsmIT.awaitBackups(tc1);
        assertTrue(WRONG_HOST.server(0).keys().isEmpty(), "nothing reached memcached: "
                + WRONG_HOST.server(0).keys());
    }
}
