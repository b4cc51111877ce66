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
    /** How long a read of a secondary copy waits for a copy still in flight (non-sticky, after a node failed). */
    static final long SECONDARY_GRACE_MILLIS = 25;
    /** Prefix of the key of a session's lock (non-sticky mode). */
    static final String LOCK_PREFIX = "lock:";
    /** The first pause between attempts to take a busy lock; doubled up to {@link #LOCK_BACKOFF_MAX_MILLIS}. */
    static final long LOCK_BACKOFF_START_MILLIS = 5;
    static final long LOCK_BACKOFF_MAX_MILLIS = 50;
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
    /** With sessionProtection: host, context and prefix every blob must name (it replaces the owner note). */
    private final Binding binding;
    /** Sticky mode (the session lives in this Tomcat) or non-sticky (memcached is the authority). */
    private final boolean sticky;
    private final ThreadPoolExecutor backupPool;
    private final ScheduledExecutorService prober;
    /** The pools' threads, waited for at stop: Tomcat reports those that outlive the webapp as leaks. */
    private final DaemonThreads backupThreads;
    private final DaemonThreads probeThreads;
    /** The last reason a node became unavailable, for the log line. */
    private final Map<String, String> lastProblem = new ConcurrentHashMap<>();
    /** Sessions whose latest state could not be stored; re-stored when their node is available again. */
    private final UnsavedSessions unsaved;
    /** Non-sticky: the bound of {@link #unsaved} was reached and said in the log (again after a node returns). */
    private final java.util.concurrent.atomic.AtomicBoolean unsavedFull =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** minBackupInterval in ns, 0 when it does not apply (non-sticky, synchronous backups, or not set). */
    private final long minBackupIntervalNanos;
    /** Sessions whose next backup waits for minBackupInterval; their runner stays "running" meanwhile. */
    private final Map<SessionState, Runnable> delayed = new ConcurrentHashMap<>();
    /** Names of attributes reported as over maxAttributeSize (each is reported once). */
    private final Set<String> reportedLargeAttributes = ConcurrentHashMap.newKeySet();
    /** Signs, encrypts and compresses blobs on their way to memcached, and checks them on the way back. */
    private final BlobSealer sealer;
    /** The memcached keys of sessions: prefix and id, or a keyed hash of the id with sessionProtection. */
    private final StorageKeys keys;
    /**
     * Ids of sessions that ended here (invalidated, expired), until memcached confirmed their deletion or their
     * copies expired: never loaded again, even while an asynchronous or failed delete leaves a copy behind.
     */
    private final Map<String, Long> ended = new ConcurrentHashMap<>();
    /** Sticky: ids whose dropped copy's delete waits on the background thread for its late write (deleteRewritten). */
    private final Map<String, java.util.concurrent.CountDownLatch> deferredDeletes = new ConcurrentHashMap<>();
    /** Keys to delete whose node was unavailable (id to node); retried when the node returns. */
    private final Map<String, String> pendingDeletes = new ConcurrentHashMap<>();
    /** lockingMode="auto": which paths take their session's lock. */
    private final LockingPaths lockingPaths = new LockingPaths();
    /** Renews the locks of running requests; {@code null} unless requests lock (non-sticky locking). */
    private final LockKeeper lockKeeper;
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
    /** Sticky with a jvmRoute: notices of sessions other Tomcats took over from this one; {@code null} otherwise. */
    private final TakeoverNotices notices;
    private final FreshRun takeoverReads = new FreshRun(this::readTakeovers);
    /** Non-sticky: conditional writes and the tombstones of ended ids. */
    private final Tombstones tombstones;
    /** Sessions memcached-session-manager stored ({@code legacySessions}), or {@code null}. */
    private final LegacyLoads legacy;
    /** {@code legacySessions="readWrite"}: sessions stored as memcached-session-manager stores them, or {@code null}. */
    private final LegacyWrites legacyWrites;
    /** Ends sessions that time out while no Tomcat holds them (sessionDestroyed once in the cluster). */
    private final ExpiryWatch expiry;

    private SessionEngine(MsmConfig config, EngineContext ctx,
            Function<MemcachedSessionStore.ConnectionListener, SessionStore> storeFactory) {
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
        this.keys = new StorageKeys(ctx.keyPrefix(), config.sessionProtection(), config.sessionKeys());
        this.minBackupIntervalNanos = config.sticky() && config.sessionBackupAsync()
                ? TimeUnit.MILLISECONDS.toNanos(config.minBackupIntervalMillis()) : 0;
        this.attributeFilter = config.sessionAttributeFilter().orElse(null);
        this.sticky = config.sticky();
        this.idle = !sticky && config.idleSessionCache() > 0 ? new IdleSessionCache(config.idleSessionCache()) : null;
        this.backupThreads = new DaemonThreads("msm-backup-" + ctx.name());
        this.probeThreads = new DaemonThreads("msm-probe-" + ctx.name());
        boolean isProtected = config.sessionProtection() != io.msm.config.SessionProtection.NONE;
        this.ownerNote = ctx.owner() == null || isProtected ? null
                : ctx.owner().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.binding = isProtected ? new Binding(ctx) : null;
        this.unsaved = new UnsavedSessions(sticky ? Integer.MAX_VALUE : UnsavedSessions.NON_STICKY_MAX);
        this.backupPool = new ThreadPoolExecutor(config.backupThreadCount(), config.backupThreadCount(), 60,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(), backupThreads);
        this.backupPool.allowCoreThreadTimeOut(true);
        this.prober = Executors.newSingleThreadScheduledExecutor(probeThreads);
        this.lockKeeper = sticky || config.lockingMode() == io.msm.config.LockingMode.NONE ? null
                : new LockKeeper(ctx.name(), config.lockExpirationSeconds(), this::renew,
                        () -> stats.count(Counter.LOCKS_LOST));
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
        this.tombstones = new Tombstones(store);
        this.legacy = config.legacySessions() == io.msm.config.LegacySessions.OFF || ctx.legacyKeys() == null ? null
                : new LegacyLoads(ctx.legacyKeys(), ctx.legacyConverter(), store, sticky,
                        config.legacySessions() == io.msm.config.LegacySessions.READ_WRITE,
                        config.operationTimeoutMillis(), ctx.clock(), stats, logPrefix);
        this.legacyWrites = legacy == null || config.legacySessions() != io.msm.config.LegacySessions.READ_WRITE
                ? null : new LegacyWrites(ctx.legacyKeys(), ctx.legacyConverter(), store,
                        config.operationTimeoutMillis(), logPrefix);
        this.availability = new NodeAvailability(store::isConnected, this::probe, this::availabilityChanged);
        holder[0] = availability;
        this.selector = new NodeSelector(nodes, availability::isAvailable);
        prober.scheduleWithFixedDelay(this::probeSuspects, PROBE_INTERVAL_MILLIS, PROBE_INTERVAL_MILLIS,
                TimeUnit.MILLISECONDS);
        this.notices = sticky && ctx.jvmRoute() != null
                ? new TakeoverNotices(store, ctx.keyPrefix(), ctx.owner(), ctx.jvmRoute(), ctx.clock()) : null;
        if (notices != null) {
            prober.scheduleWithFixedDelay(this::checkTakeovers, TakeoverNotices.POLL_MILLIS,
                    TakeoverNotices.POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
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
                return MemcachedSessionStore.open(config, ctx.name(), listener);
            } catch (IOException e) {
                throw new MsmException("[" + ctx.name() + "] cannot create memcached clients for "
                        + config.nodes() + ": " + e.getMessage(), e);
            }
        });
        engine.awaitConnections(config.operationTimeoutMillis());
        return engine;
    }

    /** Starts an engine on a given store (tests). */
    static SessionEngine start(MsmConfig config, EngineContext ctx,
            Function<MemcachedSessionStore.ConnectionListener, SessionStore> storeFactory) {
        SessionEngine engine = new SessionEngine(config, ctx, storeFactory);
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
        ended.remove(newId); // a session taken back under an id this Tomcat had dropped
        java.util.concurrent.CountDownLatch deleting = deferredDeletes.get(newId);
        if (deleting != null) {
            // the dropped copy's late write, and the delete after it, land before the copy taken back is written
            try {
                deleting.await(2L * config.operationTimeoutMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
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
            case AUTO: return lockingPaths.needsLock(path);
            case URI_PATTERN: return path != null && config.lockingUriPattern().get().matcher(path).matches();
            default: return false;
        }
    }

    /**
     * lockingMode="auto" learns from each request that used a session: a path takes no lock once
     * {@value LockingPaths#UNCHANGED_TO_LEARN} requests on it in a row left the session unchanged, and locks for good
     * once a request on it changed the session (see {@link LockingPaths}).
     */
    public void learn(String path, boolean changed) {
        if (path != null && learnsPaths()) {
            lockingPaths.learn(path, changed);
        }
    }

    /**
     * Takes the lock of session {@code id}: an {@code add} of a unique owner token that expires after
     * {@code lockExpiration} (so a crashed owner frees it), retried with a growing pause while another owner holds
     * it, for at most {@code operationTimeout}. With several session keys (a rotation) the lock has a key per name,
     * taken in one order (see {@link StorageKeys#locks}).
     *
     * While the session's node is unavailable, the lock is taken on the node of its secondary copy, under the id the
     * session moves to there, so the request can read that copy and move the session. The lock is renewed while the
     * request runs (see {@link LockKeeper}) until {@link #unlock(SessionLock)}.
     *
     * @return the lock, or {@code null} if it could not be taken in time or no node is available for it (counted)
     */
    public SessionLock lock(String id) {
        SessionId p = ids.parse(id);
        if (p == null) {
            return null;
        }
        String node = p.nodeId();
        String lockId = id;
        if (!availability.isAvailable(node)) {
            // the session is about to move off its node (it is read from its secondary copy): every Tomcat locks it
            // under the id it gets on the node holding that copy
            String bak = secondaryNode(node);
            if (bak != null) {
                node = bak;
                lockId = ids.format(p.random(), bak, p.jvmRoute());
            }
        }
        List<String> lockKeys = keys.locks(lockId);
        long[] cas = new long[lockKeys.size()];
        int taken = 0;
        byte[] token = new byte[16];
        random.nextBytes(token);
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(config.operationTimeoutMillis());
        long pause = LOCK_BACKOFF_START_MILLIS;
        boolean waited = false;
        while (availability.isAvailable(node)) {
            long added;
            long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try {
                added = store.add(node, lockKeys.get(taken), Expiration.of(config.lockExpirationSeconds(),
                        ctx.clock().getAsLong()), token, left);
            } catch (StoreException e) {
                storeFailed(e, left); // a timeout with less than operationTimeout left only queues a probe
                break;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, logPrefix + "taking the lock of session " + LogIds.of(id) + " failed", e);
                break;
            }
            if (added >= 0) {
                cas[taken++] = added;
                if (taken < lockKeys.size()) {
                    continue;
                }
                stats.count(Counter.LOCKS_ACQUIRED);
                if (waited) {
                    stats.count(Counter.LOCK_WAITS);
                    stats.time(Timer.LOCK_WAIT, System.nanoTime() - start);
                }
                SessionLock lock = new SessionLock(id, node, lockKeys, token, cas);
                if (lockKeeper != null) {
                    lockKeeper.keep(lock);
                }
                return lock;
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
        if (taken > 0) {
            unlock(new SessionLock(id, node, lockKeys.subList(0, taken), token, cas));
        }
        stats.count(Counter.LOCK_TIMEOUTS);
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        String lockNode = node;
        LOG.log(Level.DEBUG, () -> logPrefix + "lock of session " + LogIds.of(id) + " on memcached node " + lockNode
                + " not taken after " + waitedMillis + " ms");
        return null;
    }

    /** Releases a lock; only if it is still this owner's (a lock that expired and was taken by another stays). */
    public void unlock(SessionLock lock) {
        if (lock == null) {
            return;
        }
        if (lockKeeper != null) {
            lockKeeper.release(lock);
        }
        for (int i = 0; i < lock.keys.size(); i++) {
            try {
                store.compareAndDelete(lock.node, lock.keys.get(i), lock.token, lock.cas[i],
                        config.operationTimeoutMillis());
            } catch (StoreException e) {
                storeFailed(e, config.operationTimeoutMillis()); // it expires after lockExpiration
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, logPrefix + "releasing the lock of session " + LogIds.of(lock.sessionId) + " failed; it "
                        + "expires after lockExpiration", e);
            }
        }
    }

    /**
     * Pushes a held lock's expiration out again, to {@code lockExpiration} plus memcached's one-second resolution;
     * {@code true} if memcached still held it for this owner.
     */
    private boolean renew(SessionLock lock) {
        int exp = Expiration.of(config.lockExpirationSeconds() + 1L, ctx.clock().getAsLong());
        boolean held = true;
        for (String key : lock.keys) {
            try {
                io.msm.store.StoredValue v = store.getWithTtl(lock.node, key, exp, config.operationTimeoutMillis());
                if (v.value() == null || !java.util.Arrays.equals(v.value(), lock.token)) {
                    held = false; // expired, or another owner's since
                } else if (!v.refreshed()) {
                    held &= store.touch(lock.node, key, exp, config.operationTimeoutMillis());
                }
            } catch (StoreException e) {
                storeFailed(e, config.operationTimeoutMillis()); // not known to be lost: tried again next time
            }
        }
        return held;
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
        long cas = 0;
        long refreshedUntil = 0; // when the copy expires if the load refreshed it (for refreshedFor)
        String failure = null;
        int name = 0; // the name it was found under: 0 but after a key rotation (see StorageKeys)
        if (availability.isAvailable(node)) {
            try {
                if (sticky) {
                    blob = store.get(node, key(id), config.operationTimeoutMillis());
                } else {
                    // non-sticky, one call: the remaining TTL tells when any Tomcat last refreshed the session, and
                    // the same call refreshes it for this access (for the usual timeout; another one is touched)
                    refreshedFor = usualMaxInactive;
                    long seconds = refreshedFor > 0 ? refreshSeconds(refreshedFor) : 0;
                    long now = ctx.clock().getAsLong();
                    io.msm.store.StoredValue v = store.getWithTtl(node, key(id), seconds > 0
                            ? Expiration.of(seconds, now) : io.msm.store.SessionStore.KEEP_EXPIRATION,
                            config.operationTimeoutMillis());
                    blob = v.value();
                    ttl = v.ttlSeconds();
                    cas = v.cas();
                    if (v.refreshed()) {
                        refreshedUntil = now + seconds * 1000;
                    }
                }
                for (int n = 1; blob == null && n < keys.names(); n++) { // a key rotation: under a former key's name
                    blob = store.get(node, keys.primary(id, n), config.operationTimeoutMillis());
                    name = n;
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
            String[] from = new String[1];
            blob = loadSecondary(id, node, from);
            secondary = blob != null;
            if (secondary && legacy != null && io.msm.anchor.AnchorBlob.looksLikeOne(blob)) {
                try {
                    return legacy.loadSecondary(id, from[0], blob, start);
                } catch (StoreException e) {
                    storeFailed(e, config.operationTimeoutMillis());
                    stats.count(Counter.LOAD_FAILURES);
                    return LoadResult.of(LoadResult.Status.UNAVAILABLE, e.getMessage());
                }
            }
        }
        if (blob == null && failure != null) {
            stats.count(Counter.LOAD_FAILURES);
            return LoadResult.of(LoadResult.Status.UNAVAILABLE, failure);
        }
        if (legacy != null && !secondary && (blob == null || name == 0)) {
            try {
                LoadResult old = legacy.load(id, node, key(id), blob, cas, start);
                if (old != null) {
                    return old;
                }
            } catch (StoreException e) {
                storeFailed(e, config.operationTimeoutMillis());
                stats.count(Counter.LOAD_FAILURES);
                return LoadResult.of(LoadResult.Status.UNAVAILABLE, e.getMessage());
            }
        }
        LoadResult r = decode(id, node, blob, secondary, ttl, refreshedFor, refreshedUntil, start, name, cas);
        return sticky || secondary || name > 0 ? r : refreshedForItsTimeout(id, node, r, refreshedFor);
    }

    /**
     * Non-sticky: the read refreshed the copy for this Tomcat's usual timeout (or not at all, before it saw one); a
     * session whose own timeout differs (set by the application, possibly on another Tomcat) is touched for it now,
     * so the copy outlives a request longer than the usual timeout, a parallel request elsewhere does not find it
     * timed out, and a session that never times out is never dropped. One more call, only for such sessions.
     */
    private LoadResult refreshedForItsTimeout(String id, String node, LoadResult r, int refreshedFor) {
        if (!r.isFound() || r.timedOut() || r.data().maxInactiveInterval() == refreshedFor) {
            return r;
        }
        int mi = r.data().maxInactiveInterval();
        long now = ctx.clock().getAsLong();
        long seconds = mi > 0 ? refreshSeconds(mi) : 0;
        try {
            if (store.touch(node, key(id), Expiration.of(seconds, now), config.operationTimeoutMillis())) {
                stats.count(Counter.TOUCHES);
                r.withStoreExpiresAt(seconds <= 0 ? Long.MAX_VALUE : now + seconds * 1000);
            }
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis()); // the request's end touches it again
        }
        return r;
    }

    /** The copy hash of the session in {@code blob} ({@link BlobCodec#copyHash}); {@code 0} if none or unreadable. */
    long storedCopyHash(String id, byte[] blob) {
        if (blob == null || Tombstones.is(blob)) {
            return 0;
        }
        if (legacy != null && LegacyLoads.timeoutOf(id, blob) != null) {
            return LegacyWrites.contentHash(blob); // what readWrite's writes record (hadContent)
        }
        try {
            byte[] opened = sealer.open(blob);
            return BlobCodec.decode(opened).id().equals(id) ? BlobCodec.copyHash(opened) : 0;
        } catch (RuntimeException e) { // UnreadableBlobException (an untrusted blob too)
            return 0;
        }
    }

    /**
     * {@code readWrite}, non-sticky: the last access to {@code id} its old-format validity record dates, which
     * Tomcats still running memcached-session-manager write without touching the copy; {@code -1} otherwise.
     *
     * @throws StoreException memcached did not answer
     */
    long legacyAccessed(String id, String node) {
        return legacyWrites == null || sticky ? -1 : legacy.accessedAt(id, node);
    }

    /**
     * The timeout of the session in {@code blob} (a copy the timeout watch read), as the Tomcat that stored it last
     * set it; {@code null} if the copy is not a readable session of this id (the watch's decode says why).
     */
    Integer storedTimeout(String id, byte[] blob) {
        if (legacy != null && io.msm.anchor.AnchorBlob.looksLikeOne(blob)) {
            return LegacyLoads.timeoutOf(id, blob);
        }
        try {
            SessionData data = BlobCodec.decode(sealer.open(blob));
            return data.id().equals(id) && data.isValid() ? data.maxInactiveInterval() : null;
        } catch (RuntimeException e) { // UnreadableBlobException (an untrusted blob too)
            return null;
        }
    }

    /**
     * The session in a copy read from memcached: {@code blob} as the timeout watch read it (with its remaining TTL), so
     * a session that timed out is ended from the copy that told so, not from a second read that may come after
     * memcached dropped it.
     */
    LoadResult decodeRead(String id, byte[] blob) {
        SessionId p = ids.parse(id);
        if (legacy != null && io.msm.anchor.AnchorBlob.looksLikeOne(blob)) {
            return legacy.decodeTimedOut(id, p == null ? "?" : p.nodeId(), blob);
        }
        return decode(id, p == null ? "?" : p.nodeId(), blob, false, io.msm.store.StoredValue.UNKNOWN_TTL, -1, 0,
                System.nanoTime(), 0, 0);
    }

    /**
     * {@link #load(String)}'s second half: checks and decodes what the read found. The parameters are what the read
     * learned besides the bytes: from the secondary copy, the remaining TTL, the timeout the read refreshed the copy
     * for and until when, when the read started, the key name it was found under, its CAS.
     */
    private LoadResult decode(String id, String node, byte[] blob, boolean secondary, int ttl, int refreshedFor,
            long refreshedUntil, long start, int name, long cas) {
        if (blob == null || Tombstones.is(blob)) {
            if (idle != null) {
                idle.forget(id);
            }
            stats.count(Counter.SESSIONS_NOT_FOUND);
            return LoadResult.of(LoadResult.Status.NOT_FOUND, blob == null ? "not in memcached" : "the session ended");
        }
        try {
            byte[] opened = sealer.open(blob);
            SessionData data = BlobCodec.decode(opened);
            if (!data.id().equals(id)) {
                throw new TranscoderException("the blob stored under this id belongs to session "
                        + LogIds.of(data.id()));
            }
            if (!data.isValid()) {
                stats.count(Counter.SESSIONS_NOT_FOUND);
                return LoadResult.of(LoadResult.Status.NOT_FOUND, "stored session is invalidated");
            }
            byte[] owner = data.notes().get(OWNER_NOTE);
            String otherWebapp = binding != null ? binding.otherWebapp(data)
                    : ownerNote != null && owner != null && !java.util.Arrays.equals(owner, ownerNote)
                    ? new String(owner, java.nio.charset.StandardCharsets.UTF_8) : null;
            if (otherWebapp != null) {
                stats.count(Counter.SESSIONS_NOT_FOUND);
                return LoadResult.of(LoadResult.Status.NOT_FOUND, "the session belongs to webapp " + otherWebapp);
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
                    lastAccessed(data, ttl), storeExpiresAt, !secondary && name > 0)
                    .withCas(secondary || name > 0 ? 0 : cas).timedOut(!sticky && ExpiryWatch.timedOut(ttl, mi))
                    .withCopyHash(BlobCodec.copyHash(opened));
        } catch (UntrustedBlobException e) {
            stats.count(Counter.UNTRUSTED_SESSIONS);
            String reason = e.getMessage();
            LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " in memcached node " + node
                    + " is refused, not written with this manager's keys (" + reason + "); the request gets a new"
                    + " session");
            return LoadResult.of(LoadResult.Status.UNREADABLE, reason);
        } catch (UnreadableBlobException | TranscoderException e) {
            stats.count(Counter.UNREADABLE_SESSIONS);
            String reason = e.getMessage();
            LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " in memcached node " + node
                    + " is unreadable (" + reason + "); the request gets a new session");
            return LoadResult.of(LoadResult.Status.UNREADABLE, reason);
        } catch (RuntimeException | LinkageError e) {
            // A transcoder broke its contract; still never fail the request.
            stats.count(Counter.UNREADABLE_SESSIONS);
            LOG.log(Level.WARNING, logPrefix + "session " + LogIds.of(id) + " in memcached node " + node
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
        // the shortest refresh (timeout + slack) even with readWrite's longer one: a Tomcat in read mode refreshes so
        long sinceRefresh = Math.max(0, (long) mi + slackSeconds(mi) - ttl) * 1000;
        return Math.min(now, Math.max(fromBlob, now - sinceRefresh));
    }

    /**
     * The secondary copy of {@code id}, looked for on every available node but its primary (the node it is found on
     * goes to {@code foundOn[0]}); {@code null} if none.
     * A request waits for its secondary copy at most {@code sessionBackupTimeout}, so the copy of the very last change
     * may still be on its way from another Tomcat: this rare path (once per session, when its node failed) first
     * waits {@link #SECONDARY_GRACE_MILLIS} for it to land; not when no other node is available (nothing can land).
     */
    private byte[] loadSecondary(String id, String primaryNode, String[] foundOn) {
        List<MemcachedNode> others = new java.util.ArrayList<>(config.nodes().size());
        for (MemcachedNode n : config.nodes()) {
            if (!n.id().equals(primaryNode) && availability.isAvailable(n.id())) {
                others.add(n);
            }
        }
        if (others.isEmpty()) {
            return null;
        }
        try {
            Thread.sleep(SECONDARY_GRACE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (MemcachedNode n : others) {
            if (!availability.isAvailable(n.id())) {
                continue;
            }
            try {
                for (int name = 0; name < keys.names(); name++) {
                    byte[] blob = store.get(n.id(), keys.secondary(id, name), config.operationTimeoutMillis());
                    if (blob != null) {
                        foundOn[0] = n.id();
                        return blob;
                    }
                }
            } catch (StoreException e) {
                storeFailed(e, config.operationTimeoutMillis());
            }
        }
        return null;
    }

    /**
     * Whether memcached may hold session {@code id}, to choose among several session cookies of one request: one get
     * of its primary copy, or (non-sticky, its node unavailable) of its secondary copy; nothing is deserialized.
     * {@code false} for an id of another configuration, a session that ended here, or one no available node has.
     */
    public boolean mayExist(String id) {
        SessionId p = ids.parse(id);
        if (p == null || !selector.isKnown(p.nodeId()) || ended.containsKey(id)) {
            return false;
        }
        String node = p.nodeId();
        String key = key(id);
        if (!availability.isAvailable(node)) {
            node = sticky ? null : secondaryNode(node);
            key = keys.secondary(id, 0); // not "bak:" + key: either may be hashed to fit (see StorageKeys)
        }
        if (node == null) {
            return false;
        }
        try {
            return store.get(node, key, config.operationTimeoutMillis()) != null
                    || legacy != null && key.equals(key(id)) && legacy.mayExist(id, node, key);
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis());
            return false;
        }
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
        st.hadContent(loaded.copyHash());
        st.cas = loaded.cas();
        st.lastBlob = sticky ? null : loaded.blob();
        st.version = idle == null ? null : loaded.version();
        st.layout = AttributeChunker.layoutOf(loaded.data(), loaded.attributes());
        if (st.layout != null) {
            st.recordAccessedNames();
        }
        st.stored = true;
        // unless the load refreshed it, memcached did not say when the copy expires: refreshed when the request ends
        st.storeExpiresAt = loaded.storeExpiresAt();
        if (loaded.underFormerName()) { // a key rotation: stored under the first key's name when the request ends
            st.stored = false;
            st.underFormerName = true;
            st.metadataChanged();
        }
        if (loaded.legacy() != null) { // memcached-session-manager's format: stored in msm's when the request ends
            st.stored = false;
            st.version = null;
            st.legacy = loaded.legacy().keys.isEmpty() ? null : loaded.legacy();
            st.metadataChanged();
        }
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
        } else if (needsTouch(session, st, now) || secondaryDue(session, now) || legacyWrites != null && !sticky) {
            run(session, Work.TOUCH, false); // readWrite: every request dates its access in the validity record
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
        run(session, Work.WRITE, true);
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
        long keepUntil = keepTombstoneUntil(maxInactiveSeconds);
        for (String id : abandoned) {
            ended.put(id, keepUntil);
        }
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
                awaitCompleted(s, st, seq, sticky ? config.sessionBackupTimeoutMillis() : coalescedWaitMillis());
            }
        }
    }

    /**
     * Non-sticky: how long a request waits for a write another thread runs for its session (its own change is
     * written by that runner next, with its secondary copy): the running write, then its own, each bounded by
     * {@code operationTimeout} and the secondary's {@code sessionBackupTimeout}. Its response must not leave before
     * memcached holds the change, or the user's next request, on another Tomcat, would miss it.
     */
    private long coalescedWaitMillis() {
        return 2 * ((long) config.operationTimeoutMillis() + config.sessionBackupTimeoutMillis());
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
                LOG.log(Level.WARNING, logPrefix + "cannot start a backup of session " + LogIds.of(s.id()), e);
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
                    if (delay(s, st, wait)) {
                        return; // the runner stays running: what requests ask meanwhile goes into the delayed run
                    }
                    // stopping meanwhile: written now, on this thread
                }
            }
            try {
                runOnce(s, st, requestThread);
            } catch (RuntimeException | Error e) {
                stats.count(Counter.BACKUP_FAILURES);
                LOG.log(Level.WARNING, logPrefix + "backup of session " + LogIds.of(s.id()) + " failed", e);
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
     *
     * @return {@code false} if the engine is stopping and the caller must write now instead
     */
    private boolean delay(ManagedSession s, SessionState st, long nanos) {
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
        boolean scheduled;
        try {
            prober.schedule(resume, nanos, TimeUnit.NANOSECONDS);
            scheduled = true;
        } catch (RejectedExecutionException stoppingNow) {
            scheduled = false;
        }
        // stop() may have flushed the delayed runs before this one was registered, and shut the backup threads down:
        // a run handed to them now would be refused and the session's last change lost
        if ((stopping || !scheduled) && delayed.remove(st, resume)) {
            tasks.decrementAndGet();
            return false;
        }
        return true;
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
                    LOG.log(Level.DEBUG, () -> logPrefix + "stopped waiting for the backup of session " + LogIds.of(s.id())
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
        if (st.retired) {
            return; // another Tomcat took it over: its copy is the session now
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
        if (binding != null) {
            binding.addTo(meta);
        }
        String id = meta.build().id();
        // readWrite: as memcached-session-manager stores it (msm's format if it could not read this session)
        byte[] legacyBlob = null;
        if (legacyWrites != null) {
            try {
                legacyBlob = legacyWrites.encode(meta.build(), filter(s.attributes()), ctx.clock().getAsLong());
            } catch (ConcurrentModificationException e) {
                stats.count(Counter.BACKUP_FAILURES);
                LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " cannot be serialized, not "
                        + "stored: " + e);
                return true;
            }
        }
        AttributeChunker.Serialized serialized = legacyBlob != null ? null : serialize(s, id);
        if (legacyBlob == null && serialized == null) {
            return true;
        }
        byte[] encoded = legacyBlob != null ? legacyBlob : BlobCodec.encode((serialized.names == null
                ? meta.attributes(serialized.chunks.get(0))
                : meta.attributeChunks(serialized.chunks, serialized.names)).build());
        long hash = legacyBlob != null ? LegacyWrites.contentHash(legacyBlob) : BlobCodec.contentHash(encoded);
        // what memcached holds once this write succeeds (or already holds when unchanged)
        IdleSessionCache.Version version = idle == null || serialized == null ? null
                : new IdleSessionCache.Version(attributesHash(serialized.chunks), length(serialized.chunks),
                        serialized.attributes);
        if (st.stored && hash == st.storedHash && id.equals(st.storedId)) {
            stats.count(Counter.BACKUPS_UNCHANGED);
            unsaved.remove(s);
            st.version = version;
            return false;
        }
        byte[] blob = legacyBlob != null ? legacyBlob : sealer.seal(encoded); // the old manager reads it as it is
        SessionId p = ids.parse(id);
        if (p == null) {
            LOG.log(Level.WARNING, () -> logPrefix + "session id " + LogIds.of(id) + " is not an msm id; not stored");
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
        // request thread sends both and reads both answers itself; a backup thread sends the secondary through the
        // store's I/O thread and waits for its answer too, as does a request when the secondary node is being probed
        // (not waiting for it then).
        String paired = sticky || !requestThread ? null : secondaryNode(node);
        if (paired != null && probing.contains(paired)) {
            paired = null;
        }
        // non-sticky: conditional, so a session ended meanwhile on another Tomcat stays ended (see Tombstones)
        long expected = sticky ? SessionStore.ANY : Tombstones.expected(st, id);
        SecondaryWrite secondary = null;
        SessionStore.Secondary pairedOutcome = null;
        long written;
        try {
            if (expected == Tombstones.UNKNOWN) {
                expected = tombstones.read(node, key(id), timeout);
            }
            written = expected;
            if (expected != Tombstones.ENDED) {
                secondary = sticky || paired != null ? null : sendSecondary(s, st, id, blob);
                if (paired != null) {
                    SessionStore.Paired w = store.storeWithSecondary(node, key(id), Expiration.of(ttl, now), blob,
                            expected, timeout, paired, keys.secondary(id, 0), Expiration.of(ttl, now),
                            config.sessionBackupTimeoutMillis());
                    written = w.primary;
                    pairedOutcome = w.secondary;
                } else {
                    written = store.storeIf(node, key(id), Expiration.of(ttl, now), blob, expected, timeout);
                }
                if (written < 0) {
                    written = tombstones.retry(node, key(id), Expiration.of(ttl, now), blob, written, timeout);
                }
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
        if (written == Tombstones.ENDED) {
            endedElsewhere(s, st, id, node, secondary);
            return true;
        }
        String previous = st.storedId;
        st.storedId = id;
        st.storedHash = hash;
        st.hadContent(legacyBlob != null ? hash : BlobCodec.copyHash(encoded));
        st.cas = written;
        st.stored = true;
        st.version = version;
        st.storeExpiresAt = ttl <= 0 ? Long.MAX_VALUE : now + ttl * 1000;
        unsaved.remove(s);
        stats.count(Counter.BACKUPS);
        stats.storedSize(blob.length);
        stats.time(Timer.BACKUP, System.nanoTime() - start);
        if (!sticky) {
            if (legacyWrites != null) {
                legacyWrites.validity(node, secondaryNode(node), id, s.maxInactiveInterval(), s.thisAccessedTime(),
                        now);
            }
            st.lastBlob = blob;
            // Awaited (briefly), also on a backup thread writing for a waiting request: the user's next request,
            // maybe on another Tomcat, must not find its newer secondary copy overwritten by this one arriving late
            // over this Tomcat's connection.
            if (secondary != null) {
                secondary.await();
            }
            if (pairedOutcome != null) {
                secondaryAnswered(st, id, paired, pairedOutcome == SessionStore.Secondary.STORED, now);
                if (pairedOutcome == SessionStore.Secondary.TIMED_OUT) {
                    long waited = config.sessionBackupTimeoutMillis();
                    storeFailed(StoreException.timeout("set", keys.secondary(id, 0), paired, waited, "secondary copy"),
                            waited);
                }
            }
        }
        if (st.underFormerName && requestThread && !sticky) {
            // before the response: the user's next request may reach a Tomcat that looks under the former name first
            st.underFormerName = false;
            deleteNames(id, 1);
        }
        // the new copy is stored: copies under former ids go (off the request thread)
        if (previous != null && !previous.equals(id)) {
            st.attempted.add(previous);
            if (abandoned(previous, id)) {
                // the application gave the session a new id (a login): the old one ends now, never loaded again
                ended.put(previous, keepTombstoneUntil(s.maxInactiveInterval()));
                if (!sticky && requestThread) {
                    endEverywhere(previous); // before the response: no Tomcat finds it any more
                    st.attempted.remove(previous);
                }
            }
        }
        st.attempted.remove(id);
        if (!st.attempted.isEmpty() || st.underFormerName || st.legacy != null) {
            if (requestThread) {
                defer(st, Work.TOUCH);
            } else {
                deleteObsolete(st);
            }
        }
        return true;
    }

    /**
     * {@code true} if {@code newId} replaced {@code oldId} for the application (a new random part, e.g. at a login),
     * not because msm moved the session to another node or Tomcat (same random part).
     */
    private boolean abandoned(String oldId, String newId) {
        SessionId from = ids.parse(oldId);
        SessionId to = ids.parse(newId);
        return from != null && to != null && !from.random().equals(to.random());
    }

    /**
     * Non-sticky: the session ended on another Tomcat while this one served a request of it (its key holds a
     * tombstone): the change is dropped and the secondary copy this write sent is deleted again.
     */
    private void endedElsewhere(ManagedSession s, SessionState st, String id, String node, SecondaryWrite secondary) {
        if (secondary != null) {
            secondary.await(); // deleted after it landed
        }
        ended.put(id, keepTombstoneUntil(s.maxInactiveInterval()));
        unsaved.remove(s);
        st.stored = false;
        st.storedId = null;
        st.version = null;
        deleteSecondaries(id, node);
        LOG.log(Level.DEBUG, () -> logPrefix + "session " + LogIds.of(id) + " ended on another Tomcat while a request used it "
                + "here: the request's changes are not stored");
    }

    /** memcached refused the blob as larger than its item size: said once per session, counted every time. */
    private void reportTooLarge(SessionState st, String id, int size, StoreException e) {
        stats.count(Counter.OVERSIZED_SESSIONS);
        if (!st.tooLargeReported) {
            st.tooLargeReported = true;
            LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " is " + size + " bytes stored, more than "
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
        if (s.isActive() && !unsaved.add(s) && unsavedFull.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, () -> logPrefix + UnsavedSessions.NON_STICKY_MAX + " sessions are waiting for a "
                    + "memcached node: until one is available, others that cannot be stored are not kept in memory "
                    + "(their users get a new session)");
        }
    }

    /** Deletes the keys of former ids of a session, and its copies under former names (it is stored as it is now). */
    private void deleteObsolete(SessionState st) {
        if (st.underFormerName) {
            st.underFormerName = false;
            deleteNames(st.storedId, 1);
        }
        LegacyLoads.Leftovers leftovers = st.legacy;
        if (leftovers != null && legacy != null) {
            st.legacy = null;
            legacy.delete(leftovers);
        }
        String current = st.storedId;
        for (String old : st.attempted) {
            if (!old.equals(current)) {
                if (!sticky && current != null && abandoned(old, current)) {
                    endEverywhere(old);
                } else {
                    deleteKey(old);
                }
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
                LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " cannot be serialized, not stored: " + e);
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
        if (legacyWrites != null && !sticky) {
            // as memcached-session-manager: it rewrites a blob a timeout after its last write at the earliest (dating
            // the accesses in between in the validity record), so the blob lives twice the timeout
            return refreshSeconds(mi);
        }
        long lastActivity = Math.max(s.thisAccessedTime(), st.lastRequestEnd);
        long idleSeconds = Math.max(0, (now - lastActivity) / 1000);
        return Math.max(1, mi - idleSeconds) + slackSeconds(mi);
    }

    /**
     * Non-sticky: the TTL an access gives the stored copy, {@code maxInactive} seconds plus slack; {@code readWrite}:
     * twice the timeout, as memcached-session-manager gives its blob (see {@link #ttlSeconds}).
     */
    private long refreshSeconds(int mi) {
        return legacyWrites != null ? 2L * mi : (long) mi + slackSeconds(mi);
    }

    /** @param always touch even if the stored copy outlives the session (to learn whether memcached still has it) */
    private void touchIfNeeded(ManagedSession s, SessionState st, boolean always) {
        if ((!st.attempted.isEmpty() || st.underFormerName || st.legacy != null) && st.stored) {
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
        if (legacyWrites != null && !sticky) {
            legacyWrites.validity(p.nodeId(), secondaryNode(p.nodeId()), id, s.maxInactiveInterval(),
                    s.thisAccessedTime(), now);
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
                execute(() -> deleteSecondaryOn(previous, id, 0));
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
        SecondaryWrite w = new SecondaryWrite(node, keys.secondary(id, 0));
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
            if (store.touch(node, keys.secondary(s.id(), 0), exp, config.operationTimeoutMillis())) {
                st.bakNode = node;
                secondaryRefreshed.put(s.id(), now);
                stats.count(Counter.TOUCHES);
            } else if (primaryIsStill(st, primaryNode, s.id())) {
                writeSecondary(s, st, false); // missing there: write it from the blob this Tomcat holds
            }
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis());
        }
    }

    /**
     * Whether memcached's primary copy is still the blob this Tomcat holds (not a tombstone, not another Tomcat's
     * version): only then is a missing secondary copy written again from it.
     */
    private boolean primaryIsStill(SessionState st, String primaryNode, String id) {
        byte[] mine = st.lastBlob;
        return mine != null && java.util.Arrays.equals(mine,
                store.gets(primaryNode, key(id), config.operationTimeoutMillis()).value());
    }

    /** Deletes the secondary copies of {@code id}, under every name, on every available node but its primary one. */
    private void deleteSecondaries(String id, String primaryNode) {
        for (int name = 0; name < keys.names(); name++) {
            for (MemcachedNode n : config.nodes()) {
                if (!n.id().equals(primaryNode)) {
                    deleteSecondaryOn(n.id(), id, name);
                }
            }
        }
    }

    /** Deletes the secondary copy of session {@code id} under name {@code name} on {@code node}. */
    private void deleteSecondaryOn(String node, String id, int name) {
        if (!availability.isAvailable(node)) {
            return; // it expires by its TTL
        }
        try {
            store.delete(node, keys.secondary(id, name), config.operationTimeoutMillis());
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
        Set<String> randoms = new java.util.HashSet<>();
        for (String old : st.attempted) {
            SessionId p = ids.parse(old);
            if (sticky || p == null) {
                deleteKey(old);
            } else if (randoms.add(p.random())) {
                endEverywhere(old);
            }
            st.attempted.remove(old);
        }
    }

    /**
     * Non-sticky: the session of {@code id} ended. Its key gets a tombstone, and so does the key its id would have on
     * every other node: a request of it still running on another Tomcat that moves it off a node that died meanwhile
     * then finds a tombstone there too, instead of storing the session anew.
     */
    private void endEverywhere(String id) {
        SessionId p = ids.parse(id);
        Long until = ended.get(id);
        deleteKey(id);
        if (p == null) {
            return;
        }
        for (MemcachedNode n : config.nodes()) {
            if (!n.id().equals(p.nodeId())) {
                String variant = ids.format(p.random(), n.id(), p.jvmRoute());
                if (until != null) {
                    ended.put(variant, until);
                }
                if (!availability.isAvailable(n.id()) || !putTombstone(variant, n.id())) {
                    pendingDeletes.put(variant, n.id());
                } else {
                    ended.remove(variant); // memcached holds its tombstone: nothing to remember here
                }
            }
        }
    }

    /** A tombstone lives as long as any copy of its session could: until its id's end in {@link #ended}. */
    private int tombstoneExpiration(String id) {
        long now = ctx.clock().getAsLong();
        Long until = ended.get(id);
        long seconds = until != null ? Math.max(1, (until - now + 999) / 1000)
                : (keepTombstoneUntil(usualMaxInactive) - now) / 1000;
        return Expiration.of(seconds, now);
    }

    /** Puts the tombstone of {@code id} on {@code node}; {@code false} if memcached could not be told. */
    private boolean putTombstone(String id, String node) {
        try {
            for (int name = 0; name < keys.names(); name++) { // under every name (see deleteNames)
                tombstones.put(node, keys.primary(id, name), tombstoneExpiration(id), config.operationTimeoutMillis());
            }
            return true;
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis());
            return false;
        }
    }

    /**
     * Deletes a key; if its node cannot be reached now, the delete is retried when the node returns. Non-sticky, the
     * key gets a tombstone instead (see {@link Tombstones}), and the secondary copies on the other nodes are deleted
     * at once, even while the primary's node is down: a request for the id would read them then.
     */
    private void deleteKey(String id) {
        SessionId p = ids.parse(id);
        if (p == null) {
            return;
        }
        if (!availability.isAvailable(p.nodeId())) {
            if (!sticky) {
                // now: a request for the id would read them (deleteNames does it when the node is available)
                deleteSecondaries(id, p.nodeId());
            }
            pendingDeletes.put(id, p.nodeId());
            return;
        }
        if (deleteNames(id, 0)) {
            pendingDeletes.remove(id);
            ended.remove(id);
        } else {
            pendingDeletes.put(id, p.nodeId());
        }
    }

    /**
     * Deletes the copies of session {@code id} under its names from {@code first} on (0: every name; 1: the former
     * ones, after a key rotation), secondary copies included; {@code true} if memcached answered. Non-sticky, every
     * name (0) means the id ended: each name gets a tombstone instead.
     */
    private boolean deleteNames(String id, int first) {
        SessionId p = ids.parse(id);
        if (p == null) {
            return true;
        }
        for (int name = first; name < keys.names(); name++) {
            if (!sticky) {
                // the secondary copy may sit on any other node
                for (MemcachedNode n : config.nodes()) {
                    if (!n.id().equals(p.nodeId())) {
                        deleteSecondaryOn(n.id(), id, name);
                    }
                }
            }
            try {
                if (sticky || first > 0) {
                    store.delete(p.nodeId(), keys.primary(id, name), config.operationTimeoutMillis());
                } else { // ended: under every name, so a Tomcat with another key first cannot write it again
                    tombstones.put(p.nodeId(), keys.primary(id, name), tombstoneExpiration(id),
                            config.operationTimeoutMillis());
                }
                stats.count(Counter.DELETES);
            } catch (StoreException e) {
                storeFailed(e, config.operationTimeoutMillis());
                return false;
            }
        }
        return true;
    }

    /** Forgets ended ids and pending deletes whose copies have expired in memcached anyway. */
    private void purgeEnded() {
        long now = ctx.clock().getAsLong();
        if (idle != null) {
            idle.purge(now);
        }
        secondaryRefreshed.values().removeIf(at -> now - at > SECONDARY_REFRESH_KEPT_MILLIS);
        if (!sticky && !unsaved.isEmpty()) {
            unsaved.purge(now, ctx.residents());
        }
        ended.entrySet().removeIf(e -> {
            boolean expired = e.getValue() < now;
            if (expired) {
                pendingDeletes.remove(e.getKey());
            }
            return expired;
        });
    }

    // ====================================================================== takeovers (sticky)

    /**
     * {@code true} if {@code id} names another Tomcat's jvmRoute (sticky mode with a jvmRoute): the balancer sent the
     * request here, and the session may have moved between Tomcats since this one last served it.
     */
    public boolean isOtherTomcats(String id) {
        if (notices == null) {
            return false;
        }
        SessionId p = ids.parse(id);
        return p != null && p.jvmRoute() != null && !p.jvmRoute().equals(ctx.jvmRoute());
    }

    /**
     * This Tomcat took over the session stored as {@code formerId} in the copy {@code copyHash} names (it loaded
     * it and gave it its own jvmRoute): leaves a notice for the Tomcat of the former id's route, which may still hold
     * a copy, before the response (the user's next request may go there). Never throws.
     */
    public void tookOver(String formerId, long copyHash) {
        SessionId p = ids.parse(formerId);
        if (!isOtherTomcats(formerId) || p == null) {
            return;
        }
        String node = availability.isAvailable(p.nodeId()) ? p.nodeId() : selector.forNewSession();
        try {
            notices.announce(p.jvmRoute(), formerId, copyHash, node, config.operationTimeoutMillis());
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis());
            LOG.log(Level.DEBUG, () -> logPrefix + "no takeover notice for the Tomcat of jvmRoute " + p.jvmRoute()
                    + ": " + e.getMessage());
        }
    }

    /**
     * Reads this Tomcat's takeover notices on every available node and drops the sessions other Tomcats took over
     * (a few times a second, and before a request that names another Tomcat's route looks its session up). Never
     * throws.
     */
    public void checkTakeovers() {
        if (notices != null && !stopping) {
            // a read that started after this call (notices left before this request was sent), shared by the
            // requests that arrive meanwhile; one read at a time, so one read by the background task is applied
            // before a request that may take a session back goes on
            takeoverReads.await(config.operationTimeoutMillis());
        }
    }

    /** Reads the notices on every available node, all within {@code deadlineNanos} (the rest are read next time). */
    private void readTakeovers(long deadlineNanos) {
        Map<String, List<TakeoverNotices.Notice>> taken = new java.util.HashMap<>();
        Set<String> endedTokens = new java.util.HashSet<>();
        for (MemcachedNode n : config.nodes()) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            if (left <= 0) {
                break;
            }
            if (!availability.isAvailable(n.id())) {
                continue;
            }
            try {
                for (TakeoverNotices.Notice notice : notices.collect(ctx.jvmRoute(), n.id(), deadlineNanos)) {
                    if (notice.end) {
                        endedTokens.add(notice.token);
                    } else {
                        taken.computeIfAbsent(notice.token, t -> new java.util.ArrayList<>()).add(notice);
                    }
                }
            } catch (StoreException e) {
                storeFailed(e, left);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, logPrefix + "reading takeover notices failed", e);
            }
        }
        if (!endedTokens.isEmpty()) {
            endTakenSessions(endedTokens);
        }
        if (taken.isEmpty()) {
            return;
        }
        Map<ManagedSession, Long> dropped = new java.util.LinkedHashMap<>();
        for (ManagedSession s : ctx.residents()) {
            List<TakeoverNotices.Notice> named = taken.get(notices.token(s.id()));
            if (named == null) {
                continue;
            }
            // only the copy that was taken, or one this session object wrote after it: a session taken back
            // since is another object, which never had that content
            for (TakeoverNotices.Notice notice : named) {
                if (s.state().hadContentLately(notice.hash)) {
                    s.state().takenBy = notice.route;
                    markRetired(s); // all first: none starts another write while the others' are awaited
                    dropped.put(s, notice.hash);
                    break;
                }
            }
        }
        // writes already on their way end in parallel: one wait for all of them, within the read's deadline (a
        // request's operationTimeout, however many sessions the notices name)
        long waitUntil = Math.max(deadlineNanos, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(
                Math.min(config.operationTimeoutMillis(), 50)));
        for (Map.Entry<ManagedSession, Long> d : dropped.entrySet()) {
            awaitRunnerIdle(d.getKey().state(), TimeUnit.NANOSECONDS.toMillis(waitUntil - System.nanoTime()));
        }
        for (Map.Entry<ManagedSession, Long> d : dropped.entrySet()) {
            deleteRewritten(d.getKey(), d.getValue(), waitUntil, true);
        }
    }

    /**
     * Sessions this Tomcat took over whose former copy a request on the Tomcat they were taken from ended meanwhile (a
     * logout the balancer gave up waiting for): they end here, where they live, with their listeners.
     */
    private void endTakenSessions(Set<String> endedTokens) {
        for (ManagedSession s : ctx.residents()) {
            if (s.state().retired || !s.isActive()) {
                continue;
            }
            for (String former : s.formerIds()) {
                if (endedTokens.contains(notices.token(former))) {
                    LOG.log(Level.DEBUG, () -> logPrefix + "session " + LogIds.of(s.id()) + " ended on the Tomcat it"
                            + " was taken over from: ended here");
                    expiry.endLater(() -> {
                        try {
                            ctx.endedElsewhere(s);
                        } catch (RuntimeException | LinkageError e) {
                            LOG.log(Level.WARNING, logPrefix + "ending a session ended on another Tomcat failed", e);
                        }
                    });
                    break;
                }
            }
        }
    }

    /**
     * Sticky: a request still running here ended {@code s}, a copy another Tomcat took over meanwhile (the balancer
     * gave up on this Tomcat and sent the user on): the Tomcat that took it is told to end it, so a logout anywhere
     * ends the session everywhere. One append, on the request's thread, bounded by {@code operationTimeout}.
     */
    public void endedAfterTakeover(ManagedSession s) {
        SessionState st = s.state();
        String takenBy = st.takenBy;
        SessionId p = ids.parse(s.id());
        if (notices == null || takenBy == null || p == null) {
            return;
        }
        String node = availability.isAvailable(p.nodeId()) ? p.nodeId() : selector.forNewSession();
        try {
            notices.announceEnd(takenBy, s.id(), node, config.operationTimeoutMillis());
        } catch (StoreException e) {
            storeFailed(e, config.operationTimeoutMillis());
            LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(s.id()) + " ended here after the Tomcat "
                    + "of jvmRoute " + takenBy + " took it over, which could not be told: it lives on there ("
                    + e.getMessage() + ")");
        }
    }

    /**
     * For a session retired by a notice: if this Tomcat wrote it again after the copy the other Tomcat took (a
     * request it still served late), that write recreated the key the other deleted: deleted here, after the
     * session's runner finished, before this Tomcat may take the session back under the same id.
     */
    private void deleteRewritten(ManagedSession s, long takenHash, long deadlineNanos, boolean mayDefer) {
        SessionState st = s.state();
        boolean running;
        synchronized (st) {
            running = st.running;
        }
        if (running && mayDefer) {
            // its write outlasted the wait: the background thread waits for it (bounded) and deletes after it, so
            // the request goes on; a take-back of this very session here waits for that delete (relocated)
            String id = s.id();
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            deferredDeletes.put(id, done);
            try {
                prober.execute(() -> {
                    try {
                        awaitRunnerIdle(st, config.operationTimeoutMillis());
                        deleteRewritten(s, takenHash, System.nanoTime()
                                + TimeUnit.MILLISECONDS.toNanos(config.operationTimeoutMillis()), false);
                    } finally {
                        deferredDeletes.remove(id, done);
                        done.countDown();
                    }
                });
            } catch (RejectedExecutionException stopping) {
                // stopping: nothing is taken back any more
                deferredDeletes.remove(id, done);
                done.countDown();
            }
            return;
        }
        String id = s.id();
        SessionId p = ids.parse(id);
        if (st.stored && st.lastCopyHash() != takenHash && id.equals(st.storedId) && p != null
                && availability.isAvailable(p.nodeId())) {
            // a little time even past the read's deadline: a stale key left here would be taken over again later
            long millis = Math.max(TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()),
                    Math.min(config.operationTimeoutMillis(), 50));
            try {
                store.delete(p.nodeId(), key(id), millis);
                stats.count(Counter.DELETES);
            } catch (StoreException e) {
                storeFailed(e, millis);
            }
        }
    }

    private static void awaitRunnerIdle(SessionState st, long maxMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        synchronized (st) {
            while (st.running) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
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

    /**
     * Drops a session this Tomcat holds because another Tomcat serves it now (sticky): it is never written, touched
     * or deleted from here again, its id is not loaded here again (until this Tomcat takes the session back), and the
     * container forgets it. Not an end: no listener is told. Returns once a write of it already running ended (at
     * most {@code operationTimeout}).
     */
    public void retire(ManagedSession s) {
        markRetired(s);
        // a write of this copy already on its way ends first (bounded): the session may be taken back under this id
        // at once, and that copy's write must land after it
        awaitRunnerIdle(s.state(), config.operationTimeoutMillis());
    }

    /** {@link #retire} without waiting for a write of the copy already on its way. */
    private void markRetired(ManagedSession s) {
        SessionState st = s.state();
        st.retired = true;
        unsaved.remove(s);
        Runnable waiting = delayed.get(st);
        if (waiting != null) {
            waiting.run(); // a backup waiting for minBackupInterval ends now (it does nothing for a retired session)
        }
        ended.put(s.id(), keepTombstoneUntil(s.maxInactiveInterval()));
        LOG.log(Level.DEBUG, () -> logPrefix + "another Tomcat took over session " + LogIds.of(s.id()) + "; its copy here is "
                + "dropped");
        ctx.lost(s);
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
            store.get(nodeId, keys.probe(), config.operationTimeoutMillis());
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
        unsavedFull.set(false);
        try {
            execute(() -> {
                Set<ManagedSession> writing = unsaved.snapshot();
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
        if (lockKeeper != null) {
            lockKeeper.close();
        }
        store.close();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(THREADS_END_MILLIS);
        backupThreads.awaitEnd(deadline);
        probeThreads.awaitEnd(deadline);
    }
}
