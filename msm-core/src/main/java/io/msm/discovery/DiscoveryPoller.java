package io.msm.discovery;

import io.msm.config.MemcachedNode;
import io.msm.config.NodeDiscovery;
import io.msm.internal.DaemonThreads;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Socket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/**
 * Asks a discovery source ({@code memcachedNodes="discover:..."} or {@code "dns:..."}) for the memcached nodes: once
 * at the start ({@link #first}), then every {@code discoveryInterval} seconds on one daemon thread
 * ({@code msm-discovery-<context>}), and soon after a request met a node id this Tomcat does not know
 * ({@link #refreshSoon}, at most once per {@link #REFRESH_GAP_MILLIS}).
 *
 * <p>A list that differs from the last one is handed to the listener (on the poller's thread). A question that fails
 * (the endpoint down or slow, an answer that is not a node list, a name that does not resolve) keeps the last list,
 * and is logged once, as a WARNING naming the source and why, until a question succeeds again, which is logged
 * once too: an endpoint away for an hour is one line, not 120.
 */
public final class DiscoveryPoller implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.msm.discovery");
    /** The least time between two questions {@link #refreshSoon} asks off schedule. */
    static final long REFRESH_GAP_MILLIS = 5000;
    /** How long {@link #close()} waits for the thread to end. */
    static final long END_MILLIS = 2000;

    private final NodeDiscovery source;
    private final SSLContext tls;
    private final long timeoutMillis;
    private final String logPrefix;
    private final Consumer<List<MemcachedNode>> onChange;
    private final DaemonThreads threads;
    private final ScheduledThreadPoolExecutor executor;
    private final AtomicLong lastRefresh = new AtomicLong(System.nanoTime() - REFRESH_GAP_MILLIS * 2_000_000L);
    /** The socket of a question under way, closed by {@link #close()}. */
    private volatile Socket asking;
    /** Only the poller's thread reads and writes these after {@link #first}. */
    private List<MemcachedNode> last;
    private boolean failing;

    /**
     * @param tls the TLS context when {@code tls="true"} (the endpoint is asked over TLS too)
     * @param timeoutMillis bounds one question to an endpoint (connect, handshake and answer)
     * @param contextName names the thread and every log line
     * @param onChange told each new node list; must not throw (what it throws is logged)
     */
    public DiscoveryPoller(NodeDiscovery source, Optional<SSLContext> tls, long timeoutMillis, String contextName,
            Consumer<List<MemcachedNode>> onChange) {
        this.source = source;
        this.tls = tls.orElse(null);
        this.timeoutMillis = timeoutMillis;
        this.logPrefix = "[" + contextName + "] ";
        this.onChange = onChange;
        this.threads = new DaemonThreads("msm-discovery-" + contextName);
        this.executor = new ScheduledThreadPoolExecutor(1, threads);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * Asks once, on the caller's thread (the start).
     *
     * @return the nodes, never empty, in the order of their ids
     * @throws DiscoveryException the source gave no node list; the message names it and says why
     */
    public synchronized List<MemcachedNode> first() throws DiscoveryException {
        last = ask();
        return last;
    }

    /** From now on asks every {@code discoveryInterval} seconds. */
    public void start() {
        long interval = TimeUnit.SECONDS.toMillis(source.intervalSeconds());
        executor.scheduleWithFixedDelay(this::poll, interval, interval, TimeUnit.MILLISECONDS);
    }

    /**
     * Asks soon, off schedule: a request met a node id this Tomcat does not know, which another Tomcat may know from a
     * newer answer. At most once per {@link #REFRESH_GAP_MILLIS}; never waits.
     */
    public void refreshSoon() {
        long now = System.nanoTime();
        long before = lastRefresh.get();
        if (now - before < TimeUnit.MILLISECONDS.toNanos(REFRESH_GAP_MILLIS) || !lastRefresh.compareAndSet(before, now)) {
            return;
        }
        try {
            executor.execute(this::poll);
        } catch (RejectedExecutionException closing) {
            // closed meanwhile
        }
    }

    private List<MemcachedNode> ask() throws DiscoveryException {
        return NodeQuestions.ask(source, tls, timeoutMillis, s -> asking = s);
    }

    /** One question on the poller's thread. */
    private synchronized void poll() {
        List<MemcachedNode> nodes;
        try {
            nodes = ask();
        } catch (DiscoveryException e) {
            if (!failing && !executor.isShutdown()) {
                failing = true;
                LOG.log(Level.WARNING, () -> logPrefix + "memcachedNodes: " + e.getMessage() + "; the nodes stay "
                        + last + " until it answers (logged once)");
            }
            return;
        }
        if (failing) {
            failing = false;
            LOG.log(Level.WARNING, () -> logPrefix + "memcachedNodes: " + source + " answers again");
        }
        if (!nodes.equals(last) && !executor.isShutdown()) { // (a question a close could not cut: no change after)
            try {
                onChange.accept(nodes);
                last = nodes;
            } catch (RuntimeException | Error e) { // asked again next time; the thread goes on
                LOG.log(Level.WARNING, logPrefix + "memcachedNodes: taking the nodes " + nodes + " failed", e);
            }
        }
    }

    /** Stops asking: a question under way is cut (its socket closed); waits a bounded time for the thread. */
    @Override
    public void close() {
        executor.shutdownNow();
        Socket s = asking;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        threads.awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(END_MILLIS));
    }
}
