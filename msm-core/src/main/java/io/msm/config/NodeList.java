package io.msm.config;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value of {@code memcachedNodes}, read together with {@code failoverNodes}: the nodes in configured order with
 * {@link MemcachedNode#isFailover()} set, and whether session ids carry node ids.
 */
final class NodeList {
    static final Pattern LIST_SEPARATOR = Pattern.compile("[,\\s]+");
    private static final Pattern NODE_WITH_ID = Pattern.compile("([A-Za-z0-9_]+):(\\[[^\\]]+\\]|[^:\\[\\]]+):(\\d{1,5})");
    private static final Pattern NODE_WITHOUT_ID = Pattern.compile("(\\[[^\\]]+\\]|[^:\\[\\]]+):(\\d{1,5})");
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_]+");
    private static final String REQUIRED = "required, e.g. n1:host1:11211,n2:host2:11211";

    private static final Pattern SOURCE = Pattern.compile("(discover|dns):(\\[[^\\]]+\\]|[^:\\[\\]]+):(\\d{1,5})");

    final List<MemcachedNode> nodes;
    final boolean idsInSessionIds;
    /** {@code discover:} or {@code dns:} (its interval not read yet); {@code null} for a list of nodes. */
    final NodeDiscovery discovery;

    private NodeList(List<MemcachedNode> nodes, boolean idsInSessionIds) {
        this(nodes, idsInSessionIds, null);
    }

    private NodeList(List<MemcachedNode> nodes, boolean idsInSessionIds, NodeDiscovery discovery) {
        this.nodes = List.copyOf(nodes);
        this.idsInSessionIds = idsInSessionIds;
        this.discovery = discovery;
    }

    /** No node (the value of a bad {@code memcachedNodes}, which stops the configuration anyway). */
    static NodeList none() {
        return new NodeList(List.of(), true);
    }

    @Override
    public String toString() {
        return discovery != null ? discovery.toString() : nodes.toString();
    }

    /** Reads {@code memcachedNodes} ({@code text}, {@code null} if not set) and {@code failoverNodes}. */
    static NodeList read(String text, Reading r) {
        if (text == null) {
            r.problem(MsmConfig.MEMCACHED_NODES, REQUIRED);
            return null;
        }
        String[] entries = LIST_SEPARATOR.split(text);
        if (isDiscovery(text)) {
            return discovered(text.trim(), entries.length, r);
        }
        List<MemcachedNode> parsed = new ArrayList<>();
        Set<String> ids = new LinkedHashSet<>();
        Set<String> addresses = new LinkedHashSet<>();
        List<String> bad = new ArrayList<>();
        boolean idsInSessionIds = true;
        for (String entry : entries) {
            if (entry.isEmpty()) {
                continue;
            }
            Entry e = Entry.parse(entry, entries.length == 1, bad);
            if (e == null) {
                continue;
            }
            String id = e.id;
            if (id == null) {
                idsInSessionIds = false;
                id = e.bareHost.indexOf(':') >= 0 ? "[" + e.bareHost + "]:" + e.port : e.bareHost + ":" + e.port;
            } else if (!ids.add(id)) {
                bad.add("node id " + id + " is used twice");
                continue;
            }
            if (!addresses.add(e.bareHost + "/" + e.portNumber)) {
                bad.add("address " + e.host + ":" + e.port + " is listed twice");
                continue;
            }
            parsed.add(new MemcachedNode(id, e.bareHost, e.portNumber, false));
        }
        if (!bad.isEmpty()) {
            r.problem(MsmConfig.MEMCACHED_NODES, String.join("; ", bad));
            checkFailoverIdsAgainst(mentionedIds(entries), r);
            return null;
        }
        if (parsed.isEmpty()) {
            r.problem(MsmConfig.MEMCACHED_NODES, REQUIRED);
            return null;
        }
        return withFailoverNodes(new NodeList(parsed, idsInSessionIds), r);
    }

    /**
     * {@code discover:<host>:<port>} or {@code dns:<name>:<port>}, alone: the nodes are found at the start and then
     * every {@code discoveryInterval} seconds; all of them are primary nodes, and session ids carry their ids.
     */
    private static NodeList discovered(String text, int entries, Reading r) {
        Matcher m = SOURCE.matcher(text);
        if (entries != 1 || !m.matches()) {
            r.problem(MsmConfig.MEMCACHED_NODES, "discover: and dns: take one <host>:<port> and stand alone, e.g."
                    + " discover:mycluster.xxxxxx.cfg.use1.cache.amazonaws.com:11211 or dns:memcached.shop.svc:11211");
            return null;
        }
        String host = m.group(2).startsWith("[") ? m.group(2).substring(1, m.group(2).length() - 1) : m.group(2);
        int port = Integer.parseInt(m.group(3));
        String problem = host.isEmpty() ? "an empty host" : port < 1 || port > 65535 ? "port " + port
                + " is not in 1..65535" : null;
        if (problem != null) {
            r.problem(MsmConfig.MEMCACHED_NODES, problem);
            return null;
        }
        NodeDiscovery.Kind kind = m.group(1).equals("dns") ? NodeDiscovery.Kind.DNS
                : NodeDiscovery.Kind.CONFIG_ENDPOINT;
        if (r.text(MsmConfig.FAILOVER_NODES) != null) {
            r.problem(MsmConfig.FAILOVER_NODES, "discovered nodes are all primary nodes: failoverNodes cannot name any"
                    + " with memcachedNodes=\"" + text + "\"");
        }
        if ("binary".equalsIgnoreCase(r.text(MsmConfig.MEMCACHED_PROTOCOL))) {
            r.problem(MsmConfig.MEMCACHED_PROTOCOL, "memcachedNodes=\"" + text + "\" needs the text protocol"
                    + " (nodes found while running are connected to on it)");
        }
        return new NodeList(List.of(), true, new NodeDiscovery(kind, host, port, 0));
    }

    /** Whether {@code memcachedNodes} (its text, or {@code null}) names a discovery source in one of its entries. */
    static boolean isDiscovery(String text) {
        if (text != null) {
            for (String entry : LIST_SEPARATOR.split(text.trim())) {
                if (entry.startsWith("discover:") || entry.startsWith("dns:")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** One entry of memcachedNodes as written: {@code <id>:<host>:<port>}, or a single {@code <host>:<port>}. */
    private static final class Entry {
        /** {@code null} for a single {@code <host>:<port>}. */
        final String id;
        /** As written: an IPv6 address in brackets. */
        final String host;
        final String bareHost;
        final String port;
        final int portNumber;

        private Entry(String id, String host, String port) {
            this.id = id;
            this.host = host;
            this.bareHost = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
            this.port = port;
            this.portNumber = Integer.parseInt(port);
        }

        /** {@code entry} read, or {@code null} if it is not a node that can be reached (said in {@code bad}). */
        static Entry parse(String entry, boolean single, List<String> bad) {
            if (entry.startsWith("http://") || entry.startsWith("https://")) {
                bad.add("\"" + entry + "\" is a Couchbase/Membase bucket URL, which msm does not support: list"
                        + " memcached nodes as <id>:<host>:<port>");
                return null;
            }
            Matcher withId = NODE_WITH_ID.matcher(entry);
            Matcher withoutId = NODE_WITHOUT_ID.matcher(entry);
            Entry e;
            if (withId.matches()) {
                e = new Entry(withId.group(1), withId.group(2), withId.group(3));
            } else if (withoutId.matches() && single) {
                e = new Entry(null, withoutId.group(1), withoutId.group(2));
            } else {
                bad.add("\"" + entry + "\" is not <id>:<host>:<port>" + (single ? " (or a single <host>:<port>)" : ""));
                return null;
            }
            if (e.portNumber < 1 || e.portNumber > 65535) {
                bad.add("\"" + entry + "\": port " + e.port + " is not in 1..65535");
                return null;
            }
            if (new InetSocketAddress(e.bareHost, e.portNumber).isUnresolved()) {
                bad.add("\"" + entry + "\": host " + e.bareHost + " cannot be resolved");
                return null;
            }
            return e;
        }
    }

    /** Ids written in memcachedNodes, including those of entries that are otherwise bad. */
    private static List<String> mentionedIds(String[] entries) {
        List<String> ids = new ArrayList<>();
        for (String entry : entries) {
            int colon = entry.indexOf(':');
            if (colon > 0 && NODE_ID.matcher(entry.substring(0, colon)).matches()) {
                ids.add(entry.substring(0, colon));
            }
        }
        return ids;
    }

    /** With a bad memcachedNodes, still report failover ids that are named nowhere. */
    private static void checkFailoverIdsAgainst(List<String> known, Reading r) {
        String v = r.text(MsmConfig.FAILOVER_NODES);
        if (v == null) {
            return;
        }
        List<String> unknown = new ArrayList<>();
        for (String id : LIST_SEPARATOR.split(v)) {
            if (!id.isEmpty() && !known.contains(id)) {
                unknown.add(id);
            }
        }
        if (!unknown.isEmpty()) {
            unknownFailoverIds(unknown, "memcachedNodes names "
                    + (known.isEmpty() ? "no valid id" : String.join(", ", known)), r);
        }
    }

    private static void unknownFailoverIds(List<String> unknown, String known, Reading r) {
        r.problem(MsmConfig.FAILOVER_NODES, "unknown node id" + (unknown.size() > 1 ? "s " : " ")
                + String.join(", ", unknown) + " (" + known + ")");
    }

    private static NodeList withFailoverNodes(NodeList primary, Reading r) {
        String v = r.text(MsmConfig.FAILOVER_NODES);
        if (v == null) {
            return primary;
        }
        if (!primary.idsInSessionIds) {
            r.problem(MsmConfig.FAILOVER_NODES, "needs node ids: write memcachedNodes as <id>:<host>:<port>,...");
            return null;
        }
        Set<String> failover = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        for (String id : LIST_SEPARATOR.split(v)) {
            if (id.isEmpty()) {
                continue;
            }
            if (!NODE_ID.matcher(id).matches() || primary.nodes.stream().noneMatch(n -> n.id().equals(id))) {
                unknown.add(id);
            } else {
                failover.add(id);
            }
        }
        if (!unknown.isEmpty()) {
            List<String> known = new ArrayList<>();
            primary.nodes.forEach(n -> known.add(n.id()));
            unknownFailoverIds(unknown, "memcachedNodes has " + String.join(", ", known), r);
            return null;
        }
        if (failover.size() == primary.nodes.size()) {
            r.problem(MsmConfig.FAILOVER_NODES, "every node is a failover node; at least one node must be primary");
            return null;
        }
        List<MemcachedNode> marked = new ArrayList<>();
        for (MemcachedNode n : primary.nodes) {
            marked.add(failover.contains(n.id()) ? n.asFailover() : n);
        }
        return new NodeList(marked, true);
    }
}
