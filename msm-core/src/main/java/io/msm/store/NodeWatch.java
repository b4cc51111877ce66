package io.msm.store;

import io.msm.internal.DaemonThreads;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Whether each memcached node is there, judged from its pool of {@link DirectConnections}, and told to a
 * {@link MemcachedSessionStore.ConnectionListener} on every change.
 *
 * <p>Each node has a watch thread of its own, so a node whose connects hang (packets dropped) never delays noticing
 * another. It watches, {@link #READ_MILLIS} at a time, the least recently used idle connection of the pool: memcached
 * never sends unsolicited bytes, so a read that ends means memcached closed it. A dead memcached (killed, stopped,
 * host down with a reset) then refuses the immediate reconnect and the node is reported down within milliseconds. The
 * pool keeps at least {@link #MIN_OPEN} connections, and a connection is only watched while another one is idle, so a
 * call never waits for the watch nor opens a connection because of it. A call that cannot connect reports the node
 * down too ({@link #refused}). A node that is down is reconnected every {@link #RETRY_MILLIS} until it accepts again,
 * its host name resolved again before each attempt ({@link DirectConnections#resolve}): a node replaced under the same
 * name (ElastiCache, Kubernetes) is found at its new address. The JVM's DNS cache ({@code networkaddress.cache.ttl},
 * 30 s by default) answers most of these lookups, so a moved name is seen within that time, and the resolver is not
 * asked four times a second; only this thread resolves, never a request's.
 *
 * <p>A connection memcached closed (seen by the watch or by a call) may mean a restart faster than anyone noticed:
 * the new process is empty. So the watch's next connection asks {@code stats} which process answers (pid and start
 * time, when {@code identifies}) and a different process than before is reported down and up at once, which makes the
 * engine store again what it stored there. The same process ({@code -o idle_timeout} closed an idle connection) is no
 * outage. Until an answer tells which process it is (a connect or {@code stats} that timed out, memcached at
 * {@code maxconns} answering {@code ERROR}), the watch asks again every {@link #RETRY_MILLIS}, unless the node is
 * reported down meanwhile (its next up is a recovery anyway). A fresh connection closed before answering
 * {@code stats}, on a node that answered it before, counts as refused (a port forwarder accepts while its memcached
 * is gone); so does one on a node that never answered it, when a connection it is asked nothing on is closed too
 * (the same forwarder, its memcached already gone when the watch started). A node that keeps such a connection but
 * never answers {@code stats} is not asked after {@link #UNANSWERED_MAX} tries. A connect that times out (a lost
 * SYN, a full accept backlog) reports the node down only when the next attempt times out too; a refused one at once.
 *
 * <p>A paused or partitioned node keeps its connections open: the calls' timeouts catch that case.
 */
final class NodeWatch implements AutoCloseable {
    /**
     * How long an idle connection is watched at a time. A read ends as soon as memcached closes the connection, and
     * a call that sees memcached close one ends it too ({@link DirectConnections#watchIdle}), so this sets only how
     * often an idle Tomcat's watch wakes: 4 times a second per node. At 20 ms it woke 50 times a second, each wake a
     * timed-out read (an exception), and the watch threads of an idle sticky Tomcat with two nodes took 11 ms of CPU a
     * second.
     */
    static final long READ_MILLIS = 250;
    /** The pause of a pass that read nothing (calls hold the connections, one was just opened, the node is down). */
    static final long PAUSE_MILLIS = 20;
    /** Delay between connection attempts to a node that is down. */
    static final long RETRY_MILLIS = 250;
    /** Connections each node's pool keeps open (one watched, one for a call meanwhile). */
    static final int MIN_OPEN = 2;
    /** Connect timeouts in a row that report a node down. */
    static final int TIMEOUTS_DOWN = 2;
    /** A node that never said which process it is (no {@code stats}) is not asked again after this many tries. */
    static final int UNANSWERED_MAX = 3;
    /** How long {@link #close()} waits for the watch threads to end. */
    static final long END_MILLIS = 2000;

    private final Map<String, Node> nodes = new ConcurrentHashMap<>();
    private final String threadName;
    private volatile boolean started;
    private final Map<String, Boolean> up = new ConcurrentHashMap<>();
    private final MemcachedSessionStore.ConnectionListener listener;
    private final long connectTimeoutMillis;
    private final boolean identifies;
    private volatile boolean closed;

    /**
     * @param pools the nodes' pools by node id
     * @param threadName the watch threads' names start with it (then the node id)
     * @param identifies whether memcached answers {@code stats} on the text protocol on these pools (not with SASL):
     *     then a restart is told from an idle connection closed by memcached
     * @param listener told when a node comes up and goes down, on a watch thread or a caller's: must be quick
     */
    NodeWatch(Map<String, DirectConnections> pools, String threadName, long connectTimeoutMillis, boolean identifies,
            MemcachedSessionStore.ConnectionListener listener) {
        this.listener = listener;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.identifies = identifies;
        this.threadName = threadName;
        for (Map.Entry<String, DirectConnections> e : pools.entrySet()) {
            up.put(e.getKey(), false);
            nodes.put(e.getKey(), new Node(e.getKey(), e.getValue(), threadName + "-" + e.getKey()));
        }
    }

    /** Starts watching. */
    synchronized NodeWatch start() {
        started = true;
        nodes.values().forEach(n -> n.thread.start());
        return this;
    }

    /** Watches {@code pool} of node {@code nodeId} too (a node added while running); it is down until it connects. */
    synchronized void add(String nodeId, DirectConnections pool) {
        if (closed || nodes.containsKey(nodeId)) {
            return;
        }
        Node n = new Node(nodeId, pool, threadName + "-" + nodeId);
        up.put(nodeId, false);
        nodes.put(nodeId, n);
        if (started) {
            n.thread.start();
        }
    }

    /**
     * Stops watching node {@code nodeId} (removed while running): its thread ends, without telling the listener
     * anything more. The caller closes its pool.
     */
    synchronized void remove(String nodeId) {
        Node n = nodes.remove(nodeId);
        if (n != null) {
            n.removed = true;
            up.remove(nodeId);
            LockSupport.unpark(n.thread);
            n.connects.abort();
            n.pool.endWatch();
        }
    }

    /** {@code true} while the node is known to accept connections (no I/O). */
    boolean isUp(String nodeId) {
        return Boolean.TRUE.equals(up.get(nodeId));
    }

    /** A call could not connect to the node: it is down until the watch connects again. */
    void refused(String nodeId) {
        Node n = nodes.get(nodeId);
        if (n != null) {
            n.retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS);
            set(nodeId, false);
        }
    }

    /** One node's watch: its thread and what only that thread reads and writes (except {@link #retryAt}). */
    private final class Node implements Runnable {
        final String id;
        final DirectConnections pool;
        /** The watch's own connects into {@link #pool}. */
        final WatchConnects connects;
        final Thread thread;
        /** When to try the node again while it is down ({@link System#nanoTime()}). */
        volatile long retryAt;
        /** The node was removed ({@link #remove}): the thread ends. */
        volatile boolean removed;
        /** The memcached process last seen ({@link WatchConnects#openIdle}); {@code null} if unknown. */
        String process;
        /** Connects that timed out in a row while the node was up. */
        int connectTimeouts;
        /** Whether to ask the node which process it is: not after {@link #UNANSWERED_MAX} tries it never answered. */
        boolean identify = identifies;
        /** Tries in a row the node did not say which process it is, while it never did. */
        int unanswered;
        /** memcached closed a connection, and no answer told since which process answers now ({@link #identifyAt}). */
        boolean unidentified;
        /** When to ask again while {@link #unidentified} ({@link System#nanoTime()}). */
        long identifyAt;

        Node(String id, DirectConnections pool, String threadName) {
            this.id = id;
            this.pool = pool;
            this.connects = new WatchConnects(pool);
            this.retryAt = System.nanoTime();
            this.thread = new Thread(this, threadName);
            thread.setDaemon(true);
            // not the webapp's loader of the thread that happened to start it
            thread.setContextClassLoader(NodeWatch.class.getClassLoader());
        }

        @Override
        public void run() {
            while (!closed && !removed) {
                if (isUp(id)) {
                    if (!watch()) { // no read waited: pause a little
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(PAUSE_MILLIS));
                    }
                } else {
                    long wait = retryAt - System.nanoTime();
                    if (wait <= 0) {
                        reconnect();
                    } else {
                        LockSupport.parkNanos(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(PAUSE_MILLIS)));
                    }
                }
            }
        }

        /** @return whether a read waited */
        private boolean watch() {
            if (pool.takeClosedByPeer()) { // seen by a call: restarted?
                closedByPeer();
                open();
                return false;
            }
            if (unidentified && System.nanoTime() - identifyAt >= 0) { // the last try did not tell
                open();
                return false;
            }
            if (pool.idleConnections() < MIN_OPEN) {
                if (pool.openConnections() < MIN_OPEN) { // fewer than it keeps (closed by memcached or failed calls)
                    open();
                }
                return false; // else calls hold them: their outcome tells
            }
            Boolean open = pool.watchIdle(READ_MILLIS);
            if (open == null) {
                return false; // taken by calls meanwhile
            }
            if (!open) { // memcached closed it: does it accept a new one, and is it the same process?
                pool.takeClosedByPeer();
                closedByPeer();
                open();
                return false;
            }
            return true;
        }

        /** memcached closed a connection: which process answers is to be asked until an answer tells. */
        private void closedByPeer() {
            unidentified = process != null; // else there is no process to tell a restart from
            identifyAt = System.nanoTime();
        }

        /** Opens a connection to a node that is up: refused = down, another process = restarted. */
        private void open() {
            String now;
            try {
                now = openIdle();
            } catch (SocketTimeoutException e) { // a lost SYN or a full accept backlog, unless it happens again
                if (++connectTimeouts >= TIMEOUTS_DOWN) {
                    refusedBy(this);
                } else {
                    identifyLater();
                }
                return;
            } catch (MemcachedProcess.StatsUnanswered e) {
                connectTimeouts = 0;
                if (process != null || !staysOpen()) { // nothing serves there now (a forwarder accepted)
                    refusedBy(this);
                }
                return;
            } catch (ProtocolException e) { // TLS: a plain-text ERROR before any TLS (memcached at maxconns)
                connectTimeouts = 0;
                identifyLater(); // as the same ERROR in answer to stats over TCP
                return;
            } catch (IOException e) {
                refusedBy(this);
                return;
            }
            connectTimeouts = 0;
            if (now == null) {
                identifyLater();
            } else {
                unidentified = false;
                String before = process;
                process = now;
                if (before != null && !before.equals(now)) {
                    restarted(this);
                }
            }
        }

        private void identifyLater() {
            identifyAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS);
        }

        /** {@link WatchConnects#openIdle}, asking which process answers while the node may say. */
        private String openIdle() throws IOException {
            boolean asked = identify;
            String now = connects.openIdle(connectTimeoutMillis, asked);
            if (now != null) {
                unanswered = 0;
            } else if (asked) {
                unanswered();
            }
            return now;
        }

        /**
         * A connection closed before answering {@code stats} on a node that never answered it: whether a connection
         * it is asked nothing on stays open ({@link #RETRY_MILLIS}): a server without {@code stats} keeps it (a try
         * it did not answer), a port forwarder whose memcached is gone closes it.
         */
        private boolean staysOpen() {
            try {
                if (connects.openIdleStaysOpen(connectTimeoutMillis, RETRY_MILLIS)) {
                    unanswered();
                    return true;
                }
            } catch (IOException e) {
                // not there either
            }
            return false;
        }

        /**
         * A node that closed a connection before answering {@code stats} kept the next one, asked nothing: a server
         * that never answers {@code stats}, or memcached that came up between the two connects behind a forwarder. The
         * latter answers now, and must say which process it is before it is reported up: else its next restart, with
         * no refused connect in between, would go unseen. {@code null} if it closed this one unanswered too.
         *
         * @throws IOException the connect failed or timed out, or no answer came: the node stays down, tried again
         */
        private String askedOnceMore() throws IOException {
            if (!identify) {
                return null;
            }
            try {
                return openIdle();
            } catch (MemcachedProcess.StatsUnanswered e) {
                unanswered(); // one more try it did not answer (a server that closes on stats)
                return null;
            }
        }

        private void unanswered() {
            if (process == null && ++unanswered >= UNANSWERED_MAX) {
                identify = false; // not memcached's stats (a proxy?): no restart check, as before there was one
            }
        }

        private void reconnect() {
            pool.resolve(); // the node may be back under its name at another address (replaced)
            try {
                pool.takeClosedByPeer(); // the process that died closed them: the one that answers now is seen below
                // a fresh connection first: the pool's idle ones may be half-closed leftovers of the process that died
                String now;
                try {
                    now = openIdle();
                } catch (MemcachedProcess.StatsUnanswered e) {
                    if (process != null || !staysOpen()) {
                        throw e; // nothing serves there now (a forwarder accepted): down, tried again in a while
                    }
                    now = askedOnceMore(); // null: a server that closes on stats (asked no more after a few)
                }
                while (pool.openConnections() < MIN_OPEN) {
                    connects.openIdle(connectTimeoutMillis, false);
                }
                if (now != null) {
                    process = now;
                }
                connectTimeouts = 0;
                unidentified = false; // reported up after down: a recovery, whichever process answers
                set(this, true);
            } catch (IOException e) {
                retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS);
            }
        }
    }

    private synchronized void set(String id, boolean isUp) {
        if (!nodes.containsKey(id)) {
            return; // removed
        }
        Boolean before = up.put(id, isUp);
        if (!closed && before != isUp) {
            if (isUp) {
                listener.connected(id);
            } else {
                listener.disconnected(id);
            }
        }
    }

    /** {@link #refused} as node {@code n}'s thread saw it, unless {@code n} was removed meanwhile. */
    private synchronized void refusedBy(Node n) {
        if (nodes.get(n.id) == n) {
            refused(n.id);
        }
    }

    /** What node {@code n}'s thread saw, unless {@code n} was removed meanwhile (its id may be another node's now). */
    private synchronized void set(Node n, boolean isUp) {
        if (nodes.get(n.id) == n) {
            set(n.id, isUp);
        }
    }

    /** Another memcached process answers than before (it restarted, empty): down and up again. */
    private synchronized void restarted(Node n) {
        String id = n.id;
        if (nodes.get(id) == n && isUp(id)) {
            set(id, false);
            set(id, true);
        }
    }

    /**
     * Stops the watch: ends the connects and {@code stats} under way (closing their sockets wakes them) and waits (at
     * most {@link #END_MILLIS}) for the threads to end.
     */
    @Override
    public void close() {
        synchronized (this) {
            closed = true; // no node added from now on
        }
        for (Node n : nodes.values()) {
            LockSupport.unpark(n.thread);
            n.connects.abort();
            n.pool.endWatch(); // a watched read would hold the thread for up to READ_MILLIS
        }
        // started with the store, by the context's start: end before the webapp's stop does
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(END_MILLIS);
        for (Node n : nodes.values()) {
            DaemonThreads.awaitEnd(n.thread, deadline);
        }
    }
}
