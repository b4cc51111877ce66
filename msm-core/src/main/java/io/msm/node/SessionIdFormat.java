package io.msm.node;

import io.msm.internal.IdentityMemo;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/**
 * The msm session id: {@code <random>-<nodeId>[.<jvmRoute>]}, e.g. {@code 9A1F...C3-n1.tc1}. The node id routes
 * every memcached key of the session to its node; the jvmRoute keeps balancer stickiness. With a single node
 * configured without an id, ids are {@code <random>[.<jvmRoute>]} as in plain Tomcat.
 *
 * <p>Parsing is strict: anything else (too long, other characters, no node id) is not an msm id and never reaches
 * memcached.
 */
public final class SessionIdFormat {

    /**
     * Longer ids are refused (a cookie is no place for more). A key that with its prefix would still exceed
     * memcached's 250 bytes is stored under a hash of it (see the engine's StorageKeys).
     */
    public static final int MAX_LENGTH = 200;

    /**
     * Node ids of the configuration and those this format made ids with, reused by {@link #parse} instead of a new
     * string per id (bounded; a parse never adds one: a client's cookies could fill it with made-up ids).
     */
    private static final int RECENT_NODE_IDS = 16;

    private final boolean withNodeIds;
    private final String singleNodeId;
    /** Copy on write, at most {@link #RECENT_NODE_IDS}; a race may lose an addition (the next format adds it). */
    private volatile String[] recentNodeIds = new String[0];
    /**
     * Ids parsed well lately (by any thread): a request parses its session's id, the same string, several times (its
     * check, its relocation, its load, its write). Immutable, so shared as they are; found by identity only.
     */
    private final IdentityMemo<SessionId> parsed = new IdentityMemo<>();
    private final Function<String, SessionId> parser = this::parseAnew;

    /**
     * @param withNodeIds whether ids carry a node id
     * @param singleNodeId the node every id routes to when {@code withNodeIds} is false
     */
    public SessionIdFormat(boolean withNodeIds, String singleNodeId) {
        this(withNodeIds, singleNodeId, List.of());
    }

    /**
     * @param withNodeIds whether ids carry a node id
     * @param singleNodeId the node every id routes to when {@code withNodeIds} is false
     * @param nodeIds the configured nodes' ids, whose strings {@link #parse} reuses (as those of nodes it makes ids
     *     with later: discovered ones)
     */
    public SessionIdFormat(boolean withNodeIds, String singleNodeId, Collection<String> nodeIds) {
        this.withNodeIds = withNodeIds;
        this.singleNodeId = singleNodeId;
        for (String id : nodeIds) {
            remember(id);
        }
    }

    /**
     * A parsed id. Its random part and jvmRoute are cut out of the id when asked for (a request parses its session's
     * id a few times and seldom needs either).
     */
    public static final class SessionId {
        private final String id;
        /** End of the random part in {@link #id}. */
        private final int randomEnd;
        private final String nodeId;
        /** Start of the jvmRoute in {@link #id}; -1: none. */
        private final int routeStart;

        SessionId(String id, int randomEnd, String nodeId, int routeStart) {
            this.id = id;
            this.randomEnd = randomEnd;
            this.nodeId = nodeId;
            this.routeStart = routeStart;
        }

        /** The id this was parsed from. */
        public String id() {
            return id;
        }

        public String random() {
            return id.substring(0, randomEnd);
        }

        /** The node the session's keys live on. */
        public String nodeId() {
            return nodeId;
        }

        /** The jvmRoute, or {@code null}. */
        public String jvmRoute() {
            return routeStart < 0 ? null : id.substring(routeStart);
        }

        /** {@code true} if its jvmRoute is {@code route} ({@code null}: none), without cutting it out. */
        public boolean hasJvmRoute(String route) {
            if (routeStart < 0 || route == null) {
                return routeStart < 0 && route == null;
            }
            return id.length() - routeStart == route.length() && id.startsWith(route, routeStart);
        }
    }

    /** Builds an id. {@code jvmRoute} may be null or empty. */
    public String format(String random, String nodeId, String jvmRoute) {
        StringBuilder sb = new StringBuilder(random.length() + 24).append(random);
        if (withNodeIds) {
            sb.append('-').append(nodeId);
            remember(nodeId);
        }
        if (jvmRoute != null && !jvmRoute.isEmpty()) {
            sb.append('.').append(jvmRoute);
        }
        return sb.toString();
    }

    /** Parses an id; {@code null} if it is not a well-formed msm id. */
    public SessionId parse(String id) {
        return id == null || id.length() > MAX_LENGTH ? null : parsed.get(id, parser); // hashed only if short
    }

    private SessionId parseAnew(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) {
            return null;
        }
        int dot = id.indexOf('.');
        int baseEnd = dot < 0 ? id.length() : dot;
        int routeStart = dot < 0 ? -1 : dot + 1;
        if (routeStart >= 0 && !isRoute(id, routeStart, id.length())) {
            return null;
        }
        if (!withNodeIds) {
            return isRandom(id, 0, baseEnd) ? new SessionId(id, baseEnd, singleNodeId, routeStart) : null;
        }
        int dash = id.lastIndexOf('-', baseEnd - 1);
        if (dash <= 0 || dash == baseEnd - 1) {
            return null;
        }
        if (!isRandom(id, 0, dash) || !isNodeId(id, dash + 1, baseEnd)) {
            return null;
        }
        return new SessionId(id, dash, nodeId(id, dash + 1, baseEnd), routeStart);
    }

    /** The node id {@code id[from, to)}: a remembered one if any, else a new string. */
    private String nodeId(String id, int from, int to) {
        int length = to - from;
        for (String known : recentNodeIds) {
            if (known.length() == length && id.startsWith(known, from)) {
                return known;
            }
        }
        return id.substring(from, to);
    }

    private void remember(String nodeId) {
        String[] known = recentNodeIds;
        if (known.length >= RECENT_NODE_IDS) {
            return; // full (more nodes than that over a run): the ids of other nodes cost a string each, as before
        }
        for (String k : known) {
            if (k.equals(nodeId)) {
                return;
            }
        }
        String[] more = Arrays.copyOf(known, known.length + 1);
        more[known.length] = nodeId;
        recentNodeIds = more;
    }

    /** The same id on another node. */
    public String withNodeId(SessionId id, String nodeId) {
        return format(id.random(), nodeId, id.jvmRoute());
    }

    /** The same id with another jvmRoute. */
    public String withJvmRoute(SessionId id, String jvmRoute) {
        return format(id.random(), id.nodeId(), jvmRoute);
    }

    /** {@code true} if {@code jvmRoute} can be used in an msm session id (letters, digits, {@code _ - .}). */
    public static boolean isRoute(String s) {
        return isRoute(s, 0, s.length());
    }

    private static boolean isRoute(String s, int from, int to) {
        if (from >= to) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(isAlnum(c) || c == '_' || c == '-' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isRandom(String s, int from, int to) {
        if (from >= to) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (!isAlnum(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isNodeId(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(isAlnum(c) || c == '_')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAlnum(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }
}
