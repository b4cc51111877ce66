package io.msm.engine;

import io.msm.MsmException;
import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.discovery.DiscoveryPoller;
import io.msm.stats.MsmStatistics;
import io.msm.store.MemcachedSessionStore;
import io.msm.store.SessionStore;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The container-neutral session engine behind an msm manager: it names new sessions, loads sessions a Tomcat does
 * not hold, decides after each request whether a session must be written or its expiry refreshed, writes on the
 * backup threads (or the request thread when {@code sessionBackupAsync="false"}, and always in non-sticky mode),
 * moves sessions off unavailable nodes, and re-stores what could not be stored once a node returns.
 *
 * <p>A facade over parts that each read alone: the {@link SessionMode} (sticky or non-sticky), the
 * {@link SessionLoader}, the {@link SessionWriter}, the per-session {@link SessionRunner}, {@link SessionEnds},
 * {@link NodeHealth}, and the shared {@link EngineBase}. Per session, all memcached work runs through one runner at a
 * time, in order; a backup requested while another runs is coalesced into a follow-up run that serializes the session
 * again, so the final state is always written, never skipped.
 */
public final class SessionEngine implements AutoCloseable {

    /** How often suspect (timed-out) nodes are probed. */
    static final long PROBE_INTERVAL_MILLIS = 500;
    /** How long {@link #close()} waits for the backup and probe threads to end once the store is closed. */
    static final long THREADS_END_MILLIS = 2000;
    /** Prefix of the key of a session's lock (non-sticky mode). */
    static final String LOCK_PREFIX = "lock:";
    /** Prefix of the key of a session's secondary copy (non-sticky mode). */
    static final String BAK_PREFIX = "bak:";
    /** Blob note naming the webapp a session belongs to. */
    static final String OWNER_NOTE = "io.msm.owner";

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    private final EngineBase base;
    private final MsmConfig config;
    private final SessionEnds ends;
    private final SessionDecoder decoder;
    private final SessionLoader loader;
    private final SessionWriter writer;
    /** Ends sessions that time out while no Tomcat holds them (sessionDestroyed once in the cluster). */
    private final ExpiryWatch expiry;
    private final SessionMode mode;
    /** Non-sticky mode's secondary copies; {@code null} in sticky mode. */
    private final SecondaryCopies secondaries;
    private final SessionRunner runner;
    private final Routing routing;
    private final SessionLifecycle lifecycle;
    /** With {@code memcachedNodes="discover:..."} or {@code "dns:..."}: asks for the nodes; else {@code null}. */
    private volatile DiscoveryPoller discovery;

    SessionEngine(EngineBase base) {
        this.base = base;
        this.config = base.config;
        this.expiry = new ExpiryWatch(this, base.ctx);
        // the mode's choice: the one place that asks which mode this is; secondary copies and locks only non-sticky
        StickyMode sticky = base.sticky ? new StickyMode(base) : null;
        // deletes waiting for their node: of primary keys (made by ends, below) and of secondary copies
        WaitingDeletes waiting = new WaitingDeletes(base, this::deletePrimaryNow);
        this.secondaries = sticky != null ? null : new SecondaryCopies(base, waiting);
        this.mode = sticky != null ? sticky
                : new NonStickyMode(base, secondaries, new SessionLocks(base, secondaries), expiry);
        this.ends = new SessionEnds(base, mode, waiting);
        this.decoder = new SessionDecoder(base);
        this.loader = new SessionLoader(base, ends, mode, decoder);
        this.writer = new SessionWriter(base, ends, mode);
        this.runner = new SessionRunner(base, mode, ends, writer);
        if (sticky != null) {
            sticky.takeovers(expiry, runner::retire);
        }
        this.routing = new Routing(base, mode, ends);
        this.lifecycle = new SessionLifecycle(base, mode, runner, ends, expiry);
        base.health.onRecovered(runner::nodeRecovered);
        base.health.onAdded(runner::nodeAdded);
        base.threads.prober().scheduleWithFixedDelay(() -> base.health.probeSuspects(this::housekeeping),
                PROBE_INTERVAL_MILLIS, PROBE_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Makes a waiting delete of the primary key of {@code id} (see {@link SessionEnds#deletePrimaryNow}). */
    private boolean deletePrimaryNow(String id) {
        return ends.deletePrimaryNow(id);
    }

    /**
     * Starts an engine: builds the transcoder, connects to every node and waits (at most {@code operationTimeout})
     * for the connections, so the first requests find the nodes up.
     *
     * @throws MsmException if the transcoder cannot be built or the clients cannot be created
     */
    public static SessionEngine start(MsmConfig config, EngineContext ctx) {
        SessionEngine engine = config.discovery().isPresent() ? DiscoveredNodes.start(config, ctx)
                : new SessionEngine(new EngineBase(config, ctx,
                        listener -> EngineBase.memcachedStore(config, config.nodes(), ctx, listener)));
        engine.base.health.awaitConnections(config.operationTimeoutMillis());
        return engine;
    }

    /** Starts an engine on a given store (tests). */
    static SessionEngine start(MsmConfig config, EngineContext ctx,
            Function<MemcachedSessionStore.ConnectionListener, SessionStore> storeFactory) {
        SessionEngine engine = new SessionEngine(new EngineBase(config, ctx, storeFactory));
        engine.base.health.awaitConnections(0);
        return engine;
    }

    public MsmConfig config() {
        return config;
    }

    /**
     * The memcached nodes are now {@code nodes} (discovery, or a configuration change): an added node is connected
     * to and takes new sessions after {@code joinDelayMillis}; a removed one is closed, and its sessions move at their
     * next request as when a node dies (non-sticky: loaded from their secondary copy). Logged as a WARNING naming what
     * was added and removed. Text protocol only.
     *
     * @throws IllegalArgumentException an empty list, none primary, or an id twice
     * @throws UnsupportedOperationException the binary protocol
     */
    public void changeNodes(List<MemcachedNode> nodes, long joinDelayMillis) {
        if (base.threads.stopping()) {
            return; // stopping or stopped: its store takes no node any more
        }
        io.msm.node.LiveNodes.Change c = base.changeNodes(nodes, joinDelayMillis);
        c.gone().forEach(n -> ends.nodeRemoved(n.id()));
        if (!c.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, () -> base.logPrefix + "memcached nodes changed: " + c);
        }
    }

    /** The memcached nodes now. */
    public List<MemcachedNode> nodes() {
        return base.nodes.current().nodes();
    }

    public MsmStatistics statistics() {
        return base.stats;
    }

    /** A fresh state object for a new or loaded session. */
    public SessionState newState() {
        return new SessionState();
    }

    /** The id of a new session: {@code random} plus an available node and this Tomcat's jvmRoute (sticky). */
    public String newSessionId(String random) {
        return routing.newSessionId(random);
    }

    /** {@code true} if {@code id} is a well-formed session id of this configuration (routes to a known node). */
    public boolean isValidId(String id) {
        return routing.isValidId(id);
    }

    /** Where a session held here should live now; {@code null} if {@code id} is right as it is (see {@link Routing}). */
    public String relocate(String id) {
        return routing.relocate(id);
    }

    /** {@link #relocate(String)} for a resident session, whose parsed id is kept (see {@link Routing}). */
    public String relocate(ManagedSession session, String id) {
        return routing.relocate(session, id);
    }

    /** The adapter moved a session from {@code oldId} to {@code newId} (see {@link #relocate(String)}): counted. */
    public void relocated(String oldId, String newId) {
        routing.relocated(oldId, newId);
    }

    /** {@code true} if {@code requestUriIgnorePattern} is set (else {@link #isIgnored(String)} is always false). */
    public boolean ignoresSomePaths() {
        return config.requestUriIgnorePattern().isPresent();
    }

    /** {@code true} if a request for {@code path} must neither load nor store sessions. */
    public boolean isIgnored(String path) {
        Pattern p = config.requestUriIgnorePattern().orElse(null);
        return p != null && path != null && p.matcher(path).matches();
    }

    /** Whether some requests take their session's lock (non-sticky with a {@code lockingMode} other than none). */
    public boolean locks() {
        return mode.locks() != null && mode.locks().locks();
    }

    /** Whether {@link #learn(String, boolean)} wants the requests' paths ({@code lockingMode="auto"}, non-sticky). */
    public boolean learnsPaths() {
        return mode.locks() != null && mode.locks().learnsPaths();
    }

    /** Whether a request for {@code path} takes its session's lock, by {@code lockingMode} (never in sticky mode). */
    public boolean needsLock(String path) {
        return mode.locks() != null && mode.locks().needsLock(path);
    }

    /** lockingMode="auto" learns from each request that used a session (see {@link LockingPaths}). */
    public void learn(String path, boolean changed) {
        if (mode.locks() != null) {
            mode.locks().learn(path, changed);
        }
    }

    /** The lock of session {@code id} (see {@link SessionLocks#lock}); {@code null} if not taken, and in sticky mode. */
    public SessionLock lock(String id) {
        return mode.locks() == null ? null : mode.locks().lock(id);
    }

    /** Releases a lock; only if it is still this owner's (a lock that expired and was taken by another stays). */
    public void unlock(SessionLock lock) {
        if (mode.locks() != null) {
            mode.locks().unlock(lock);
        }
    }

    /** Reads a session this Tomcat does not hold. Never throws: every failure is a {@link LoadResult} status. */
    public LoadResult load(String id) {
        return loader.load(id);
    }

    /** Whether memcached may hold session {@code id} (one get, nothing deserialized; see {@link SessionLoader}). */
    public boolean mayExist(String id) {
        return loader.mayExist(id);
    }

    /** Records that {@code session} was just built from {@code loaded}, as memcached holds it. */
    public void loaded(ManagedSession session, LoadResult loaded) {
        loader.loaded(session, loaded);
    }

    /** A new session was created in this Tomcat; it is stored at the end of the request. */
    public void created(ManagedSession session) {
        lifecycle.created(session);
    }

    /** {@code session} left this Tomcat's memory (see {@link SessionLifecycle#released}). */
    public void released(ManagedSession session) {
        lifecycle.released(session);
    }

    /** A request started using {@code session}. */
    public void requestStarted(ManagedSession session) {
        session.state().requestStarted();
    }

    /** A request that used {@code session} ended: {@code true} if a change was stored before returning. */
    public boolean requestEnded(ManagedSession session) {
        return lifecycle.requestEnded(session);
    }

    /** The response may leave before the request ends: {@code true} if the stored form changed now, or failed. */
    public boolean responseLeaving(ManagedSession session) {
        return lifecycle.responseLeaving(session);
    }

    /**
     * {@code true} if the session's latest state is not in memcached (its last write failed). Non-sticky mode then
     * moves the session to a live node and calls {@link #storeNow(ManagedSession)} before the response.
     */
    public boolean isUnsaved(ManagedSession session) {
        return base.unsaved.contains(session);
    }

    /** Stores the session on this thread (waiting at most {@code operationTimeout}); {@code true} if stored. */
    public boolean storeNow(ManagedSession session) {
        return lifecycle.storeNow(session);
    }

    /** Stores the session now, on a backup thread (e.g. after it moved to another node outside a request end). */
    public void store(ManagedSession session) {
        lifecycle.store(session);
    }

    /** The session was invalidated or expired here: deleted from memcached (see {@link SessionLifecycle#expired}). */
    public void expired(ManagedSession session) {
        lifecycle.expired(session);
    }

    /** {@link #expired(ManagedSession)} for a session msm moved from {@code formerIds}: those end too. */
    public void expired(ManagedSession session, Collection<String> formerIds) {
        lifecycle.expired(session, formerIds);
    }

    /** The application gave a session a new id: the ids it had are never loaded here again. */
    public void idsAbandoned(Collection<String> abandoned, int maxInactiveSeconds) {
        ends.endAll(abandoned, maxInactiveSeconds);
    }

    /** Forgets what memcached has dropped anyway: ended ids, idle attributes, refresh times (periodically). */
    private void housekeeping() {
        long now = base.ctx.clock().getAsLong();
        if (base.idle != null) {
            base.idle.purge(now);
        }
        mode.purge(now);
        ends.purge(now);
    }

    /** {@code true} if {@code id} names another Tomcat's jvmRoute (sticky with a jvmRoute; see {@link Takeovers}). */
    public boolean isOtherTomcats(String id) {
        return mode.takeovers() != null && mode.takeovers().isOtherTomcats(id);
    }

    /** This Tomcat took over the session stored as {@code formerId}: its former Tomcat is told. Never throws. */
    public void tookOver(String formerId, long copyHash) {
        if (mode.takeovers() != null) {
            mode.takeovers().tookOver(formerId, copyHash);
        }
    }

    /** Reads this Tomcat's takeover notices and drops the sessions other Tomcats took over. Never throws. */
    public void checkTakeovers() {
        if (mode.takeovers() != null) {
            mode.takeovers().checkTakeovers();
        }
    }

    /** Sticky: a request here ended {@code s}, which another Tomcat took over meanwhile: that Tomcat is told. */
    public void endedAfterTakeover(ManagedSession s) {
        if (mode.takeovers() != null) {
            mode.takeovers().endedAfterTakeover(s);
        }
    }

    /** Drops a session another Tomcat serves now (not an end); returns once its running write ended (bounded). */
    public void retire(ManagedSession s) {
        runner.retire(s);
        // a write of this copy already on its way ends first (bounded): the session may be taken back under this id
        // at once, and that copy's write must land after it
        SessionRunner.awaitRunnerIdle(s.state(), config.operationTimeoutMillis());
    }

    /** Ids of nodes currently available, for status pages and tests. */
    public List<String> availableNodes() {
        return base.health.availableNodes();
    }

    /** Sessions whose latest state is not in memcached yet (their node was unavailable). */
    public int unsavedSessions() {
        return base.unsaved.size();
    }

    /** Keys waiting to be deleted until their node is available again. */
    public int pendingDeletes() {
        return ends.pendingDeletes();
    }

    /** Deletes of non-sticky secondary copies waiting for their node (tests). */
    int pendingSecondaryDeletes() {
        return secondaries == null ? 0 : secondaries.pendingDeletes();
    }

    /** How many ended ids are kept in memory (tests). */
    int endedIds() {
        return ends.endedIds();
    }

    /** Backups queued or running. */
    public int pendingBackups() {
        return base.threads.pending();
    }

    /** Waits until no backup is queued or running; {@code true} if idle within {@code maxMillis}. */
    public boolean awaitIdle(long maxMillis) {
        return base.threads.awaitIdle(maxMillis);
    }

    /** The watch that ends sessions timing out while no Tomcat holds them. */
    public ExpiryWatch expiry() {
        return expiry;
    }

    /** The engine's clock (milliseconds since the epoch). */
    public long now() {
        return base.ctx.clock().getAsLong();
    }

    /** What the parts share (the timeout watch reads the store, keys and nodes through it). */
    /** Discovery: {@code poller} keeps the nodes up to date from now on, and is asked again for an unknown node. */
    void discoverWith(DiscoveryPoller poller) {
        discovery = poller;
        base.unknownNode = poller::refreshSoon;
    }

    EngineBase base() {
        return base;
    }

    SessionDecoder decoder() {
        return decoder;
    }

    SessionLoader loader() {
        return loader;
    }

    /** The mode's decisions (the timeout watch, built before the mode, asks it when it checks or hands over). */
    SessionMode mode() {
        return mode;
    }

    /**
     * Stores what is not yet stored of the given sessions (e.g. changes made by passivation listeners), waits for
     * all backups (bounded), and closes the memcached clients. Sessions are not deleted: they continue on other
     * Tomcats.
     */
    public void stop(Collection<? extends ManagedSession> residents) {
        expiry.leave(residents);
        for (ManagedSession s : residents) {
            if (s.isActive() && (s.state().takeUnconsideredChanges() || base.unsaved.contains(s))) {
                runner.run(s, SessionRunner.Work.WRITE, false);
            }
        }
        base.threads.stopping(true);
        runner.flushDelayed();
        base.threads.finishBackups(Math.max(2000, 3L * config.operationTimeoutMillis()), base.logPrefix);
        close();
    }

    /** Stops at once: abandons queued backups and closes the clients. */
    @Override
    public void close() {
        DiscoveryPoller d = discovery;
        if (d != null) {
            d.close(); // first: no node list change while the rest stops
        }
        base.threads.stopping(true);
        if (base.idle != null) {
            base.idle.clear();
        }
        expiry.close();
        base.threads.shutdownNow();
        mode.close();
        base.store.close();
        base.threads.awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(THREADS_END_MILLIS));
    }
}
