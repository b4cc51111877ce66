package io.msm.engine;

import io.msm.MsmException;
import io.msm.config.MsmConfig;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.store.MemcachedSessionStore;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.io.IOException;
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
    /** A stored copy is refreshed when it would expire less than this before Tomcat's expiry. */
    static final long EXPIRY_MARGIN_MILLIS = 1000;
    /** Prefix of the key of a session's lock (non-sticky mode). */
    static final String LOCK_PREFIX = "lock:";
    /** Prefix of the key of a session's secondary copy (non-sticky mode). */
    static final String BAK_PREFIX = "bak:";
    /** Blob note naming the webapp a session belongs to. */
    static final String OWNER_NOTE = "io.msm.owner";

    private final EngineBase base;
    private final MsmConfig config;
    private final EngineContext ctx;
    private final MsmStatistics stats;
    private final EngineThreads threads;
    private final NodeHealth health;
    private final UnsavedSessions unsaved;
    private final IdleSessionCache idle;
    private final SessionEnds ends;
    private final SessionDecoder decoder;
    private final SessionLoader loader;
    private final SessionWriter writer;
    /** Ends sessions that time out while no Tomcat holds them (sessionDestroyed once in the cluster). */
    private final ExpiryWatch expiry;
    private final SessionMode mode;
    private final SessionRunner runner;
    private final Routing routing;
    private final SessionLifecycle lifecycle;

    private SessionEngine(EngineBase base) {
        this.base = base;
        this.config = base.config;
        this.ctx = base.ctx;
        this.stats = base.stats;
        this.threads = base.threads;
        this.health = base.health;
        this.unsaved = base.unsaved;
        this.idle = base.idle;
        SecondaryCopies secondaries = base.sticky ? null : new SecondaryCopies(base);
        this.ends = new SessionEnds(base, secondaries);
        this.decoder = new SessionDecoder(base);
        this.loader = new SessionLoader(base, ends, secondaries, decoder);
        this.writer = new SessionWriter(base, ends, secondaries);
        this.expiry = new ExpiryWatch(this, ctx);
        StickyMode sticky = base.sticky ? new StickyMode(base, writer) : null;
        this.mode = sticky != null ? sticky
                : new NonStickyMode(base, writer, secondaries, new SessionLocks(base, secondaries), expiry);
        this.runner = new SessionRunner(base, mode, ends, writer);
        if (sticky != null) {
            sticky.takeovers(expiry, runner::retire);
        }
        this.routing = new Routing(base, mode, ends);
        this.lifecycle = new SessionLifecycle(base, mode, runner, ends, expiry);
        health.onRecovered(runner::nodeRecovered);
        threads.prober().scheduleWithFixedDelay(() -> health.probeSuspects(this::housekeeping), PROBE_INTERVAL_MILLIS,
                PROBE_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts an engine: builds the transcoder, connects to every node and waits (at most {@code operationTimeout})
     * for the connections, so the first requests find the nodes up.
     *
     * @throws MsmException if the transcoder cannot be built or the clients cannot be created
     */
    public static SessionEngine start(MsmConfig config, EngineContext ctx) {
        SessionEngine engine = new SessionEngine(new EngineBase(config, ctx, listener -> {
            try {
                return new MemcachedSessionStore(config, listener);
            } catch (IOException e) {
                throw new MsmException("[" + ctx.name() + "] cannot create memcached clients for "
                        + config.nodes() + ": " + e.getMessage(), e);
            }
        }, true));
        engine.health.awaitConnections(config.operationTimeoutMillis());
        return engine;
    }

    /** Starts an engine on a given store, without a connection watch (tests). */
    static SessionEngine start(MsmConfig config, EngineContext ctx,
            Function<MemcachedSessionStore.ConnectionListener, SessionStore> storeFactory) {
        SessionEngine engine = new SessionEngine(new EngineBase(config, ctx, storeFactory, false));
        engine.health.awaitConnections(0);
        return engine;
    }

    // ====================================================================== ids and nodes (see Routing)

    public MsmConfig config() {
        return config;
    }

    public MsmStatistics statistics() {
        return stats;
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

    /**
     * Where a session held by this Tomcat should live: with this Tomcat's jvmRoute and on an available node.
     *
     * @return the new id, or {@code null} if {@code id} is right as it is (or not an msm id)
     */
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

    // ====================================================================== locks (non-sticky)

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

    /**
     * lockingMode="auto" learns from each request that used a session: a path takes no lock once
     * {@value LockingPaths#UNCHANGED_TO_LEARN} requests on it in a row left the session unchanged, and locks for good
     * once a request on it changed the session (see {@link LockingPaths}).
     */
    public void learn(String path, boolean changed) {
        if (mode.locks() != null) {
            mode.locks().learn(path, changed);
        }
    }

    /**
     * Takes the lock of session {@code id} (non-sticky; see {@link SessionLocks#lock}), renewed while the request runs
     * until {@link #unlock(SessionLock)}.
     *
     * @return the lock, or {@code null} if it could not be taken in time or no node is available for it (counted);
     *         always {@code null} in sticky mode
     */
    public SessionLock lock(String id) {
        return mode.locks() == null ? null : mode.locks().lock(id);
    }

    /** Releases a lock; only if it is still this owner's (a lock that expired and was taken by another stays). */
    public void unlock(SessionLock lock) {
        if (mode.locks() != null) {
            mode.locks().unlock(lock);
        }
    }

    // ====================================================================== load

    /**
     * Reads a session this Tomcat does not hold. Never throws: every failure is a {@link LoadResult} status, logged
     * and counted.
     */
    public LoadResult load(String id) {
        return loader.load(id);
    }

    /** The copy hash of the session in {@code blob} ({@link BlobCodec#copyHash}); {@code 0} if none or unreadable. */
    long storedCopyHash(String id, byte[] blob) {
        return decoder.storedCopyHash(id, blob);
    }

    /** {@code readWrite}, non-sticky: the last access its old-format validity record dates; {@code -1} otherwise. */
    long legacyAccessed(String id, String node) {
        return loader.legacyAccessed(id, node);
    }

    /** The timeout of the session in {@code blob} (a copy the timeout watch read); {@code null} if unreadable. */
    Integer storedTimeout(String id, byte[] blob) {
        return decoder.storedTimeout(id, blob);
    }

    /** The session in a copy the timeout watch read (see {@link SessionDecoder#decodeRead}). */
    LoadResult decodeRead(String id, byte[] blob) {
        return decoder.decodeRead(id, blob);
    }

    /**
     * Whether memcached may hold session {@code id}, to choose among several session cookies of one request: one get
     * of its primary copy, or (non-sticky, its node unavailable) of its secondary copy; nothing is deserialized.
     * {@code false} for an id of another configuration, a session that ended here, or one no available node has.
     */
    public boolean mayExist(String id) {
        return loader.mayExist(id);
    }

    /** Records that {@code session} was just built from {@code loaded}, as memcached holds it. */
    public void loaded(ManagedSession session, LoadResult loaded) {
        loader.loaded(session, loaded);
    }

    // ====================================================================== request lifecycle

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

    /**
     * A request that used {@code session} ended: store the session if it may have changed, or refresh the stored
     * copy's expiry if only read (see {@link SessionLifecycle#requestEnded}).
     *
     * @return {@code true} if a change was stored before returning (synchronous and non-sticky mode)
     */
    public boolean requestEnded(ManagedSession session) {
        return lifecycle.requestEnded(session);
    }

    /**
     * The response of a request that uses {@code session} may reach the client while the request still runs: stored
     * now where a request waits for its write (see {@link SessionLifecycle#responseLeaving}).
     *
     * @return {@code true} if the session's stored form changed now, or could not be stored
     */
    public boolean responseLeaving(ManagedSession session) {
        return lifecycle.responseLeaving(session);
    }

    /**
     * {@code true} if the session's latest state is not in memcached (its last write failed). Non-sticky mode then
     * moves the session to a live node and calls {@link #storeNow(ManagedSession)} before the response.
     */
    public boolean isUnsaved(ManagedSession session) {
        return unsaved.contains(session);
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

    /**
     * The application gave a session a new id (a login's session-fixation protection, {@code changeSessionId()}):
     * the ids it had are dead here for good, never loaded again even if a copy is left in memcached (the new id's
     * write deletes the last one; copies under older ids were deleted when the session moved, or are pending).
     */
    public void idsAbandoned(Collection<String> abandoned, int maxInactiveSeconds) {
        ends.endAll(abandoned, maxInactiveSeconds);
    }

    /** Seconds memcached keeps a copy beyond the session's own timeout (clock skew, memcached's 1 s resolution). */
    static int slackSeconds(int maxInactiveSeconds) {
        return Math.max(2, Math.min(60, maxInactiveSeconds / 10));
    }

    /** Forgets what memcached has dropped anyway: ended ids, idle attributes, refresh times (periodically). */
    private void housekeeping() {
        long now = ctx.clock().getAsLong();
        if (idle != null) {
            idle.purge(now);
        }
        mode.purge(now);
        ends.purge(now);
    }

    // ====================================================================== takeovers (sticky)

    /**
     * {@code true} if {@code id} names another Tomcat's jvmRoute (sticky mode with a jvmRoute): the balancer sent the
     * request here, and the session may have moved between Tomcats since this one last served it.
     */
    public boolean isOtherTomcats(String id) {
        return mode.takeovers() != null && mode.takeovers().isOtherTomcats(id);
    }

    /**
     * This Tomcat took over the session stored as {@code formerId} in the copy {@code copyHash} names (it loaded
     * it and gave it its own jvmRoute): leaves a notice for the Tomcat of the former id's route, which may still hold
     * a copy, before the response (the user's next request may go there). Never throws.
     */
    public void tookOver(String formerId, long copyHash) {
        if (mode.takeovers() != null) {
            mode.takeovers().tookOver(formerId, copyHash);
        }
    }

    /**
     * Reads this Tomcat's takeover notices on every available node and drops the sessions other Tomcats took over
     * (a few times a second, and before a request that names another Tomcat's route looks its session up). Never
     * throws.
     */
    public void checkTakeovers() {
        if (mode.takeovers() != null) {
            mode.takeovers().checkTakeovers();
        }
    }

    /**
     * Sticky: a request still running here ended {@code s}, a copy another Tomcat took over meanwhile (the balancer
     * gave up on this Tomcat and sent the user on): the Tomcat that took it is told to end it, so a logout anywhere
     * ends the session everywhere. One append, on the request's thread, bounded by {@code operationTimeout}.
     */
    public void endedAfterTakeover(ManagedSession s) {
        if (mode.takeovers() != null) {
            mode.takeovers().endedAfterTakeover(s);
        }
    }

    /**
     * Drops a session this Tomcat holds because another Tomcat serves it now (sticky): it is never written, touched
     * or deleted from here again, its id is not loaded here again (until this Tomcat takes the session back), and the
     * container forgets it. Not an end: no listener is told. Returns once a write of it already running ended (at
     * most {@code operationTimeout}).
     */
    public void retire(ManagedSession s) {
        runner.retire(s);
        // a write of this copy already on its way ends first (bounded): the session may be taken back under this id
        // at once, and that copy's write must land after it
        SessionRunner.awaitRunnerIdle(s.state(), config.operationTimeoutMillis());
    }

    // ====================================================================== node health

    /** Ids of nodes currently available, for status pages and tests. */
    public List<String> availableNodes() {
        return health.availableNodes();
    }

    /** Sessions whose latest state is not in memcached yet (their node was unavailable). */
    public int unsavedSessions() {
        return unsaved.size();
    }

    /** Keys waiting to be deleted until their node is available again. */
    public int pendingDeletes() {
        return ends.pendingDeletes();
    }

    /** How many ended ids are kept in memory (tests). */
    int endedIds() {
        return ends.endedIds();
    }

    /** Backups queued or running. */
    public int pendingBackups() {
        return threads.pending();
    }

    /**
     * Waits until no backup is queued or running (tests, and before measuring memcached's counters).
     *
     * @return {@code true} if idle within {@code maxMillis}
     */
    public boolean awaitIdle(long maxMillis) {
        return threads.awaitIdle(maxMillis);
    }

    // ====================================================================== for the timeout watch

    /** The watch that ends sessions timing out while no Tomcat holds them. */
    public ExpiryWatch expiry() {
        return expiry;
    }

    /** The engine's clock (milliseconds since the epoch). */
    public long now() {
        return ctx.clock().getAsLong();
    }

    SessionStore store() {
        return base.store;
    }

    boolean isAvailable(String nodeId) {
        return base.availability.isAvailable(nodeId);
    }

    /** The memcached key of session {@code id}. */
    String storageKey(String id) {
        return base.key(id);
    }

    /** The names of this webapp's keys. */
    StorageKeys keys() {
        return base.keys;
    }

    /** The node of session {@code id}, or {@code null} if it is not an msm id. */
    String nodeOf(String id) {
        SessionId p = base.ids.parse(id);
        return p == null ? null : p.nodeId();
    }

    /** The jvmRoute in session {@code id}, or {@code null}. */
    String routeOf(String id) {
        SessionId p = base.ids.parse(id);
        return p == null ? null : p.jvmRoute();
    }

    void reportStoreFailure(StoreException e) {
        health.storeFailed(e, config.operationTimeoutMillis());
    }

    // ====================================================================== stop

    /**
     * Stores what is not yet stored of the given sessions (e.g. changes made by passivation listeners), waits for
     * all backups (bounded), and closes the memcached clients. Sessions are not deleted: they continue on other
     * Tomcats.
     */
    public void stop(Collection<? extends ManagedSession> residents) {
        expiry.leave(residents);
        for (ManagedSession s : residents) {
            if (s.isActive() && (s.state().takeUnconsideredChanges() || unsaved.contains(s))) {
                runner.run(s, SessionRunner.Work.WRITE, false);
            }
        }
        threads.stopping(true);
        runner.flushDelayed();
        threads.finishBackups(Math.max(2000, 3L * config.operationTimeoutMillis()), base.logPrefix);
        close();
    }

    /** Stops at once: abandons queued backups and closes the clients. */
    @Override
    public void close() {
        threads.stopping(true);
        if (idle != null) {
            idle.clear();
        }
        expiry.close();
        threads.shutdownNow();
        mode.close();
        if (base.watch != null) {
            base.watch.close();
        }
        base.store.close();
        threads.awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(THREADS_END_MILLIS));
    }
}
