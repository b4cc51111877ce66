package io.msm.engine;

import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.node.LiveNodes;
import io.msm.node.NodeAvailability;
import io.msm.store.MemcachedSessionStore;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Which memcached nodes are available: it hears the store's connection events (its node watch's included) and the
 * operations that failed, makes a node that timed out suspect (or probes it first after a short timeout), probes suspects, and
 * says in the log why a node became unavailable. A node that is available again is handed to the listener set with
 * {@link #onRecovered} (re-stores what could not be stored meanwhile).
 */
final class NodeHealth implements MemcachedSessionStore.ConnectionListener {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    private final MsmConfig config;
    private final LiveNodes nodes;
    private final String logPrefix;
    private final StorageKeys keys;
    private final EngineThreads threads;
    /** The last reason a node became unavailable, for the log line. */
    private final Map<String, String> lastProblem = new ConcurrentHashMap<>();
    /** Nodes with a probe queued after a short (synchronous backup) timeout. */
    private final Set<String> probing = ConcurrentHashMap.newKeySet();
    /**
     * Held while an added node is checked for and started, and while a removed one is forgotten: a removal that comes
     * between the check and the start would otherwise be undone by it, and the node reported on for good.
     */
    private final Object membership = new Object();
    /** Set once at the start ({@link #useStore}, {@link #attach}); the store's events may come before. */
    private volatile SessionStore store;
    private volatile NodeAvailability availability;
    private volatile Consumer<String> recovered = nodeId -> { };
    private volatile Consumer<String> added = nodeId -> { };

    NodeHealth(MsmConfig config, LiveNodes nodes, String logPrefix, StorageKeys keys, EngineThreads threads) {
        this.config = config;
        this.nodes = nodes;
        this.logPrefix = logPrefix;
        this.keys = keys;
        this.threads = threads;
    }

    /** The store whose nodes are judged: set as soon as it exists (its connection events may come before attach). */
    void useStore(SessionStore store) {
        this.store = store;
    }

    /** Starts judging the nodes of the store. */
    NodeAvailability attach() {
        SessionStore store = this.store;
        this.availability = new NodeAvailability(store::isConnected, this::probe, this::availabilityChanged);
        return availability;
    }

    /** Told each node that is available again (after {@link #attach}). */
    void onRecovered(Consumer<String> listener) {
        this.recovered = listener;
    }

    /**
     * Told each node added while running that connected within its start's wait (one that did not is told to
     * {@link #onRecovered} when it connects).
     */
    void onAdded(Consumer<String> listener) {
        this.added = listener;
    }

    @Override
    public void connected(String nodeId) {
        changed(nodeId);
    }

    @Override
    public void disconnected(String nodeId) {
        lastProblem.put(nodeId, "connection lost");
        changed(nodeId);
    }

    private void changed(String nodeId) {
        NodeAvailability a = availability;
        if (a != null) {
            a.changed(nodeId);
        }
    }

    /** Waits (at most {@code maxMillis}) until every node is connected; a node that is not is said unavailable. */
    void awaitConnections(long maxMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        for (MemcachedNode n : nodes.current().nodes()) {
            while (!availability.isAvailable(n.id()) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (!availability.isAvailable(n.id())) {
                lastProblem.put(n.id(), "not reachable at start: " + store.describe(n.id()));
            }
            availability.started(n.id());
        }
    }

    /**
     * A node failed an operation. A timeout at {@code operationTimeout} makes it suspect at once; a shorter one (a
     * synchronous backup's {@code sessionBackupTimeout}) only queues a probe at {@code operationTimeout}, so a brief
     * hiccup does not move every session off a healthy node.
     */
    void storeFailed(StoreException e, long timeoutMillis) {
        LOG.log(Level.DEBUG, () -> logPrefix + e.getMessage());
        if (!e.isTimeout()) {
            return;
        }
        String node = e.nodeId();
        lastProblem.put(node, e.getMessage());
        if (timeoutMillis >= config.operationTimeoutMillis()) {
            availability.timedOut(node);
        } else if (probing.add(node)) {
            try {
                threads.prober().execute(() -> {
                    try {
                        if (!probe(node)) {
                            availability.timedOut(node);
                        }
                    } finally {
                        probing.remove(node);
                    }
                });
            } catch (RejectedExecutionException stopping) {
                probing.remove(node);
            }
        }
    }

    /** {@code true} while a probe of {@code nodeId} is queued after a short timeout: nobody waits for it meanwhile. */
    boolean isProbing(String nodeId) {
        return probing.contains(nodeId);
    }

    private void availabilityChanged(String nodeId, boolean available) {
        if (available) {
            if (!threads.stopping()) {
                recovered.accept(nodeId);
            }
        } else if (!threads.stopping()) {
            String why = lastProblem.getOrDefault(nodeId, "unavailable");
            LOG.log(Level.WARNING, () -> logPrefix + "memcached node " + nodeId + " is unavailable (" + why
                    + "); sessions are served from memory and stored again when a node is available");
        }
    }

    /**
     * Node {@code nodeId} was added while running: like a node at the start, it is given {@code operationTimeout} to
     * connect, and reported unavailable (once) if it has not by then, unless {@code stillThere} says it was removed.
     */
    void added(String nodeId, java.util.function.Predicate<String> stillThere) {
        try {
            threads.prober().schedule(() -> {
                boolean up;
                synchronized (membership) { // a removal from now on comes after this start, and forgets it
                    if (!stillThere.test(nodeId)) {
                        return;
                    }
                    up = availability.isAvailable(nodeId);
                    if (!up) {
                        lastProblem.put(nodeId, "not reachable since it was added: " + store.describe(nodeId));
                    }
                    availability.started(nodeId);
                }
                // connected before its start: no return is reported, yet a node added again (discovery) may have
                // restarted empty meanwhile. (One still down is reported when it connects: stored again then.)
                if (up && !threads.stopping() && stillThere.test(nodeId)) {
                    added.accept(nodeId);
                }
            }, config.operationTimeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // stopping
        }
    }

    /**
     * Node {@code nodeId} is now at {@code address} (a new, empty node): reported unavailable, and available again once
     * it connects there, which may have happened already (its watch connects as soon as the store adds it).
     */
    void readdressed(String nodeId, String address) {
        lastProblem.put(nodeId, "moved to " + address);
        NodeAvailability a = availability;
        if (a != null) {
            a.renewed(nodeId);
        }
    }

    /** Node {@code nodeId} was removed: forgotten, without a report. */
    void removed(String nodeId) {
        synchronized (membership) {
            lastProblem.remove(nodeId);
            availability.forget(nodeId);
        }
    }

    private boolean probe(String nodeId) {
        try {
            store.get(nodeId, keys.probe(), config.operationTimeoutMillis());
            return true;
        } catch (StoreException e) {
            return false;
        }
    }

    /** Runs {@code housekeeping}, then probes the suspect nodes (periodically, on the scheduled thread). */
    void probeSuspects(Runnable housekeeping) {
        try {
            housekeeping.run();
            if (availability.hasSuspects()) {
                availability.probeSuspects();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, logPrefix + "probing memcached nodes failed", e);
        }
    }

    /** Ids of nodes currently available. */
    List<String> availableNodes() {
        return nodes.current().nodes().stream().map(MemcachedNode::id).filter(availability::isAvailable)
                .collect(java.util.stream.Collectors.toList());
    }
}
