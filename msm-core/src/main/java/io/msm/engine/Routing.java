package io.msm.engine;

import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics.Counter;

/**
 * Session ids and where they lead: a new session's id names an available node and (sticky) this Tomcat's jvmRoute;
 * a session whose node became unavailable, or that reached this Tomcat under another one's route, is given the id
 * it should have now, and the move is counted.
 */
final class Routing {

    private final EngineBase base;
    private final SessionMode mode;
    private final SessionEnds ends;

    Routing(EngineBase base, SessionMode mode, SessionEnds ends) {
        this.base = base;
        this.mode = mode;
        this.ends = ends;
    }

    /** The id of a new session: {@code random} plus an available node and this Tomcat's jvmRoute. */
    String newSessionId(String random) {
        return base.ids.format(random, base.selector.forNewSession(), mode.route());
    }

    /** {@code true} if {@code id} is a well-formed session id of this configuration (routes to a known node). */
    boolean isValidId(String id) {
        SessionId p = base.ids.parse(id);
        return p != null && base.isKnownNode(p.nodeId());
    }

    /**
     * Where a session held by this Tomcat should live: with this Tomcat's jvmRoute and on an available node (a
     * primary one if any is available).
     *
     * @return the new id, or {@code null} if {@code id} is right as it is (or not an msm id)
     */
    String relocate(String id) {
        return relocate(base.ids.parse(id));
    }

    /**
     * {@link #relocate(String)} for a resident session, called at the start and end of each of its requests: its id
     * is parsed once, not on every call.
     *
     * @param id the session's id as the caller read it
     */
    String relocate(ManagedSession session, String id) {
        SessionState st = session.state();
        SessionId p = st.parsedId;
        if (p == null || !p.id().equals(id)) {
            p = base.ids.parse(id);
            st.parsedId = p;
        }
        return relocate(p);
    }

    private String relocate(SessionId p) {
        if (p == null) {
            return null;
        }
        String node = base.config.nodeIdsInSessionIds() ? base.selector.relocation(p.nodeId()) : null;
        boolean routeChanged = !p.hasJvmRoute(mode.route());
        if (node == null && !routeChanged) {
            return null;
        }
        return base.ids.format(p.random(), node != null ? node : p.nodeId(), mode.route());
    }

    /** The adapter moved a session from {@code oldId} to {@code newId} (see {@link #relocate(String)}): counted. */
    void relocated(String oldId, String newId) {
        ends.revive(newId); // a session taken back under an id this Tomcat had dropped
        Takeovers takeovers = mode.takeovers();
        if (takeovers != null) {
            takeovers.awaitDeferredDelete(newId);
        }
        SessionId from = base.ids.parse(oldId);
        SessionId to = base.ids.parse(newId);
        if (from == null || to == null) {
            return;
        }
        if (!from.nodeId().equals(to.nodeId())) {
            base.stats.count(Counter.NODE_FAILOVERS);
        }
        if (!equalsNullable(from.jvmRoute(), to.jvmRoute())) {
            base.stats.count(Counter.TOMCAT_FAILOVERS);
        }
    }

    private static boolean equalsNullable(String a, String b) {
        return a == null ? b == null : a.equals(b);
    }
}
