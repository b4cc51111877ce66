package io.msm.store;

import io.msm.internal.DaemonThreads;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Whether each memcached node is there, judged from its pool of {@link DirectConnections}, and told to a
 * {@link MemcachedSessionStore.ConnectionListener} on every change.
 *
 * <p>One thread watches, for {@link #READ_MILLIS} per node in turn, the least recently used idle connection of the
 * pool: memcached never sends unsolicited bytes, so a read that ends means memcached closed it. A dead memcached
 * (killed, stopped, host down with a reset) then refuses the immediate reconnect and the node is reported down within
 * milliseconds; one that only closed an idle connection ({@code -o idle_timeout}) accepts it and stays up. The pool
 * keeps at least {@link #MIN_OPEN} connections, and a connection is only watched while another one is idle, so a call
 * never waits for the watch nor opens a connection because of it. A call that cannot connect reports the node down
 * too ({@link #refused}). A node that is down is reconnected every {@link #RETRY_MILLIS} until it accepts again.
 *
 * <p>A paused or partitioned node keeps its connections open: the calls' timeouts catch that case.
 */
final class NodeWatch implements AutoCloseable {
    /** How long one node's idle connection is watched before the next node's. */
    static final long READ_MILLIS = 20;
    /** Delay between connection attempts to a node that is down. */
    static final long RETRY_MILLIS = 250;
    /** Connections each node's pool keeps open (one watched, one for a call meanwhile). */
    static final int MIN_OPEN = 2;
    /** How long {@link #close()} waits for the watch thread to end. */
    static final long END_MILLIS = 2000;

    private final Map<String, DirectConnections> pools;
    private final Map<String, Boolean> up = new ConcurrentHashMap<>();
    /** When to try a node that is down again ({@link System#nanoTime()}); the watch thread's only. */
    private final Map<String, Long> retryAt = new ConcurrentHashMap<>();
    private final MemcachedSessionStore.ConnectionListener listener;
    private final long connectTimeoutMillis;
    private final Thread thread;
    private volatile boolean closed;

    /**
     * @param pools the nodes' pools by node id, watched in this order
     * @param listener told when a node comes up and goes down, on the watch thread or a caller's: must be quick
     */
    NodeWatch(Map<String, DirectConnections> pools, String threadName, long connectTimeoutMillis,
            MemcachedSessionStore.ConnectionListener listener) {
        this.pools = pools;
        this.listener = listener;
        this.connectTimeoutMillis = connectTimeoutMillis;
        for (String id : pools.keySet()) {
            up.put(id, false);
            retryAt.put(id, 0L);
        }
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
        // not the webapp's loader of the thread that happened to start it
        thread.setContextClassLoader(NodeWatch.class.getClassLoader());
    }

    /** Starts watching. */
    NodeWatch start() {
        thread.start();
        return this;
    }

    /** {@code true} while the node is known to accept connections (no I/O). */
    boolean isUp(String nodeId) {
        return Boolean.TRUE.equals(up.get(nodeId));
    }

    /** A call could not connect to the node: it is down until the watch connects again. */
    void refused(String nodeId) {
        if (up.containsKey(nodeId)) {
            retryAt.put(nodeId, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS));
            set(nodeId, false);
        }
    }

    private void run() {
        while (!closed) {
            boolean watched = false;
            for (Map.Entry<String, DirectConnections> e : pools.entrySet()) {
                if (closed) {
                    return;
                }
                String id = e.getKey();
                if (isUp(id)) {
                    watched |= watch(id, e.getValue());
                } else if (System.nanoTime() - retryAt.get(id) >= 0) {
                    reconnect(id, e.getValue());
                }
            }
            if (!watched) { // no read waited: pause as long as one would have
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(READ_MILLIS));
            }
        }
    }

    /** @return whether a read waited */
    private boolean watch(String id, DirectConnections pool) {
        if (pool.idleConnections() < MIN_OPEN) {
            if (pool.openConnections() < MIN_OPEN) { // fewer than it keeps (closed by memcached, or by failed calls)
                try {
                    pool.openIdle(connectTimeoutMillis);
                } catch (IOException e) {
                    refused(id);
                }
            }
            return false; // else calls hold them: their outcome tells
        }
        Boolean open = pool.watchIdle(READ_MILLIS);
        if (open == null) {
            return false; // taken by calls meanwhile
        }
        if (!open) { // memcached closed it: does it accept a new one?
            try {
                pool.openIdle(connectTimeoutMillis);
            } catch (IOException e) {
                refused(id);
            }
            return false;
        }
        return true;
    }

    private void reconnect(String id, DirectConnections pool) {
        try {
            // a fresh connection first: the pool's idle ones may be half-closed leftovers of the process that died
            pool.openIdle(connectTimeoutMillis);
            while (pool.openConnections() < MIN_OPEN) {
                pool.openIdle(connectTimeoutMillis);
            }
            set(id, true);
        } catch (IOException e) {
            retryAt.put(id, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS));
        }
    }

    private synchronized void set(String id, boolean isUp) {
        Boolean before = up.put(id, isUp);
        if (!closed && before != isUp) {
            if (isUp) {
                listener.connected(id);
            } else {
                listener.disconnected(id);
            }
        }
    }

    /** Stops the watch and waits (at most {@link #END_MILLIS}) for its thread to end. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        // started with the store, by the context's start: ends before the webapp's stop does
        DaemonThreads.awaitEnd(thread, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(END_MILLIS));
    }
}
