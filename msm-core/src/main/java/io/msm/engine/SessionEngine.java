package io.msm.engine;

import io.msm.MsmException;
import io.msm.codec.BlobCodec;
import io.msm.internal.LogIds;
import io.msm.codec.SessionData;
import io.msm.codec.BlobSealer;
import io.msm.codec.UnreadableBlobException;
import io.msm.codec.UntrustedBlobException;
import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.internal.DaemonThreads;
import io.msm.node.ConnectionWatch;
import io.msm.node.NodeAvailability;
import io.msm.node.NodeSelector;
import io.msm.node.SessionIdFormat;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderContext;
import io.msm.spi.TranscoderException;
import io.msm.spi.TranscoderFactory;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.stats.MsmStatistics.Timer;
import io.msm.store.Expiration;
import io.msm.store.MemcachedSessionStore;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Collection;
import java.util.ConcurrentModificationException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The container-neutral session engine behind an msm manager (sticky mode): it names new sessions, loads sessions a
 * Tomcat does not hold, decides after each request whether a session must be written or its expiry refreshed, writes
 * on the backup threads (or the request thread when {@code sessionBackupAsync="false"}), moves sessions off
 * unavailable nodes, and re-stores what could not be stored once a node returns.
 *
 * <p>Per session, all memcached work runs through one <em>runner</em> at a time, in order. A backup requested while
 * another runs for the same session is coalesced into a follow-up run that serializes the session again, so the
 * final state is always written, never skipped.
 */
public final class SessionEngine implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

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
    private final EngineThreads threads;
    private final NodeHealth health;
    /** Non-sticky: the secondary copies; {@code null} in sticky mode. */
    private final SecondaryCopies secondaries;
    private final SessionEnds ends;
    /** Non-sticky: session locks; {@code null} in sticky mode. */
    private final SessionLocks locks;
    /** Sticky with a jvmRoute: sessions moving between Tomcats; {@code null} otherwise. */
    private final Takeovers takeovers;
    private final SessionDecoder decoder;
    private final SessionLoader loader;
    private final SessionWriter writer;
    private final SessionRunner runner;
    private final MsmConfig config;
    private final EngineContext ctx;
    private final String logPrefix;
    private final MsmStatistics stats;
    private final SessionIdFormat ids;
    private final SessionStore store;
    private final NodeAvailability availability;
    private final NodeSelector selector;
    private final SessionAttributesTranscoder transcoder;
    private final byte[] ownerNote;
    /** With sessionProtection: host, context and prefix every blob must name (it replaces the owner note). */
    private final Binding binding;
    /** Sticky mode (the session lives in this Tomcat) or non-sticky (memcached is the authority). */
    private final boolean sticky;
    /** Sessions whose latest state could not be stored; re-stored when their node is available again. */
    private final UnsavedSessions unsaved;
    /** Signs, encrypts and compresses blobs on their way to memcached, and checks them on the way back. */
    private final BlobSealer sealer;
    /** The memcached keys of sessions: prefix and id, or a keyed hash of the id with sessionProtection. */
    private final StorageKeys keys;
    /** Non-sticky: attribute objects of idle sessions, reused by their next load here; {@code null} when off. */
    private final IdleSessionCache idle;
    /** Non-sticky: conditional writes and the tombstones of ended ids. */
    private final Tombstones tombstones;
    /** Sessions memcached-session-manager stored ({@code legacySessions}), or {@code null}. */
    private final LegacyLoads legacy;
    /** {@code legacySessions="readWrite"}: sessions stored as memcached-session-manager stores them, or {@code null}. */
    private final LegacyWrites legacyWrites;
    /** Ends sessions that time out while no Tomcat holds them (sessionDestroyed once in the cluster). */
    private final ExpiryWatch expiry;

    private SessionEngine(EngineBase base) {
        this.base = base;
        this.threads = base.threads;
        this.health = base.health;
        this.config = base.config;
        this.ctx = base.ctx;
        this.logPrefix = base.logPrefix;
        this.stats = base.stats;
        this.ids = base.ids;
        this.store = base.store;
        this.availability = base.availability;
        this.selector = base.selector;
        this.transcoder = base.transcoder;
        this.sealer = base.sealer;
        this.keys = base.keys;
        this.sticky = base.sticky;
        this.idle = base.idle;
        this.ownerNote = base.ownerNote;
        this.binding = base.binding;
        this.unsaved = base.unsaved;
        this.tombstones = base.tombstones;
        this.legacy = base.legacy;
        this.legacyWrites = base.legacyWrites;
        this.secondaries = sticky ? null : new SecondaryCopies(base);
        this.ends = new SessionEnds(base, secondaries);
        this.locks = sticky ? null : new SessionLocks(base, secondaries);
        this.decoder = new SessionDecoder(base);
        this.loader = new SessionLoader(base, ends, secondaries, decoder);
        this.writer = new SessionWriter(base, ends, secondaries);
        this.runner = new SessionRunner(base, ends, writer);
        health.onRecovered(runner::nodeRecovered);
        threads.prober().scheduleWithFixedDelay(() -> health.probeSuspects(this::housekeeping), PROBE_INTERVAL_MILLIS,
                PROBE_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        this.expiry = new ExpiryWatch(this, ctx);
        this.takeovers = sticky && ctx.jvmRoute() != null ? new Takeovers(base, expiry, runner::retire) : null;
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

    // ====================================================================== ids and nodes

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

    /** The id of a new session: {@code random} plus an available node and this Tomcat's jvmRoute. */
    public String newSessionId(String random) {
        return ids.format(random, selector.forNewSession(), route());
    }

    /** The jvmRoute ids carry: this Tomcat's in sticky mode, none in non-sticky mode (any Tomcat serves them). */
    private String route() {
        return sticky ? ctx.jvmRoute() : null;
    }

    /** {@code true} if {@code id} is a well-formed session id of this configuration (routes to a known node). */
    public boolean isValidId(String id) {
        SessionId p = ids.parse(id);
        return p != null && selector.isKnown(p.nodeId());
    }

    /**
     * Where a session held by this Tomcat should live: with this Tomcat's jvmRoute and on an available node (a
     * primary one if any is available).
     *
     * @return the new id, or {@code null} if {@code id} is right as it is (or not an msm id)
     */
    public String relocate(String id) {
        return relocate(ids.parse(id));
    }

    /**
     * {@link #relocate(String)} for a resident session, called at the start and end of each of its requests: its id
     * is parsed once, not on every call.
     *
     * @param id the session's id as the caller read it
     */
    public String relocate(ManagedSession session, String id) {
        SessionState st = session.state();
        SessionId p = st.parsedId;
        if (p == null || !p.id().equals(id)) {
            p = ids.parse(id);
            st.parsedId = p;
        }
        return relocate(p);
    }

    private String relocate(SessionId p) {
        if (p == null) {
            return null;
        }
        String node = config.nodeIdsInSessionIds() ? selector.relocation(p.nodeId()) : null;
        boolean routeChanged = !equalsNullable(p.jvmRoute(), route());
        if (node == null && !routeChanged) {
            return null;
        }
        return ids.format(p.random(), node != null ? node : p.nodeId(), route());
    }

    /** The adapter moved a session from {@code oldId} to {@code newId} (see {@link #relocate(String)}): counted. */
    public void relocated(String oldId, String newId) {
        ends.revive(newId); // a session taken back under an id this Tomcat had dropped
        if (takeovers != null) {
            takeovers.awaitDeferredDelete(newId);
        }
        SessionId from = ids.parse(oldId);
        SessionId to = ids.parse(newId);
        if (from == null || to == null) {
            return;
        }
        if (!from.nodeId().equals(to.nodeId())) {
            stats.count(Counter.NODE_FAILOVERS);
        }
        if (!equalsNullable(from.jvmRoute(), to.jvmRoute())) {
            stats.count(Counter.TOMCAT_FAILOVERS);
        }
    }

    private static boolean equalsNullable(String a, String b) {
        return a == null ? b == null : a.equals(b);
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

    /** The key of the primary copy of session {@code id}, the one written. */
    private String key(String id) {
        return keys.primary(id, 0);
    }

    // ====================================================================== locks (non-sticky)

    /** Whether some requests take their session's lock (non-sticky with a {@code lockingMode} other than none). */
    public boolean locks() {
        return locks != null && locks.locks();
    }

    /** Whether {@link #learn(String, boolean)} wants the requests' paths ({@code lockingMode="auto"}, non-sticky). */
    public boolean learnsPaths() {
        return locks != null && locks.learnsPaths();
    }

    /** Whether a request for {@code path} takes its session's lock, by {@code lockingMode} (never in sticky mode). */
    public boolean needsLock(String path) {
        return locks != null && locks.needsLock(path);
    }

    /**
     * lockingMode="auto" learns from each request that used a session: a path takes no lock once
     * {@value LockingPaths#UNCHANGED_TO_LEARN} requests on it in a row left the session unchanged, and locks for good
     * once a request on it changed the session (see {@link LockingPaths}).
     */
    public void learn(String path, boolean changed) {
        if (locks != null) {
            locks.learn(path, changed);
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
        return locks == null ? null : locks.lock(id);
    }

    /** Releases a lock; only if it is still this owner's (a lock that expired and was taken by another stays). */
    public void unlock(SessionLock lock) {
        if (locks != null) {
            locks.unlock(lock);
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
        stats.count(Counter.SESSIONS_CREATED);
        base.usualMaxInactive = session.maxInactiveInterval();
        session.state().metadataChanged();
    }

    /**
     * Non-sticky: {@code session} left this Tomcat's memory (no request uses it). With {@code idleSessionCache}, its
     * attribute objects are kept for its next load here, if memcached holds exactly what they were written from or
     * read into and nothing is pending.
     */
    public void released(ManagedSession session) {
        if (idle == null) {
            return;
        }
        SessionState st = session.state();
        IdleSessionCache.Version v = st.version;
        st.version = null;
        String id = session.id();
        if (v != null && session.isActive() && st.isStoredAs(id) && !unsaved.contains(session) && st.isSettled()) {
            idle.keep(id, v, ctx.clock().getAsLong(), session.maxInactiveInterval());
        }
    }

    /** A request started using {@code session}. */
    public void requestStarted(ManagedSession session) {
        session.state().requestStarted();
    }

    /**
     * A request that used {@code session} ended: store the session if it may have changed (and its stored form
     * differs), or refresh the stored copy's expiry if only read. In synchronous and non-sticky mode a needed write
     * happens before this method returns (bounded by {@code sessionBackupTimeout} or {@code operationTimeout});
     * otherwise it is queued on the backup threads.
     *
     * @return {@code true} if a change was stored before returning (synchronous and non-sticky mode)
     */
    public boolean requestEnded(ManagedSession session) {
        long now = ctx.clock().getAsLong();
        SessionState st = session.state();
        if (!sticky) {
            expiry.seen(session, now);
        }
        if (st.requestEnded(now)) {
            // non-sticky: the user's next request may reach another Tomcat, so the write completes first
            long hashBefore = st.storedHash;
            boolean storedBefore = st.stored;
            String idBefore = st.storedId;
            boolean wait = !sticky || !config.sessionBackupAsync();
            runner.run(session, SessionRunner.Work.WRITE, wait);
            return wait && (st.storedHash != hashBefore || st.stored != storedBefore
                    || !java.util.Objects.equals(st.storedId, idBefore));
        } else if (writer.needsTouch(session, st, now) || secondaries != null && secondaries.secondaryDue(session, now) || legacyWrites != null && !sticky) {
            runner.run(session, SessionRunner.Work.TOUCH, false); // readWrite: every request dates its access in the validity record
        }
        return false;
    }

    /**
     * The response of a request that uses {@code session} may reach the client while the request still runs (the
     * application flushes or closes it, or writes the last byte of its declared length). In non-sticky and
     * synchronous mode the session is stored now if it may have changed, as it would be at the request's end, so
     * the client cannot send its next request, maybe to another Tomcat, before memcached holds the change. A later
     * call stores it again only if a request accessed it since; the request's end stores what changed after the
     * last call (it serializes the session again and skips the write if nothing did). Sticky asynchronous mode does
     * nothing here.
     *
     * @return {@code true} if the session's stored form changed now, or could not be stored
     */
    public boolean responseLeaving(ManagedSession session) {
        SessionState st = session.state();
        if (sticky && config.sessionBackupAsync() || !st.changedSinceResponseLeft()) {
            return false;
        }
        long hashBefore = st.storedHash;
        boolean storedBefore = st.stored;
        String idBefore = st.storedId;
        runner.run(session, SessionRunner.Work.WRITE, true);
        return st.storedHash != hashBefore || st.stored != storedBefore
                || !java.util.Objects.equals(st.storedId, idBefore) || unsaved.contains(session);
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
        runner.run(session, SessionRunner.Work.WRITE, true);
        return session.state().isStoredAs(session.id()) && !unsaved.contains(session);
    }

    /** Stores the session now, on a backup thread (e.g. after it moved to another node outside a request end). */
    public void store(ManagedSession session) {
        session.state().metadataChanged();
        runner.run(session, SessionRunner.Work.WRITE, false);
    }

    /**
     * The session was invalidated or expired in this Tomcat: delete it from memcached. Synchronous mode deletes
     * before returning (so a logout is effective on every Tomcat at once); asynchronous mode queues it.
     */
    public void expired(ManagedSession session) {
        if (session.state().retired) {
            return; // a copy another Tomcat took over: the session lives on there
        }
        expiry.forget(session.id());
        unsaved.remove(session);
        SessionState st = session.state();
        st.version = null;
        if (idle != null) {
            idle.forget(session.id());
        }
        long keepUntil = ends.keepTombstoneUntil(session.maxInactiveInterval());
        ends.end(session.id(), keepUntil);
        String stored = st.storedId;
        if (stored != null) {
            ends.end(stored, keepUntil);
        }
        for (String attempted : st.attempted) {
            ends.end(attempted, keepUntil);
        }
        // Always through the runner: a write still running for this session finishes first, then is deleted.
        runner.run(session, SessionRunner.Work.DELETE, !sticky || !config.sessionBackupAsync());
    }

    /**
     * {@link #expired(ManagedSession)} for a session msm moved from other ids (failovers): copies under those are
     * deleted too (a Tomcat that still served a late request under one may have written it again), and never loaded
     * here again.
     */
    public void expired(ManagedSession session, Collection<String> formerIds) {
        if (session.state().retired) {
            return; // ids of a copy another Tomcat took over: they are that Tomcat's to end
        }
        session.state().attempted.addAll(formerIds);
        idsAbandoned(formerIds, session.maxInactiveInterval());
        expired(session);
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

    // ====================================================================== the per-session runner



    /** Forgets what memcached has dropped anyway: ended ids, idle attributes, refresh times (periodically). */
    private void housekeeping() {
        long now = ctx.clock().getAsLong();
        if (idle != null) {
            idle.purge(now);
        }
        if (secondaries != null) {
            secondaries.purge(now);
        }
        if (!sticky && !unsaved.isEmpty()) {
            unsaved.purge(now, ctx.residents());
        }
        ends.purge(now);
    }

    // ====================================================================== takeovers (sticky)

    /**
     * {@code true} if {@code id} names another Tomcat's jvmRoute (sticky mode with a jvmRoute): the balancer sent the
     * request here, and the session may have moved between Tomcats since this one last served it.
     */
    public boolean isOtherTomcats(String id) {
        return takeovers != null && takeovers.isOtherTomcats(id);
    }

    /**
     * This Tomcat took over the session stored as {@code formerId} in the copy {@code copyHash} names (it loaded
     * it and gave it its own jvmRoute): leaves a notice for the Tomcat of the former id's route, which may still hold
     * a copy, before the response (the user's next request may go there). Never throws.
     */
    public void tookOver(String formerId, long copyHash) {
        if (takeovers != null) {
            takeovers.tookOver(formerId, copyHash);
        }
    }

    /**
     * Reads this Tomcat's takeover notices on every available node and drops the sessions other Tomcats took over
     * (a few times a second, and before a request that names another Tomcat's route looks its session up). Never
     * throws.
     */
    public void checkTakeovers() {
        if (takeovers != null) {
            takeovers.checkTakeovers();
        }
    }

    /**
     * Sticky: a request still running here ended {@code s}, a copy another Tomcat took over meanwhile (the balancer
     * gave up on this Tomcat and sent the user on): the Tomcat that took it is told to end it, so a logout anywhere
     * ends the session everywhere. One append, on the request's thread, bounded by {@code operationTimeout}.
     */
    public void endedAfterTakeover(ManagedSession s) {
        if (takeovers != null) {
            takeovers.endedAfterTakeover(s);
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
        return store;
    }

    boolean isAvailable(String nodeId) {
        return availability.isAvailable(nodeId);
    }

    /** The memcached key of session {@code id}. */
    String storageKey(String id) {
        return key(id);
    }

    /** The names of this webapp's keys. */
    StorageKeys keys() {
        return keys;
    }

    /** The node of session {@code id}, or {@code null} if it is not an msm id. */
    String nodeOf(String id) {
        SessionId p = ids.parse(id);
        return p == null ? null : p.nodeId();
    }

    /** The jvmRoute in session {@code id}, or {@code null}. */
    String routeOf(String id) {
        SessionId p = ids.parse(id);
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
        threads.finishBackups(Math.max(2000, 3L * config.operationTimeoutMillis()), logPrefix);
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
        if (locks != null) {
            locks.close();
        }
        if (base.watch != null) {
            base.watch.close();
        }
        store.close();
        threads.awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(THREADS_END_MILLIS));
    }
}
