package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedExtension;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.management.Attribute;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * memcachedNodes changed through JMX while msm runs, as an operator would with jconsole, on two Tomcats that users go
 * back and forth between: a node added takes new sessions; a node removed (its memcached still running, or killed
 * right after) loses no session: each moves at its next request. A value msm cannot take is refused and not kept.
 */
class NodeListJmxIT {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(3);
    private final List<EmbeddedTomcat> tomcats = new ArrayList<>();

    @AfterEach
    void stop() {
        tomcats.forEach(EmbeddedTomcat::close);
        tomcats.clear();
    }

    private EmbeddedTomcat tomcat(String route, String sticky) {
        EmbeddedTomcat t = EmbeddedTomcat.on(route).with("memcachedNodes", MEMCACHED.nodesAttribute("n1", "n2"))
                .with("sticky", sticky).start();
        tomcats.add(t);
        return t;
    }

    private static ObjectName manager(String route) throws Exception {
        Set<ObjectName> names = ManagementFactory.getPlatformMBeanServer()
                .queryNames(new ObjectName("engine-" + route + ":type=Manager,*"), null);
        assertEquals(1, names.size(), names.toString());
        return names.iterator().next();
    }

    private static void setNodes(String route, String nodes) throws Exception {
        ManagementFactory.getPlatformMBeanServer().setAttribute(manager(route), new Attribute("memcachedNodes", nodes));
    }

    /** One request of each user, alternating Tomcats; every count goes on from the last. */
    private static void round(List<Browser> users, List<Integer> counts, EmbeddedTomcat... tcs) throws Exception {
        for (int i = 0; i < users.size(); i++) {
            EmbeddedTomcat tc = tcs[(i + counts.get(i)) % tcs.length];
            int count = users.get(i).get(tc.url("/counter")).count();
            assertEquals(counts.get(i) + 1, count, "user " + i + " on " + tc.route());
            counts.set(i, count);
        }
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"false", "true"})
    void nodesAddedAndRemovedThroughJmxLoseNoSession(String sticky) throws Exception {
        boolean nonSticky = sticky.equals("false");
        EmbeddedTomcat tc1 = tomcat("tc1", sticky);
        EmbeddedTomcat tc2 = tomcat("tc2", sticky);
        EmbeddedTomcat[] serving = nonSticky ? new EmbeddedTomcat[] {tc1, tc2} : new EmbeddedTomcat[] {tc1};
        List<Browser> users = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            users.add(new Browser());
            counts.add(0);
        }
        round(users, counts, serving);

        String three = MEMCACHED.nodesAttribute("n1", "n2", "n3");
        setNodes("tc1", three);
        setNodes("tc2", three);
        assertEquals(three, ManagementFactory.getPlatformMBeanServer().getAttribute(manager("tc1"), "memcachedNodes"));
        round(users, counts, serving);
        Set<String> nodesOfNew = new HashSet<>();
        for (int i = 0; i < 9; i++) {
            Browser b = new Browser();
            b.get(tc1.url("/counter"));
            nodesOfNew.add(MsmIT.nodeOf(b.sessionId()));
        }
        // n3 takes new sessions 30 s after it was set (the time to set it on every Tomcat; NodeChangeIT shows it
        // taking them): not yet
        assertEquals(Set.of("n1", "n2"), nodesOfNew, "no session on n3 before every Tomcat may know it");

        // n1 leaves: the list without it first, then its memcached goes (as ElastiCache removes a node)
        String withoutN1 = MEMCACHED.nodesAttribute("n1", "n2", "n3").replaceFirst("n1:[^,]*,", "");
        setNodes("tc1", withoutN1);
        setNodes("tc2", withoutN1);
        round(users, counts, serving);
        for (Browser u : users) {
            assertFalse(MsmIT.nodeOf(u.sessionId()).equals("n1"), "moved off n1 while it still runs: "
                    + u.sessionId());
        }
        MEMCACHED.server(0).kill();
        round(users, counts, serving);
        round(users, counts, serving);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"n1:127.0.0.1:0", "127.0.0.1:11211", "dup", "discover:127.0.0.1:11211"})
    void aValueTheRunningMsmCannotTakeIsRefusedAndNotKept(String value) throws Exception {
        tomcat("tc1", "false");
        String before = MEMCACHED.nodesAttribute("n1", "n2");
        String bad = value.equals("dup") ? before + "," + MEMCACHED.nodesAttribute("n1") : value;
        MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
        Exception e = assertThrows(Exception.class, () -> setNodes("tc1", bad));
        Throwable cause = e;
        while (cause.getCause() != null && !(cause instanceof IllegalArgumentException)) {
            cause = cause.getCause();
        }
        assertTrue(cause.getMessage().contains("memcachedNodes"), cause.getMessage());
        assertEquals(before, mbeans.getAttribute(manager("tc1"), "memcachedNodes"), "not kept");
    }
}
