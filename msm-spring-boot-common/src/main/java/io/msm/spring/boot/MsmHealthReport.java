package io.msm.spring.boot;

import io.msm.config.MemcachedNode;
import io.msm.engine.SessionEngine;
import io.msm.tomcat.MemcachedSessionManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What msm's health contributor reports, whatever Spring Boot line shows it (the starters turn it into a Health).
 *
 * <p>msm keeps serving when memcached is down (sessions live on in the Tomcat that has them and are stored again
 * when a node is back), and every instance shares the same memcached: a DOWN here would take every instance out of
 * the balancer at once, an outage far worse than the one it reports. So the status never is DOWN:
 * <ul>
 *   <li>{@code UP}: msm runs and at least one node is available (the details say which nodes are not: sessions of
 *       an unavailable node move to the others);</li>
 *   <li>{@code DEGRADED}: no node is available; sessions are not shared between instances until one is back. Spring
 *       Boot leaves a status it does not know out of the aggregate (the application stays UP, HTTP 200) unless
 *       {@code management.endpoint.health.status.order} lists it;</li>
 *   <li>{@code UNKNOWN}: msm is not running (before the web server started, or after it stopped).</li>
 * </ul>
 */
public final class MsmHealthReport {
    public static final String UP = "UP";
    public static final String DEGRADED = "DEGRADED";
    public static final String UNKNOWN = "UNKNOWN";

    private final String status;
    private final Map<String, Object> details;

    private MsmHealthReport(String status, Map<String, Object> details) {
        this.status = status;
        this.details = details;
    }

    /** The report of the managers (Spring Boot: one); with several, the details are per context path. */
    public static MsmHealthReport of(List<MemcachedSessionManager> managers) {
        if (managers.size() == 1) {
            return ofOne(managers.get(0));
        }
        String status = managers.isEmpty() ? UNKNOWN : UP;
        Map<String, Object> details = new LinkedHashMap<>();
        for (MemcachedSessionManager m : managers) {
            MsmHealthReport r = ofOne(m);
            details.put(String.valueOf(r.details.get("context")), r.details);
            status = worse(status, r.status);
        }
        return new MsmHealthReport(status, details);
    }

    private static String worse(String a, String b) {
        List<String> order = List.of(DEGRADED, UNKNOWN, UP);
        return order.indexOf(a) <= order.indexOf(b) ? a : b;
    }

    private static MsmHealthReport ofOne(MemcachedSessionManager m) {
        Map<String, Object> d = new LinkedHashMap<>();
        String path = m.getContext() == null ? "" : m.getContext().getPath();
        d.put("context", path == null || path.isEmpty() ? "/" : path);
        SessionEngine e = m.engine();
        if (e == null) {
            d.put("replicating", false);
            d.put("reason", "msm is not running");
            return new MsmHealthReport(UNKNOWN, d);
        }
        List<String> available = e.availableNodes();
        d.put("mode", e.config().sticky() ? "sticky" : "non-sticky");
        d.put("replicating", !available.isEmpty());
        Map<String, Object> nodes = new LinkedHashMap<>();
        for (MemcachedNode n : e.nodes()) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("address", n.host() + ":" + n.port());
            node.put("available", available.contains(n.id()));
            if (n.isFailover()) {
                node.put("failover", true);
            }
            nodes.put(n.id(), node);
        }
        d.put("nodes", nodes);
        d.put("availableNodes", available.size());
        d.put("unsavedSessions", m.getMsmUnsavedSessions());
        d.put("pendingDeletes", m.getMsmPendingDeletes());
        if (available.isEmpty()) {
            d.put("reason", "no memcached node is available: each instance serves the sessions it holds from memory"
                    + " and stores them again when a node is back");
            return new MsmHealthReport(DEGRADED, d);
        }
        return new MsmHealthReport(UP, d);
    }

    public String status() {
        return status;
    }

    public Map<String, Object> details() {
        return details;
    }
}
