package io.msm.node;

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

    private final boolean withNodeIds;
    private final String singleNodeId;

    /**
     * @param withNodeIds whether ids carry a node id
     * @param singleNodeId the node every id routes to when {@code withNodeIds} is false
     */
    public SessionIdFormat(boolean withNodeIds, String singleNodeId) {
        this.withNodeIds = withNodeIds;
        this.singleNodeId = singleNodeId;
    }

    /** A parsed id. */
    public static final class SessionId {
        private final String id;
        private final String random;
        private final String nodeId;
        private final String jvmRoute;

        SessionId(String id, String random, String nodeId, String jvmRoute) {
            this.id = id;
            this.random = random;
            this.nodeId = nodeId;
            this.jvmRoute = jvmRoute;
        }

        /** The id this was parsed from. */
        public String id() {
            return id;
        }

        public String random() {
            return random;
        }

        /** The node the session's keys live on. */
        public String nodeId() {
            return nodeId;
        }

        /** The jvmRoute, or {@code null}. */
        public String jvmRoute() {
            return jvmRoute;
        }
    }

    /** Builds an id. {@code jvmRoute} may be null or empty. */
    public String format(String random, String nodeId, String jvmRoute) {
        StringBuilder sb = new StringBuilder(random.length() + 24).append(random);
        if (withNodeIds) {
            sb.append('-').append(nodeId);
        }
        if (jvmRoute != null && !jvmRoute.isEmpty()) {
            sb.append('.').append(jvmRoute);
        }
        return sb.toString();
    }

    /** Parses an id; {@code null} if it is not a well-formed msm id. */
    public SessionId parse(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) {
            return null;
        }
        int dot = id.indexOf('.');
        String base = dot < 0 ? id : id.substring(0, dot);
        String route = dot < 0 ? null : id.substring(dot + 1);
        if (route != null && !isRoute(route)) {
            return null;
        }
        if (!withNodeIds) {
            return isRandom(base) ? new SessionId(id, base, singleNodeId, route) : null;
        }
        int dash = base.lastIndexOf('-');
        if (dash <= 0 || dash == base.length() - 1) {
            return null;
        }
        String random = base.substring(0, dash);
        String node = base.substring(dash + 1);
        if (!isRandom(random) || !isNodeId(node)) {
            return null;
        }
        return new SessionId(id, random, node, route);
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
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(isAlnum(c) || c == '_' || c == '-' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isRandom(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isAlnum(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isNodeId(String s) {
        for (int i = 0; i < s.length(); i++) {
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
