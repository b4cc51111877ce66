package io.msm.node;

import io.msm.config.MemcachedNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The memcached nodes now: a {@link NodeSet} replaced as a whole when the list changes (discovery, JMX), so a reader
 * sees one consistent list without a lock. Also remembers the ids of the last {@link #REMEMBERED} nodes removed: a
 * session id naming one is still an id of this configuration, whose session is looked for elsewhere and moved.
 */
public final class LiveNodes {
    /** Removed node ids remembered. */
    static final int REMEMBERED = 256;

    private final LongSupplier nanoClock;
    private volatile NodeSet current;
    /** Guarded by {@code this}; read under it too (rare: only for ids not in the current set). */
    private final Set<String> removed = new LinkedHashSet<>();

    public LiveNodes(NodeSet start) {
        this(start, System::nanoTime);
    }

    LiveNodes(NodeSet start, LongSupplier nanoClock) {
        this.current = start;
        this.nanoClock = nanoClock;
    }

    /** The clock join delays are counted on ({@link System#nanoTime()} but in tests). */
    long nanoTime() {
        return nanoClock.getAsLong();
    }

    /** The nodes now. */
    public NodeSet current() {
        return current;
    }

    /** Whether node {@code nodeId} takes sessions (and secondary copies) now: not while it is still joining. */
    public boolean takesSessions(String nodeId) {
        return current.takesSessions(nodeId, nanoClock.getAsLong());
    }

    /** {@code true} if {@code nodeId} is a node now or was one (one of the last {@link #REMEMBERED} removed). */
    public boolean isKnown(String nodeId) {
        if (current.contains(nodeId)) {
            return true;
        }
        synchronized (this) {
            return removed.contains(nodeId);
        }
    }

    /** What {@link #replace} changed. */
    public static final class Change {
        public final List<MemcachedNode> added;
        public final List<MemcachedNode> removed;
        public final NodeSet before;
        public final NodeSet after;

        Change(List<MemcachedNode> added, List<MemcachedNode> removed, NodeSet before, NodeSet after) {
            this.added = Collections.unmodifiableList(added);
            this.removed = Collections.unmodifiableList(removed);
            this.before = before;
            this.after = after;
        }

        public boolean isEmpty() {
            return added.isEmpty() && removed.isEmpty();
        }

        /** The nodes no longer there (not those only at another address or in another role). */
        public List<MemcachedNode> gone() {
            List<MemcachedNode> gone = new ArrayList<>();
            for (MemcachedNode n : removed) {
                if (!after.contains(n.id())) {
                    gone.add(n);
                }
            }
            return gone;
        }

        /** For the log: what was added, removed and changed, and the nodes now. */
        @Override
        public String toString() {
            List<MemcachedNode> fresh = new ArrayList<>();
            List<MemcachedNode> changed = new ArrayList<>();
            for (MemcachedNode n : added) {
                (before.contains(n.id()) ? changed : fresh).add(n);
            }
            List<MemcachedNode> gone = gone();
            String text = (fresh.isEmpty() ? "" : "added " + fresh + " ")
                    + (gone.isEmpty() ? "" : "removed " + gone + " (their sessions move at their next request) ")
                    + (changed.isEmpty() ? "" : "changed " + changed + " (a node at another address is a new, empty"
                            + " one: what this Tomcat holds is stored there again) ");
            return text + "now " + after;
        }
    }

    /**
     * The new list. A node whose id, host, port or role changed counts as removed and added. An added node takes
     * sessions after {@code joinDelayMillis} (0: at once).
     *
     * @throws IllegalArgumentException for an empty list, a list without a primary node or an id twice
     */
    public synchronized Change replace(List<MemcachedNode> nodes, long joinDelayMillis) {
        NodeSet before = current;
        List<MemcachedNode> added = new ArrayList<>();
        List<MemcachedNode> gone = new ArrayList<>();
        Map<String, Long> takesFrom = new LinkedHashMap<>(before.takesSessionsFrom());
        long from = nanoClock.getAsLong() + TimeUnit.MILLISECONDS.toNanos(joinDelayMillis);
        for (MemcachedNode n : nodes) {
            if (!n.equals(before.get(n.id()))) {
                added.add(n);
                if (joinDelayMillis > 0) {
                    takesFrom.put(n.id(), from);
                } else {
                    takesFrom.remove(n.id());
                }
            }
        }
        NodeSet after = new NodeSet(nodes, takesFrom);
        for (MemcachedNode n : before.nodes()) {
            if (!n.equals(after.get(n.id()))) {
                gone.add(n);
            }
        }
        if (added.isEmpty() && gone.isEmpty()) {
            return new Change(added, gone, before, before);
        }
        for (MemcachedNode n : gone) {
            if (!after.contains(n.id())) {
                removed.remove(n.id());
                removed.add(n.id());
            }
        }
        for (MemcachedNode n : nodes) {
            removed.remove(n.id());
        }
        while (removed.size() > REMEMBERED) {
            removed.remove(removed.iterator().next());
        }
        current = after;
        return new Change(added, gone, before, after);
    }
}
