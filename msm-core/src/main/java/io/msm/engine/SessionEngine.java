package io.msm.engine;

import io.msm.MsmException;
import io.msm.codec.BlobCodec;
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
    /** How long a secondary copy's refresh time is remembered: the longest half slack, with margin. */
    private static final long SECONDARY_REFRESH_KEPT_MILLIS = 60_000;
    private static final int SERIALIZATION_ATTEMPTS = 3;
    /** Read to test a node; never written. */
    private static final String PROBE_KEY = "msm:probe";
    /** How long a read of a secondary copy waits for a copy still in flight (non-sticky, after a node failed). */
    static final long SECONDARY_GRACE_MILLIS = 25;
    /** Prefix of the key of a session's lock (non-sticky mode). */
    static final String LOCK_PREFIX = "lock:";
    /** The first pause between attempts to take a busy lock; doubled up to {@link #LOCK_BACKOFF_MAX_MILLIS}. */
    static final long LOCK_BACKOFF_START_MILLIS = 5;
    static final long LOCK_BACKOFF_MAX_MILLIS = 50;
    /** auto locking learns at most this many paths. */
    static final int MAX_LEARNED_PATHS = 10_000;
    /** Prefix of the key of a session's secondary copy (non-sticky mode). */
    static final String BAK_PREFIX = "bak:";
    /** Blob note naming the webapp a session belongs to. */
    static final String OWNER_NOTE = "io.msm.owner";

    private final MsmConfig config;
    private final EngineContext ctx;
    private final String logPrefix;
    private final MsmStatistics stats;
    private final SessionIdFormat ids;
    private final SessionStore store;
    private final NodeAvailability availability;
    private final NodeSelector selector;
    private final SessionAttributesTranscoder transcoder;
    private final AttributeChunker chunker;
    private final Pattern attributeFilter;
    private final byte[] ownerNote;
    /** Sticky mode (the session lives in this Tomcat) or non-sticky (memcached is the authority). */
    private final boolean sticky;
    private final ThreadPoolExecutor backupPool;
    private final ScheduledExecutorService prober;
    /** The pools' threads, waited for at stop: Tomcat reports those that outlive the webapp as leaks. */
    private final DaemonThreads backupThreads;
    private final DaemonThreads probeThreads;
    private final ConnectionWatch watch;
    /** The last reason a node became unavailable, for the log line. */
    private final Map<String, String> lastProblem = new ConcurrentHashMap<>();
    /** Sessions whose latest state could not be stored; re-stored when their node is available again. */
    private final Set<ManagedSession> unsaved = ConcurrentHashMap.newKeySet();
    /** minBackupInterval in ns, 0 when it does not apply (non-sticky, synchronous backups, or not set). */
    private final long minBackupIntervalNanos;
    /** Sessions whose next backup waits for minBackupInterval; their runner stays "running" meanwhile. */
    private final Map<SessionState, Runnable> delayed = new ConcurrentHashMap<>();
    /** Names of attributes reported as over maxAttributeSize (each is reported once). */
    private final Set<String> reportedLargeAttributes = ConcurrentHashMap.newKeySet();
    /** Signs, encrypts and compresses blobs on their way to memcached, and checks them on the way back. */
    private final BlobSealer sealer;
    /**
     * Ids of sessions that ended here (invalidated, expired), until memcached confirmed their deletion or their
     * copies expired: never loaded again, even while an asynchronous or failed delete leaves a copy behind.
     */
    private final Map<String, Long> ended = new ConcurrentHashMap<>();
    /** Keys to delete whose node was unavailable (id to node); retried when the node returns. */
    private final Map<String, String> pendingDeletes = new ConcurrentHashMap<>();
    /** lockingMode="auto": paths seen to leave the session unchanged; they take no lock. */
    private final Set<String> readOnlyPaths = ConcurrentHashMap.newKeySet();
    private final java.security.SecureRandom random = new java.security.SecureRandom();
    /** Nodes with a probe queued after a short (synchronous backup) timeout. */
    private final Set<String> probing = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    /** Backup tasks submitted and not finished (ThreadPoolExecutor's own counts are approximate). */
    private final AtomicInteger tasks = new AtomicInteger();
    /**
     * maxInactiveInterval of the session last created or loaded here (non-sticky): a load refreshes the stored copy's
     * expiration in the same round trip for this timeout, the one nearly every session of a webapp has; -1 before
     * any session was seen.
     */
    private volatile int usualMaxInactive = -1;
    /**
     * Non-sticky: when this Tomcat last refreshed each session's secondary copy (id to clock millis). A read-only
     * request refreshes it at most every half slack, so it outlives the session's timeout from any access.
     */
    private final Map<String, Long> secondaryRefreshed = new ConcurrentHashMap<>();
    /** Non-sticky: attribute objects of idle sessions, reused by their next load here; {@code null} when off. */
    private final IdleSessionCache idle;
    /** Ends sessions that time out while no Tomcat holds them (sessionDestroyed once in the cluster). */
    private final ExpiryWatch expiry;

    private SessionEngine(MsmConfig config, EngineContext ctx,
            Function<MemcachedSessionStore.ConnectionListener, SessionStore> storeFactory, boolean watchConnections) {
        this.config = config;
        this.ctx = ctx;
        this.logPrefix = "[" + ctx.name() + "] ";
        if (ctx.jvmRoute() != null && !SessionIdFormat.isRoute(ctx.jvmRoute())) {
            throw new MsmException(logPrefix + "jvmRoute \"" + ctx.jvmRoute()
                    + "\" cannot be part of a session id: use letters, digits, '_', '-' or '.'");
        }
        this.stats = new MsmStatistics(config.enableStatistics());
        List<MemcachedNode> nodes = config.nodes();
        this.ids = new SessionIdFormat(config.nodeIdsInSessionIds(), nodes.get(0).id());
        this.transcoder = createTranscoder(config, ctx);
        this.chunker = new AttributeChunker(transcoder, config.maxAttributeSize(), this::attributeTooLarge);
        this.sealer = BlobSealer.create(config.sessionProtection(), config.sessionKeys(), config.compressionThreshold());
        this.minBackupIntervalNanos = config.sticky() && config.sessionBackupAsync()
                ? TimeUnit.MILLISECONDS.toNanos(config.minBackupIntervalMillis()) : 0;
        this.attributeFilter = config.sessionAttributeFilter().orElse(null);
        this.sticky = config.sticky();
        this.idle = !sticky && config.idleSessionCache() > 0 ? new IdleSessionCache(config.idleSessionCache()) : null;
        this.backupThreads = new DaemonThreads("msm-backup-" + ctx.name());
        this.probeThreads = new DaemonThreads("msm-probe-" + ctx.name());
        this.ownerNote = ctx.owner() == null ? null : ctx.owner().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.backupPool = new ThreadPoolExecutor(config.backupThreadCount(), config.backupThreadCount(), 60,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(), backupThreads);
        this.backupPool.allowCoreThreadTimeOut(true);
        this.prober = Executors.newSingleThreadScheduledExecutor(probeThreads);
        NodeAvailability[] holder = new NodeAvailability[1];
        java.util.function.Consumer<String> changed = nodeId -> {
            if (holder[0] != null) {
                holder[0].changed(nodeId);
            }
        };
        this.store = storeFactory.apply(new MemcachedSessionStore.ConnectionListener() {
            @Override
            public void connected(String nodeId) {
                changed.accept(nodeId);
            }

            @Override
            public void disconnected(String nodeId) {
                lastProblem.put(nodeId, "connection lost");
                changed.accept(nodeId);
            }
        });
        ConnectionWatch w = null;
        if (watchConnections) {
            try {
                w = new ConnectionWatch(nodes, "msm-watch-" + ctx.name(), config.operationTimeoutMillis(),
                        (nodeId, up) -> {
                            if (!up && !stopping) {
                                lastProblem.put(nodeId, "connection closed by memcached");
                                // let the client find out too, or it would keep a dead connection for "up"
                                store.checkConnection(nodeId, ctx.keyPrefix() + PROBE_KEY);
                            }
                            changed.accept(nodeId);
                        });
            } catch (IOException e) {
                store.close();
                throw new MsmException(logPrefix + "cannot watch memcached connections: " + e, e);
            }
        }
        this.watch = w;
        ConnectionWatch watchRef = w;
        this.availability = new NodeAvailability(store::isConnected,
                nodeId -> watchRef == null || watchRef.isUp(nodeId), this::probe, this::availabilityChanged);
        holder[0] = availability;
        this.selector = new NodeSelector(nodes, availability::isAvailable);
        prober.scheduleWithFixedDelay(this::probeSuspects, PROBE_INTERVAL_MILLIS, PROBE_INTERVAL_MILLIS,
                TimeUnit.MILLISECONDS);
        this.expiry = new ExpiryWatch(this, ctx);
    }

    /**
     * Starts an engine: builds the transcoder, connects to every node and waits (at most {@code operationTimeout})
     * for the connections, so the first requests find the nodes up.
     *
     * @throws MsmException if the transcoder cannot be built or the clients cannot be created
     */
    public static SessionEngine start(MsmConfig config, EngineContext ctx) {
        SessionEngine engine = new SessionEngine(config, ctx, listener -> {
            try {
                return new MemcachedSessionStore(config, listener);
            } catch (IOException e) {
                throw new MsmException("[" + ctx.name() + "] cannot create memcached clients for "
                        + config.nodes() + ": " + e.getMessage(), e);
            }
        }, true);
        engine.awaitConnections(config.operationTimeoutMillis());
        return engine;
    }

    /** Starts an engine on a given store, without a connection watch (tests). */
    static SessionEngine start(MsmConfig config, EngineContext ctx,
            Function<MemcachedSessionStore.ConnectionListener, SessionStore> storeFactory) {
        SessionEngine engine = new SessionEngine(config, ctx, storeFactory, false);
        engine.awaitConnections(0);
        return engine;
    }

    private static SessionAttributesTranscoder createTranscoder(MsmConfig config, EngineContext ctx) {
        TranscoderFactory factory;
        try {
            factory = (TranscoderFactory) Class.forName(config.transcoderFactoryClass(), true, ctx.classLoader())
                    .getConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
            throw new MsmException("[" + ctx.name() + "] cannot create " + MsmConfig.TRANSCODER_FACTORY_CLASS + " "
                    + config.transcoderFactoryClass() + ": " + e, e);
        }
        return factory.createTranscoder(new TranscoderContext() {
            @Override
            public ClassLoader classLoader() {
                return ctx.classLoader();
            }

            @Override
            public boolean copyCollectionsForSerialization() {
                return config.copyCollectionsForSerialization();
            }

            @Override
            public List<String> customConverterClassNames() {
                return config.customConverters();
            }

            @Override
            public String name() {
                return ctx.name();
            }

            @Override
            public java.util.Optional<String> deserializationFilter() {
                return config.deserializationFilter();
            }
        });
    }

    private void awaitConnections(long maxMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        for (MemcachedNode n : config.nodes()) {
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

    private String key(String id) {
        return ctx.keyPrefix() + id;
    }

    // ====================================================================== locks (non-sticky)

    /** Whether some requests take their session's lock (non-sticky with a {@code lockingMode} other than none). */
    public boolean locks() {
        return !sticky && config.lockingMode() != io.msm.config.LockingMode.NONE;
    }

    /** Whether {@link #learn(String, boolean)} wants the requests' paths ({@code lockingMode="auto"}, non-sticky). */
    public boolean learnsPaths() {
        return !sticky && config.lockingMode() == io.msm.config.LockingMode.AUTO;
    }

    /** Whether a request for {@code path} takes its session's lock, by {@code lockingMode}. */
    public boolean needsLock(String path) {
        if (sticky) {
            return false;
        }
        switch (config.lockingMode()) {
            case ALL: return true;
            case AUTO: return !readOnlyPaths.contains(path);
            case URI_PATTERN: return path != null && config.lockingUriPattern().get().matcher(path).matches();
            default: return false;
        }
    }

    /**
     * lockingMode="auto" learns from each request: a path whose request left the session unchanged takes no lock
     * from then on; one whose request changed it takes the lock again.
     */
    public void learn(String path, boolean changed) {
        if (path == null || !learnsPaths()) {
            return;
        }
        if (changed) {
            readOnlyPaths.remove(path);
        } else if (readOnlyPaths.size() < MAX_LEARNED_PATHS) {
            readOnlyPaths.add(path);
        }
    }

    /**
     * Takes the lock of session {@code id}: an {@code add} of a unique owner token that expires after
     * {@code lockExpiration} (so a crashed owner frees it), retried with a growing pause while another owner holds
     * it, for at most {@code operationTimeout}.
     *
     * @return the lock, or {@code null} if it could not be taken in time or the node is unavailable (counted)
     */
    public SessionLock lock(String id) {
        SessionId p = ids.parse(id);
        if (p == null) {
            return null;
        }
        String node = p.nodeId();
        String key = LOCK_PREFIX + key(id);
        byte[] token = new byte[16];
        random.nextBytes(token);
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(config.operationTimeoutMillis());
        long pause = LOCK_BACKOFF_START_MILLIS;
        boolean waited = false;
        while (availability.isAvailable(node)) {
            long cas;
            try {
                cas = store.add(node, key, Expiration.of(config.lockExpirationSeconds(), ctx.clock().getAsLong()),
                        token, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (StoreException e) {
                storeFailed(e, config.operationTimeoutMillis());
                break;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, logPrefix + "taking the lock of session " + id + " failed", e);
                break;
            }
            if (cas >= 0) {
                stats.count(Counter.LOCKS_ACQUIRED);
                if (waited) {
                    stats.count(Counter.LOCK_WAITS);
                    stats.time(Timer.LOCK_WAIT, System.nanoTime() - start);
                }
                return new SessionLock(id, node, key, token, cas);
            }
            waited = true;
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pause) > deadline) {
                break;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            pause = Math.min(LOCK_BACKOFF_MAX_MILLIS, pause * 2);
        }
        stats.count(Counter.LOCK_TIMEOUTS);
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        LOG.log(Level.DEBUG, () -> logPrefix + "lock of session " + id + " on memcached node " + node
                + " not taken after " + waitedMillis + " ms");
        return null;
    }

    /** Releases a lock; only if it is still this owner's (a lock that expired and was taken by another stays). */
    public void unlock(SessionLock lock) {
        if (lock == null) {
            return;
        }
        try {
            store.compareAndDelete(lock.node, lock.key, lock.token, lock.cas, config.operationTimeoutMillis());
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis()); // it expires after lockExpiration
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, logPrefix + "releasing the lock of session " + lock.sessionId + " failed; it "
                    + "expires after lockExpiration", e);
        }
    }

    // ====================================================================== load

    /**
     * Reads a session this Tomcat does not hold. Never throws: every failure is a {@link LoadResult} status, logged
     * and counted.
     */
    public LoadResult load(String id) {
        SessionId p = ids.parse(id);
        if (p == null || !selector.isKnown(p.nodeId())) {
            return LoadResult.of(LoadResult.Status.INVALID_ID, "not an msm session id of this configuration");
        }
        if (ended.containsKey(id)) {
            stats.count(Counter.SESSIONS_NOT_FOUND);
            return LoadResult.of(LoadResult.Status.NOT_FOUND, "the session ended in this Tomcat");
        }
        String node = p.nodeId();
        long start = System.nanoTime();
        byte[] blob = null;
        int ttl = io.msm.store.StoredValue.UNKNOWN_TTL;
        int refreshedFor = -1;
        long refreshedUntil = 0; // when the copy expires if the load refreshed it (for refreshedFor)
        String failure = null;
        if (availability.isAvailable(node)) {
            try {
                if (sticky) {
                    blob = store.get(node, key(id), config.operationTimeoutMillis());
                } else {
                    // non-sticky, one call: the remaining TTL tells when any Tomcat last refreshed the session, and
                    // the same call refreshes it for this access (for the usual timeout; another one is touched)
                    refreshedFor = usualMaxInactive;
                    long seconds = refreshedFor > 0 ? (long) refreshedFor + slackSeconds(refreshedFor) : 0;
                    long now = ctx.clock().getAsLong();
                    io.msm.store.StoredValue v = store.getWithTtl(node, key(id), seconds > 0
                            ? Expiration.of(seconds, now) : io.msm.store.SessionStore.KEEP_EXPIRATION,
                            config.operationTimeoutMillis());
                    blob = v.value();
                    ttl = v.ttlSeconds();
                    if (v.refreshed()) {
                        refreshedUntil = now + seconds * 1000;
                    }
                }
            } catch (StoreException e) {
                storeFailed(e, config.operationTimeoutMillis());
                failure = e.getMessage();
            }
        } else {
            failure = "memcached node " + node + " is unavailable";
        }
        boolean secondary = false;
        if (failure != null && !sticky) {
            // the primary cannot answer (a clean miss is a miss: never resurrect an old secondary copy)
            blob = loadSecondary(id, node);
            secondary = blob != null;
        }
        if (blob == null && failure != null) {
            stats.count(Counter.LOAD_FAILURES);
            return LoadResult.of(LoadResult.Status.UNAVAILABLE, failure);
        }
        if (blob == null) {
            if (idle != null) {
                idle.forget(id);
            }
            stats.count(Counter.SESSIONS_NOT_FOUND);
            return LoadResult.of(LoadResult.Status.NOT_FOUND, "not in memcached");
        }
        try {
            byte[] opened = sealer.open(blob);
            SessionData data = BlobCodec.decode(opened);
            if (!data.id().equals(id)) {
                throw new TranscoderException("the blob stored under this id belongs to session " + data.id());
            }
            if (!data.isValid()) {
                stats.count(Counter.SESSIONS_NOT_FOUND);
                return LoadResult.of(LoadResult.Status.NOT_FOUND, "stored session is invalidated");
            }
            byte[] owner = data.notes().get(OWNER_NOTE);
            if (ownerNote != null && owner != null && !java.util.Arrays.equals(owner, ownerNote)) {
                stats.count(Counter.SESSIONS_NOT_FOUND);
                return LoadResult.of(LoadResult.Status.NOT_FOUND, "the session belongs to webapp "
                        + new String(owner, java.nio.charset.StandardCharsets.UTF_8));
            }
            IdleSessionCache.Version version = attributesOf(id, data);
            stats.count(Counter.SESSIONS_LOADED);
            if (secondary) {
                stats.count(Counter.SECONDARY_LOADS);
            }
            int mi = data.maxInactiveInterval();
            // refreshed for another timeout than the session's: unknown, refreshed at the request's end
            long storeExpiresAt = mi == refreshedFor ? refreshedUntil : 0;
            usualMaxInactive = mi;
            stats.time(Timer.LOAD, System.nanoTime() - start);
            return LoadResult.found(data, version, BlobCodec.contentHash(opened), blob, secondary,
                    lastAccessed(data, ttl), storeExpiresAt).timedOut(!sticky && ExpiryWatch.timedOut(ttl, mi));
        } catch (UntrustedBlobException e) {
            stats.count(Counter.UNTRUSTED_SESSIONS);
            String reason = e.getMessage();
            LOG.log(Level.WARNING, () -> logPrefix + "session " + id + " in memcached node " + node
                    + " is refused, not written with this manager's keys (" + reason + "); the request gets a new"
                    + " session");
            return LoadResult.of(LoadResult.Status.UNREADABLE, reason);
        } catch (UnreadableBlobException | TranscoderException e) {
            stats.count(Counter.UNREADABLE_SESSIONS);
            String reason = e.getMessage();
            LOG.log(Level.WARNING, () -> logPrefix + "session " + id + " in memcached node " + node
                    + " is unreadable (" + reason + "); the request gets a new session");
            return LoadResult.of(LoadResult.Status.UNREADABLE, reason);
        } catch (RuntimeException | LinkageError e) {
            // A transcoder broke its contract; still never fail the request.
            stats.count(Counter.UNREADABLE_SESSIONS);
            LOG.log(Level.WARNING, logPrefix + "session " + id + " in memcached node " + node
                    + " could not be read; the request gets a new session", e);
            return LoadResult.of(LoadResult.Status.UNREADABLE, e.toString());
        }
    }

    /**
     * The attributes stored as {@code bytes}: the objects this Tomcat kept for the idle session if they are that
     * version ({@code idleSessionCache}), else deserialized.
     */
    private IdleSessionCache.Version attributesOf(String id, SessionData data) {
        List<byte[]> chunks = data.attributeChunks();
        long hash = idle == null ? 0 : attributesHash(chunks);
        int length = length(chunks);
        Map<String, Object> kept = idle == null ? null : idle.take(id, hash, length);
        if (kept != null) {
            stats.count(Counter.LOADS_REUSED);
            return new IdleSessionCache.Version(hash, length, kept);
        }
        if (!data.isChunked()) {
            return new IdleSessionCache.Version(hash, length, transcoder.deserialize(chunks.get(0)));
        }
        Map<String, Object> attributes = new LinkedHashMap<>();
        for (int i = 0; i < chunks.size(); i++) {
            Map<String, Object> part = transcoder.deserialize(chunks.get(i));
            String name = data.attributeChunkNames().get(i);
            // a chunk named for one attribute holds that one alone (or none, if the serializer skipped it): its bytes
            // stand for it at the next write
            if (name != null && !part.isEmpty() && !part.keySet().equals(Set.of(name))) {
                throw new TranscoderException("the attribute chunk named " + name + " holds " + part.keySet());
            }
            attributes.putAll(part);
        }
        return new IdleSessionCache.Version(hash, length, attributes);
    }

    private static long attributesHash(List<byte[]> chunks) {
        long hash = 0;
        for (byte[] chunk : chunks) {
            hash = io.msm.internal.XxHash64.hash(chunk, 0, chunk.length, hash);
        }
        return hash;
    }

    private static int length(List<byte[]> chunks) {
        int length = 0;
        for (byte[] chunk : chunks) {
            length += chunk.length;
        }
        return length;
    }

    /**
     * When the session was last accessed on any Tomcat (non-sticky). Every access refreshes the stored copy to
     * {@code maxInactiveInterval + slack} seconds, so its remaining TTL dates that access to about a second; without
     * a TTL (binary protocol, old memcached, a secondary copy) it is the time of the last request that changed it.
     */
    private long lastAccessed(SessionData data, int ttl) {
        long fromBlob = Math.max(data.lastAccessedTime(), data.thisAccessedTime());
        int mi = data.maxInactiveInterval();
        if (sticky || ttl < 0 || mi <= 0) {
            return fromBlob;
        }
        long now = ctx.clock().getAsLong();
        long sinceRefresh = Math.max(0, (long) mi + slackSeconds(mi) - ttl) * 1000;
        return Math.min(now, Math.max(fromBlob, now - sinceRefresh));
    }

    /**
     * The secondary copy of {@code id}, looked for on every available node but its primary; {@code null} if none.
     * A request waits for its secondary copy at most {@code sessionBackupTimeout}, so the copy of the very last change
     * may still be on its way from another Tomcat: this rare path (once per session, when its node failed) first
     * waits {@link #SECONDARY_GRACE_MILLIS} for it to land.
     */
    private byte[] loadSecondary(String id, String primaryNode) {
        try {
            Thread.sleep(SECONDARY_GRACE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (MemcachedNode n : config.nodes()) {
            if (n.id().equals(primaryNode) || !availability.isAvailable(n.id())) {
                continue;
            }
            try {
                byte[] blob = store.get(n.id(), BAK_PREFIX + key(id), config.operationTimeoutMillis());
                if (blob != null) {
                    return blob;
                }
            } catch (StoreException e) {
                storeFailed(e, config.operationTimeoutMillis());
            }
        }
        return null;
    }

    /** The node for the secondary copy of a session on {@code primaryNode}: the next available one in order. */
    private String secondaryNode(String primaryNode) {
        List<MemcachedNode> nodes = config.nodes();
        int start = 0;
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).id().equals(primaryNode)) {
                start = i;
            }
        }
        for (int i = 1; i < nodes.size(); i++) {
            String candidate = nodes.get((start + i) % nodes.size()).id();
            if (availability.isAvailable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** Records that {@code session} was just built from {@code loaded}, as memcached holds it. */
    public void loaded(ManagedSession session, LoadResult loaded) {
        SessionState st = session.state();
        st.storedId = loaded.data().id();
        st.storedHash = loaded.contentHash();
        st.lastBlob = sticky ? null : loaded.blob();
        st.version = idle == null ? null : loaded.version();
        st.layout = AttributeChunker.layoutOf(loaded.data(), loaded.attributes());
        if (st.layout != null) {
            st.recordAccessedNames();
        }
        st.stored = true;
        // unless the load refreshed it, memcached did not say when the copy expires: refreshed when the request ends
        st.storeExpiresAt = loaded.storeExpiresAt();
    }

    // ====================================================================== request lifecycle

    /** A new session was created in this Tomcat; it is stored at the end of the request. */
    public void created(ManagedSession session) {
        stats.count(Counter.SESSIONS_CREATED);
        usualMaxInactive = session.maxInactiveInterval();
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
            run(session, Work.WRITE, wait);
            return wait && (st.storedHash != hashBefore || st.stored != storedBefore
                    || !java.util.Objects.equals(st.storedId, idBefore));
        } else if (needsTouch(session, st, now) || secondaryDue(session, now)) {
            run(session, Work.TOUCH, false);
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
     * @return {@code true} if the session was written or found unchanged now
     */
    public boolean responseLeaving(ManagedSession session) {
        if (sticky && config.sessionBackupAsync() || !session.state().changedSinceResponseLeft()) {
            return false;
        }
        run(session, Work.WRITE, true);
        return true;
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
        run(session, Work.WRITE, true);
        return session.state().isStoredAs(session.id()) && !unsaved.contains(session);
    }

    /** Stores the session now, on a backup thread (e.g. after it moved to another node outside a request end). */
    public void store(ManagedSession session) {
        session.state().metadataChanged();
        run(session, Work.WRITE, false);
    }

    /**
     * The session was invalidated or expired in this Tomcat: delete it from memcached. Synchronous mode deletes
     * before returning (so a logout is effective on every Tomcat at once); asynchronous mode queues it.
     */
    public void expired(ManagedSession session) {
        expiry.forget(session.id());
        unsaved.remove(session);
        SessionState st = session.state();
        st.version = null;
        if (idle != null) {
            idle.forget(session.id());
        }
        long keepUntil = keepTombstoneUntil(session.maxInactiveInterval());
        ended.put(session.id(), keepUntil);
        String stored = st.storedId;
        if (stored != null) {
            ended.put(stored, keepUntil);
        }
        for (String attempted : st.attempted) {
            ended.put(attempted, keepUntil);
        }
        // Always through the runner: a write still running for this session finishes first, then is deleted.
        run(session, Work.TOUCH, !sticky || !config.sessionBackupAsync());
    }

    /** How long a copy of an ended session can live in memcached: its timeout plus slack (a day if none). */
    private long keepTombstoneUntil(int maxInactiveSeconds) {
        long seconds = maxInactiveSeconds > 0 ? maxInactiveSeconds + slackSeconds(maxInactiveSeconds) : 24 * 3600;
        return ctx.clock().getAsLong() + seconds * 1000;
    }

    private boolean needsTouch(ManagedSession s, SessionState st, long now) {
        int mi = s.maxInactiveInterval();
        return st.stored && mi > 0 && st.storeExpiresAt < now + mi * 1000L + EXPIRY_MARGIN_MILLIS;
    }

    /**
     * Non-sticky: the secondary copy was not refreshed by this Tomcat for half the slack. Refreshed then, it outlives
     * the session from any access (its TTL is the timeout plus the slack), at one call per half slack instead of one
     * per request.
     */
    private boolean secondaryDue(ManagedSession s, long now) {
        int mi = s.maxInactiveInterval();
        if (sticky || mi <= 0 || !s.state().stored) {
            return false;
        }
        Long at = secondaryRefreshed.get(s.id());
        return at == null || now - at >= slackSeconds(mi) * 500L;
    }

    /** Seconds memcached keeps a copy beyond the session's own timeout (clock skew, memcached's 1 s resolution). */
    static int slackSeconds(int maxInactiveSeconds) {
        return Math.max(2, Math.min(60, maxInactiveSeconds / 10));
    }

    // ====================================================================== the per-session runner

    /** What a session's runner is asked to do. */
    private enum Work {
        /** Store the session if its stored form changed (then refresh the expiry if needed). */
        WRITE,
        /** Refresh the stored copy's expiry if it would expire before the session. */
        TOUCH,
        /** Check that memcached still holds the copy (a node returned, maybe restarted empty); store it if not. */
        VERIFY
    }

    /**
     * Asks the session's runner for some work. Starts the runner if none runs; otherwise the running one picks the
     * request up (coalescing).
     *
     * @param wait run on this thread / wait until done, bounded by {@code sessionBackupTimeout}
     */
    private void run(ManagedSession s, Work work, boolean wait) {
        SessionState st = s.state();
        long seq;
        boolean start;
        synchronized (st) {
            switch (work) {
                case WRITE: st.writeWanted = true; break;
                case TOUCH: st.touchWanted = true; break;
                default: st.verifyWanted = true;
            }
            seq = ++st.requested;
            start = !st.running;
            if (start) {
                st.running = true;
            } else {
                st.coalesced++; // counted into the statistics by the runner: no shared counter on this path
            }
        }
        if (start && wait) {
            drain(s, st, seq, true);
        } else if (start) {
            submitDrain(s, st);
        } else {
            if (wait) {
                awaitCompleted(s, st, seq, config.sessionBackupTimeoutMillis());
            }
        }
    }

    /** Runs {@code task} on a backup thread, counted for {@link #awaitIdle(long)}. */
    private void execute(Runnable task) {
        tasks.incrementAndGet();
        try {
            backupPool.execute(() -> {
                try {
                    task.run();
                } finally {
                    tasks.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            tasks.decrementAndGet();
            throw e;
        }
    }

    private void submitDrain(ManagedSession s, SessionState st) {
        try {
            execute(() -> drain(s, st, Long.MAX_VALUE, false));
        } catch (RejectedExecutionException | Error e) {
            // stopping, or no thread could be started: give up this round; the next request starts a runner again
            synchronized (st) {
                st.running = false;
                st.completed = st.requested;
                st.notifyAll();
            }
            if (e instanceof Error) {
                LOG.log(Level.WARNING, logPrefix + "cannot start a backup of session " + s.id(), e);
            }
        }
    }

    /**
     * Runs the session's pending work until every request up to {@code untilSeq} is done, then either stops (nothing
     * more requested) or hands the rest to a backup thread (a request thread never works for later requests).
     *
     * @param requestThread on a request thread only the write itself is done; touches and deletes are deferred
     */
    private void drain(ManagedSession s, SessionState st, long untilSeq, boolean requestThread) {
        while (true) {
            long seq;
            synchronized (st) {
                if (st.coalesced > 0) {
                    stats.add(Counter.BACKUPS_COALESCED, st.coalesced);
                    st.coalesced = 0;
                }
                if (st.completed >= st.requested) {
                    st.running = false;
                    st.notifyAll();
                    return;
                }
                if (st.completed >= untilSeq) {
                    break;
                }
                seq = st.requested;
            }
            if (!requestThread && minBackupIntervalNanos > 0 && !stopping && s.isActive()) {
                long wait = st.lastWriteNanos + minBackupIntervalNanos - System.nanoTime();
                if (st.lastWriteNanos != 0 && wait > 0) {
                    delay(s, st, wait);
                    return; // the runner stays running: what requests ask meanwhile goes into the delayed run
                }
            }
            try {
                runOnce(s, st, requestThread);
            } catch (RuntimeException | Error e) {
                stats.count(Counter.BACKUP_FAILURES);
                LOG.log(Level.WARNING, logPrefix + "backup of session " + s.id() + " failed", e);
            }
            synchronized (st) {
                st.completed = seq;
                st.notifyAll();
            }
        }
        submitDrain(s, st);
    }

    /**
     * Continues the session's runner after {@code nanos} (minBackupInterval). Counted for {@link #awaitIdle(long)};
     * {@link #stop(Collection)} runs every delayed backup at once.
     */
    private void delay(ManagedSession s, SessionState st, long nanos) {
        tasks.incrementAndGet();
        Runnable resume = new Runnable() {
            @Override
            public void run() {
                if (delayed.remove(st, this)) {
                    try {
                        submitDrain(s, st);
                    } finally {
                        tasks.decrementAndGet();
                    }
                }
            }
        };
        delayed.put(st, resume);
        try {
            prober.schedule(resume, nanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stoppingNow) {
            resume.run();
            return;
        }
        if (stopping) {
            resume.run(); // stop() may have flushed the delayed runs before this one was registered
        }
    }

    /** Runs every backup waiting for minBackupInterval now (at stop). */
    private void flushDelayed() {
        for (Map.Entry<SessionState, Runnable> e : delayed.entrySet()) {
            e.getValue().run();
        }
    }

    private void awaitCompleted(ManagedSession s, SessionState st, long seq, long maxMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        synchronized (st) {
            while (st.completed < seq) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    stats.count(Counter.BACKUP_TIMEOUTS);
                    LOG.log(Level.DEBUG, () -> logPrefix + "stopped waiting for the backup of session " + s.id()
                            + " after " + maxMillis + " ms; it continues in the background");
                    return;
                }
                try {
                    st.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void runOnce(ManagedSession s, SessionState st, boolean requestThread) {
        boolean write;
        boolean touch;
        boolean verify;
        synchronized (st) {
            write = st.writeWanted;
            touch = st.touchWanted;
            verify = st.verifyWanted;
            st.writeWanted = false;
            st.touchWanted = false;
            st.verifyWanted = false;
        }
        if (!s.isActive()) {
            unsaved.remove(s);
            deleteStored(st); // a synchronous logout deletes before its response
            return;
        }
        if (write && writeIfChanged(s, st, requestThread)) {
            return;
        }
        if (!(write || touch || verify)) {
            return;
        }
        if (requestThread) {
            defer(st, verify ? Work.VERIFY : Work.TOUCH); // memcached calls beyond the write go to a backup thread
        } else {
            touchIfNeeded(s, st, verify);
        }
    }

    /** Asks the running runner for more work, from inside it (it hands the work to a backup thread). */
    private static void defer(SessionState st, Work work) {
        synchronized (st) {
            if (work == Work.VERIFY) {
                st.verifyWanted = true;
            } else {
                st.touchWanted = true;
            }
            st.requested++;
        }
    }

    /** @return {@code true} if a write was attempted (so no touch is needed) */
    private boolean writeIfChanged(ManagedSession s, SessionState st, boolean requestThread) {
        long start = System.nanoTime();
        SessionData.Builder meta = s.metadata();
        if (ownerNote != null) {
            meta.note(OWNER_NOTE, ownerNote);
        }
        String id = meta.build().id();
        AttributeChunker.Serialized serialized = serialize(s, id);
        if (serialized == null) {
            return true;
        }
        byte[] encoded = BlobCodec.encode((serialized.names == null ? meta.attributes(serialized.chunks.get(0))
                : meta.attributeChunks(serialized.chunks, serialized.names)).build());
        long hash = BlobCodec.contentHash(encoded);
        // what memcached holds once this write succeeds (or already holds when unchanged)
        IdleSessionCache.Version version = idle == null ? null
                : new IdleSessionCache.Version(attributesHash(serialized.chunks), length(serialized.chunks),
                        serialized.attributes);
        if (st.stored && hash == st.storedHash && id.equals(st.storedId)) {
            stats.count(Counter.BACKUPS_UNCHANGED);
            unsaved.remove(s);
            st.version = version;
            return false;
        }
        byte[] blob = sealer.seal(encoded);
        SessionId p = ids.parse(id);
        if (p == null) {
            LOG.log(Level.WARNING, () -> logPrefix + "session id " + id + " is not an msm id; not stored");
            return true;
        }
        String node = p.nodeId();
        if (!availability.isAvailable(node)) {
            stats.count(Counter.BACKUP_FAILURES);
            markUnsaved(s);
            return true;
        }
        long now = ctx.clock().getAsLong();
        long ttl = ttlSeconds(s, st, now);
        long timeout = requestThread && sticky ? config.sessionBackupTimeoutMillis() : config.operationTimeoutMillis();
        st.lastWriteNanos = System.nanoTime();
        // Non-sticky: the secondary copy travels alongside the primary one (one round trip of waiting, not two). A
        // request thread sends both and reads both answers itself; a backup thread leaves the secondary's answer to
        // the store's I/O thread, as does a request when the secondary node is being probed (it does not wait).
        String paired = sticky || !requestThread ? null : secondaryNode(node);
        if (paired != null && probing.contains(paired)) {
            paired = null;
        }
        SecondaryWrite secondary = sticky || paired != null ? null : sendSecondary(s, st, id, blob);
        SessionStore.Secondary pairedOutcome = null;
        try {
            if (paired != null) {
                pairedOutcome = store.setWithSecondary(node, key(id), Expiration.of(ttl, now), blob, timeout, paired,
                        BAK_PREFIX + key(id), Expiration.of(ttl, now), config.sessionBackupTimeoutMillis());
            } else {
                store.set(node, key(id), Expiration.of(ttl, now), blob, timeout);
            }
        } catch (StoreException e) {
            storeFailed(e, timeout);
            if (e.isTooLarge()) {
                reportTooLarge(st, id, blob.length, e);
            }
            // a timed-out set may still land: remember the key so it is deleted once the session lives elsewhere
            st.attempted.add(id);
            stats.count(Counter.BACKUP_FAILURES);
            markUnsaved(s);
            return true;
        }
        String previous = st.storedId;
        st.storedId = id;
        st.storedHash = hash;
        st.stored = true;
        st.version = version;
        st.storeExpiresAt = ttl <= 0 ? Long.MAX_VALUE : now + ttl * 1000;
        unsaved.remove(s);
        stats.count(Counter.BACKUPS);
        stats.storedSize(blob.length);
        stats.time(Timer.BACKUP, System.nanoTime() - start);
        if (!sticky) {
            st.lastBlob = blob;
            // On a request thread it is awaited (briefly): the user's next request, maybe on another Tomcat, must
            // not find its newer secondary copy overwritten by this one arriving late over this Tomcat's connection.
            if (secondary != null && requestThread) {
                secondary.await();
            }
            if (pairedOutcome != null) {
                secondaryAnswered(st, id, paired, pairedOutcome == SessionStore.Secondary.STORED, now);
                if (pairedOutcome == SessionStore.Secondary.TIMED_OUT) {
                    long waited = config.sessionBackupTimeoutMillis();
                    storeFailed(StoreException.timeout("set", BAK_PREFIX + key(id), paired, waited, "secondary copy"),
                            waited);
                }
            }
        }
        // the new copy is stored: copies under former ids go (off the request thread)
        if (previous != null && !previous.equals(id)) {
            st.attempted.add(previous);
        }
        st.attempted.remove(id);
        if (!st.attempted.isEmpty()) {
            if (requestThread) {
                defer(st, Work.TOUCH);
            } else {
                deleteObsolete(st);
            }
        }
        return true;
    }

    /** memcached refused the blob as larger than its item size: said once per session, counted every time. */
    private void reportTooLarge(SessionState st, String id, int size, StoreException e) {
        stats.count(Counter.OVERSIZED_SESSIONS);
        if (!st.tooLargeReported) {
            st.tooLargeReported = true;
            LOG.log(Level.WARNING, () -> logPrefix + "session " + id + " is " + size + " bytes stored, more than "
                    + "memcached accepts for one item (memcached -I, 1 MB by default): it is not in memcached and is "
                    + "lost if this Tomcat stops. Make it smaller, lower " + MsmConfig.COMPRESSION_THRESHOLD
                    + " (now " + config.compressionThreshold() + "), set " + MsmConfig.MAX_ATTRIBUTE_SIZE
                    + ", or raise memcached's -I (" + e.getMessage() + ")");
        }
    }

    private void markUnsaved(ManagedSession s) {
        // what memcached holds is not known: nothing of this session is reused (it may have left memory already)
        s.state().version = null;
        if (idle != null) {
            idle.forget(s.id());
        }
        if (s.isActive()) {
            unsaved.add(s);
        }
    }

    /** Deletes the keys of former ids of a session (it is stored under its current id). */
    private void deleteObsolete(SessionState st) {
        for (String old : st.attempted) {
            if (!old.equals(st.storedId)) {
                deleteKey(old);
            }
            st.attempted.remove(old);
        }
    }

    private AttributeChunker.Serialized serialize(ManagedSession s, String id) {
        SessionState st = s.state();
        Set<String> accessed = st.takeAccessedNames(st.layout != null);
        for (int attempt = 1; ; attempt++) {
            long start = System.nanoTime();
            try {
                AttributeChunker.Serialized serialized = chunker.serialize(st, filter(s.attributes()), accessed);
                stats.time(Timer.SERIALIZATION, System.nanoTime() - start);
                return serialized;
            } catch (RuntimeException e) {
                if (attempt < SERIALIZATION_ATTEMPTS && causedBy(e, ConcurrentModificationException.class)) {
                    continue; // a request changed a collection while we serialized it: read it again
                }
                // not retried here: the session's next request tries again
                stats.count(Counter.BACKUP_FAILURES);
                LOG.log(Level.WARNING, () -> logPrefix + "session " + id + " cannot be serialized, not stored: " + e);
                return null;
            }
        }
    }

    /**
     * {@code maxAttributeSize}: an attribute left out of the stored copy (it stays in this Tomcat's memory). Said once
     * per attribute name, counted every time.
     */
    private void attributeTooLarge(String name, int size) {
        stats.count(Counter.ATTRIBUTES_TOO_LARGE);
        if (reportedLargeAttributes.add(name)) {
            LOG.log(Level.WARNING, () -> logPrefix + "attribute " + name + " is " + size + " bytes serialized, over "
                    + MsmConfig.MAX_ATTRIBUTE_SIZE + "=\"" + config.maxAttributeSize() + "\": it is not stored in "
                    + "memcached (it stays in this Tomcat's memory; said once per attribute name)");
        }
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private Map<String, Object> filter(Map<String, Object> attributes) {
        if (attributeFilter == null) {
            return attributes;
        }
        Map<String, Object> kept = new LinkedHashMap<>();
        attributes.forEach((k, v) -> {
            if (attributeFilter.matcher(k).matches()) {
                kept.put(k, v);
            }
        });
        return kept;
    }

    /** Seconds memcached should keep the session: its remaining inactive time plus slack; 0 for never. */
    private long ttlSeconds(ManagedSession s, SessionState st, long now) {
        int mi = s.maxInactiveInterval();
        if (mi <= 0) {
            return 0;
        }
        long lastActivity = Math.max(s.thisAccessedTime(), st.lastRequestEnd);
        long idleSeconds = Math.max(0, (now - lastActivity) / 1000);
        return Math.max(1, mi - idleSeconds) + slackSeconds(mi);
    }

    /** @param always touch even if the stored copy outlives the session (to learn whether memcached still has it) */
    private void touchIfNeeded(ManagedSession s, SessionState st, boolean always) {
        if (!st.attempted.isEmpty() && st.stored) {
            deleteObsolete(st);
        }
        long now = ctx.clock().getAsLong();
        String id = s.id();
        if (!st.isStoredAs(id)) {
            return;
        }
        SessionId p = ids.parse(id);
        if (p == null || !availability.isAvailable(p.nodeId())) {
            return;
        }
        if (!(always || needsTouch(s, st, now))) {
            if (secondaryDue(s, now)) { // the load refreshed the primary copy
                touchSecondary(s, st, p.nodeId(), Expiration.of(ttlSeconds(s, st, now), now));
            }
            return;
        }
        long ttl = ttlSeconds(s, st, now);
        boolean touched;
        try {
            touched = store.touch(p.nodeId(), key(id), Expiration.of(ttl, now), config.operationTimeoutMillis());
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis());
            return;
        }
        if (touched) {
            st.storeExpiresAt = ttl <= 0 ? Long.MAX_VALUE : now + ttl * 1000;
            stats.count(Counter.TOUCHES);
            if (!sticky) {
                touchSecondary(s, st, p.nodeId(), Expiration.of(ttl, now));
            }
        } else {
            // memcached lost the copy (evicted, flushed or restarted): store it again.
            st.stored = false;
            writeIfChanged(s, st, false);
        }
    }

    /**
     * Sends the secondary copy of the session's last stored blob to the next available node (non-sticky). With
     * {@code await}, waits for memcached's answer at most {@code sessionBackupTimeout}: requests of one user come one
     * after the other, possibly on different Tomcats, each over its own connection, so a copy only sent (not
     * answered) before the response could land after the next request's newer copy and replace it. A secondary node
     * too slow to answer in time is probed and, if it does not answer, taken out like a timed-out primary.
     */
    private void writeSecondary(ManagedSession s, SessionState st, boolean await) {
        String id = st.storedId;
        if (st.lastBlob != null && id != null && id.equals(s.id())) {
            SecondaryWrite w = sendSecondary(s, st, id, st.lastBlob);
            if (await && w != null) {
                w.await();
            }
        }
    }

    /** A secondary copy on its way: {@link #await()} waits for memcached's answer. */
    private final class SecondaryWrite {
        final String node;
        final String key;
        final CountDownLatch answered = new CountDownLatch(1);

        SecondaryWrite(String node, String key) {
            this.node = node;
            this.key = key;
        }

        /** Waits at most {@code sessionBackupTimeout}, not at all for a node already being probed. */
        void await() {
            if (probing.contains(node)) {
                // a node already being probed after such a wait timed out: the next requests do not wait for it too
                return;
            }
            long timeout = config.sessionBackupTimeoutMillis();
            try {
                if (!answered.await(timeout, TimeUnit.MILLISECONDS)) {
                    storeFailed(StoreException.timeout("set", key, node, timeout, "secondary copy"), timeout);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** memcached answered the secondary copy of session {@code id} sent to {@code node} at {@code now}. */
    private void secondaryAnswered(SessionState st, String id, String node, boolean stored, long now) {
        if (!stored) {
            stats.count(Counter.BACKUP_FAILURES);
            return;
        }
        stats.count(Counter.SECONDARY_WRITES);
        secondaryRefreshed.put(id, now);
        String previous = st.bakNode;
        st.bakNode = node;
        if (previous != null && !previous.equals(node)) {
            try {
                execute(() -> deleteSecondaryOn(previous, id));
            } catch (RejectedExecutionException stopping) {
                // it expires by its TTL
            }
        }
    }

    /** Sends {@code blob} as the secondary copy of session {@code id}; {@code null} if there is no node for it. */
    private SecondaryWrite sendSecondary(ManagedSession s, SessionState st, String id, byte[] blob) {
        SessionId p = ids.parse(id);
        String node = p == null ? null : secondaryNode(p.nodeId());
        if (node == null) {
            return null; // no second node available: the primary is the only copy for now
        }
        long now = ctx.clock().getAsLong();
        SecondaryWrite w = new SecondaryWrite(node, BAK_PREFIX + key(id));
        tasks.incrementAndGet(); // counted until memcached answers, for awaitIdle
        store.setAsync(node, w.key, Expiration.of(ttlSeconds(s, st, now), now), blob, ok -> {
            try {
                secondaryAnswered(st, id, node, ok, now);
            } finally {
                tasks.decrementAndGet();
                w.answered.countDown();
            }
        });
        return w;
    }

    private void touchSecondary(ManagedSession s, SessionState st, String primaryNode, int exp) {
        String node = st.bakNode != null && availability.isAvailable(st.bakNode) ? st.bakNode
                : secondaryNode(primaryNode);
        if (node == null) {
            return;
        }
        try {
            long now = ctx.clock().getAsLong();
            if (store.touch(node, BAK_PREFIX + key(s.id()), exp, config.operationTimeoutMillis())) {
                st.bakNode = node;
                secondaryRefreshed.put(s.id(), now);
                stats.count(Counter.TOUCHES);
            } else {
                writeSecondary(s, st, false); // missing there: write it from the blob this Tomcat holds
            }
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis());
        }
    }

    private void deleteSecondaryOn(String node, String id) {
        if (!availability.isAvailable(node)) {
            return; // it expires by its TTL
        }
        try {
            store.delete(node, BAK_PREFIX + key(id), config.operationTimeoutMillis());
            stats.count(Counter.DELETES);
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis());
        }
    }

    private void deleteStored(SessionState st) {
        String id = st.storedId;
        st.stored = false;
        st.storedId = null;
        if (id != null) {
            st.attempted.add(id);
        }
        for (String old : st.attempted) {
            deleteKey(old);
            st.attempted.remove(old);
        }
    }

    /** Deletes a key; if its node cannot be reached now, the delete is retried when the node returns. */
    private void deleteKey(String id) {
        SessionId p = ids.parse(id);
        if (p == null) {
            return;
        }
        if (!availability.isAvailable(p.nodeId())) {
            pendingDeletes.put(id, p.nodeId());
            return;
        }
        if (!sticky) {
            // the secondary copy may sit on any other node
            for (MemcachedNode n : config.nodes()) {
                if (!n.id().equals(p.nodeId())) {
                    deleteSecondaryOn(n.id(), id);
                }
            }
        }
        try {
            store.delete(p.nodeId(), key(id), config.operationTimeoutMillis());
            stats.count(Counter.DELETES);
            pendingDeletes.remove(id);
            ended.remove(id);
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis());
            pendingDeletes.put(id, p.nodeId());
        }
    }

    /** Forgets ended ids and pending deletes whose copies have expired in memcached anyway. */
    private void purgeEnded() {
        long now = ctx.clock().getAsLong();
        if (idle != null) {
            idle.purge(now);
        }
        secondaryRefreshed.values().removeIf(at -> now - at > SECONDARY_REFRESH_KEPT_MILLIS);
        ended.entrySet().removeIf(e -> {
            boolean expired = e.getValue() < now;
            if (expired) {
                pendingDeletes.remove(e.getKey());
            }
            return expired;
        });
    }

    // ====================================================================== node health

    /**
     * A node failed an operation. A timeout at {@code operationTimeout} makes it suspect at once; a shorter one (a
     * synchronous backup's {@code sessionBackupTimeout}) only queues a probe at {@code operationTimeout}, so a brief
     * hiccup does not move every session off a healthy node.
     */
    private void storeFailed(StoreException e, long timeoutMillis) {
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
                prober.execute(() -> {
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

    private void availabilityChanged(String nodeId, boolean available) {
        if (available) {
            nodeRecovered(nodeId);
        } else if (!stopping) {
            String why = lastProblem.getOrDefault(nodeId, "unavailable");
            LOG.log(Level.WARNING, () -> logPrefix + "memcached node " + nodeId + " is unavailable (" + why
                    + "); sessions are served from memory and stored again when a node is available");
        }
    }

    private boolean probe(String nodeId) {
        try {
            store.get(nodeId, ctx.keyPrefix() + PROBE_KEY, config.operationTimeoutMillis());
            return true;
        } catch (StoreException e) {
            return false;
        }
    }

    private void probeSuspects() {
        try {
            purgeEnded();
            if (availability.hasSuspects()) {
                availability.probeSuspects();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, logPrefix + "probing memcached nodes failed", e);
        }
    }

    private void nodeRecovered(String nodeId) {
        if (stopping) {
            return;
        }
        LOG.log(Level.WARNING, () -> logPrefix + "memcached node " + nodeId + " is available again; storing "
                + unsaved.size() + " session(s) changed meanwhile");
        try {
            execute(() -> {
                Set<ManagedSession> writing = new java.util.HashSet<>(unsaved);
                for (ManagedSession s : writing) {
                    SessionId p = ids.parse(s.id());
                    if (p != null && availability.isAvailable(p.nodeId())) {
                        run(s, Work.WRITE, false);
                    }
                }
                pendingDeletes.forEach((id, node) -> {
                    if (node.equals(nodeId)) {
                        deleteKey(id);
                    }
                });
                // the node may have restarted empty: make sure it still holds what we stored there
                for (ManagedSession s : ctx.residents()) {
                    String storedId = s.state().storedId;
                    SessionId p = storedId == null ? null : ids.parse(storedId);
                    if (p != null && p.nodeId().equals(nodeId) && s.isActive() && !writing.contains(s)) {
                        run(s, Work.VERIFY, false);
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    /** Ids of nodes currently available, for status pages and tests. */
    public List<String> availableNodes() {
        return config.nodes().stream().map(MemcachedNode::id).filter(availability::isAvailable)
                .collect(java.util.stream.Collectors.toList());
    }

    /** Sessions whose latest state is not in memcached yet (their node was unavailable). */
    public int unsavedSessions() {
        return unsaved.size();
    }

    /** Keys waiting to be deleted until their node is available again. */
    public int pendingDeletes() {
        return pendingDeletes.size();
    }

    /** Backups queued or running. */
    public int pendingBackups() {
        return tasks.get();
    }

    /**
     * Waits until no backup is queued or running (tests, and before measuring memcached's counters).
     *
     * @return {@code true} if idle within {@code maxMillis}
     */
    public boolean awaitIdle(long maxMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        while (System.nanoTime() < deadline) {
            if (tasks.get() == 0) {
                return true;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    // ====================================================================== for the timeout watch

    /** The watch that ends sessions timing out while no Tomcat holds them. */
    public ExpiryWatch expiry() {
        return expiry;
    }

    long now() {
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
        storeFailed(e, config.operationTimeoutMillis());
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
                run(s, Work.WRITE, false);
            }
        }
        stopping = true;
        flushDelayed();
        long budget = Math.max(2000, 3L * config.operationTimeoutMillis());
        backupPool.shutdown();
        try {
            if (!backupPool.awaitTermination(budget, TimeUnit.MILLISECONDS)) {
                LOG.log(Level.WARNING, logPrefix + "backups still running after " + budget + " ms at stop: "
                        + backupPool.getQueue().size() + " queued; they are abandoned");
                backupPool.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            backupPool.shutdownNow();
        }
        close();
    }

    /** Stops at once: abandons queued backups and closes the clients. */
    @Override
    public void close() {
        stopping = true;
        if (idle != null) {
            idle.clear();
        }
        expiry.close();
        backupPool.shutdownNow();
        prober.shutdownNow();
        if (watch != null) {
            watch.close();
        }
        store.close();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(THREADS_END_MILLIS);
        backupThreads.awaitEnd(deadline);
        probeThreads.awaitEnd(deadline);
    }
}
