package io.msm.engine;

import io.msm.MsmException;
import io.msm.codec.BlobSealer;
import io.msm.config.LegacySessions;
import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.config.SessionProtection;
import io.msm.node.LiveNodes;
import io.msm.node.NodeAvailability;
import io.msm.node.NodeSelector;
import io.msm.node.NodeSet;
import io.msm.node.SessionIdFormat;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderContext;
import io.msm.spi.TranscoderFactory;
import io.msm.stats.MsmStatistics;
import io.msm.store.MemcachedSessionStore;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.io.IOException;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What every part of the engine shares, built once at the start: the configuration and the webapp's context, the
 * store and the judgement of its nodes, the id format and the keys, the blob format (transcoder, sealer, owner), the
 * statistics and the background threads, and the sessions that wait for a node. Holds no logic of its own.
 */
final class EngineBase {

    final MsmConfig config;
    final EngineContext ctx;
    /** Starts every log line: names the webapp. */
    final String logPrefix;
    final MsmStatistics stats;
    /** Sticky mode (the session lives in this Tomcat) or non-sticky (memcached is the authority). */
    final boolean sticky;
    final SessionIdFormat ids;
    /** The memcached keys of sessions: prefix and id, or a keyed hash of the id with sessionProtection. */
    final StorageKeys keys;
    final SessionAttributesTranscoder transcoder;
    /** Signs, encrypts and compresses blobs on their way to memcached, and checks them on the way back. */
    final BlobSealer sealer;
    /** The webapp's name noted in each blob, or {@code null} (none, or replaced by {@link #binding}). */
    final byte[] ownerNote;
    /** With sessionProtection: host, context and prefix every blob must name (it replaces the owner note). */
    final Binding binding;
    final EngineThreads threads;
    final NodeHealth health;
    final SessionStore store;
    final NodeAvailability availability;
    final NodeSelector selector;
    /** The memcached nodes now (they change with discovery or a configuration change). */
    final LiveNodes nodes;
    /** One node change at a time (discovery's thread, JMX). */
    private final Object nodeChanges = new Object();
    /**
     * Told when a well-formed session id names a node this Tomcat does not know: with discovery, another Tomcat may
     * have a newer node list, so it is asked for again soon (rate-limited there). Must not block.
     */
    volatile Runnable unknownNode = () -> { };
    /** Nodes come from discovery: an id of a discovered node's shape may name a node not known here yet. */
    private final boolean discovered;
    /** Sessions whose latest state could not be stored; re-stored when their node is available again. */
    final UnsavedSessions unsaved;
    /** Non-sticky: attribute objects of idle sessions, reused by their next load here; {@code null} when off. */
    final IdleSessionCache idle;
    /** Non-sticky: conditional writes and the tombstones of ended ids. */
    final Tombstones tombstones;
    /** Sessions memcached-session-manager stored ({@code legacySessions}), or {@code null}. */
    final LegacyLoads legacy;
    /** {@code legacySessions="readWrite"}: sessions stored as memcached-session-manager stores them, or {@code null}. */
    final LegacyWrites legacyWrites;
    /**
     * Non-sticky with {@code legacySessions="readWrite"}: a copy lives twice the timeout from its last write, as
     * memcached-session-manager gives its blob (see {@link #ttlSeconds}).
     */
    private final boolean legacyTtl;
    /**
     * maxInactiveInterval of the session last created or loaded here (non-sticky): a load refreshes the stored copy's
     * expiration in the same round trip for this timeout, the one nearly every session of a webapp has; -1 before
     * any session was seen.
     */
    volatile int usualMaxInactive = -1;

    EngineBase(MsmConfig config, EngineContext ctx,
            Function<MemcachedSessionStore.ConnectionListener, SessionStore> storeFactory) {
        this(config, ctx, config.nodes(), storeFactory);
    }

    /** @param startNodes the nodes at the start: {@code config}'s, or the discovered ones */
    EngineBase(MsmConfig config, EngineContext ctx, List<MemcachedNode> startNodes,
            Function<MemcachedSessionStore.ConnectionListener, SessionStore> storeFactory) {
        this.config = config;
        this.ctx = ctx;
        this.logPrefix = logPrefix(ctx);
        config.nameLogs(logPrefix);
        if (ctx.jvmRoute() != null && !SessionIdFormat.isRoute(ctx.jvmRoute())) {
            throw new MsmException(logPrefix + "jvmRoute \"" + ctx.jvmRoute()
                    + "\" cannot be part of a session id: use letters, digits, '_', '-' or '.'");
        }
        this.stats = new MsmStatistics(config.enableStatistics());
        this.nodes = new LiveNodes(NodeSet.of(startNodes));
        this.ids = new SessionIdFormat(config.nodeIdsInSessionIds(), startNodes.get(0).id(),
                startNodes.stream().map(MemcachedNode::id).collect(Collectors.toList()));
        this.transcoder = createTranscoder(config, ctx);
        this.sealer = BlobSealer.create(config.sessionProtection(), config.sessionKeys(), config.compressionThreshold());
        this.keys = new StorageKeys(ctx.keyPrefix(), config.sessionProtection(), config.sessionKeys());
        this.sticky = config.sticky();
        this.discovered = config.discovery().isPresent();
        this.idle = !sticky && config.idleSessionCache() > 0 ? new IdleSessionCache(config.idleSessionCache()) : null;
        boolean isProtected = config.sessionProtection() != SessionProtection.NONE;
        this.ownerNote = ctx.owner() == null || isProtected ? null
                : ctx.owner().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.binding = isProtected ? new Binding(ctx) : null;
        this.unsaved = new UnsavedSessions(sticky ? Integer.MAX_VALUE : UnsavedSessions.NON_STICKY_MAX);
        this.threads = new EngineThreads(ctx.name(), config.backupThreadCount());
        this.health = new NodeHealth(config, nodes, logPrefix, keys, threads);
        this.store = storeFactory.apply(health);
        health.useStore(store);
        this.tombstones = new Tombstones(store);
        this.legacy = config.legacySessions() == LegacySessions.OFF || ctx.legacyKeys() == null ? null
                : new LegacyLoads(ctx.legacyKeys(), ctx.legacyConverter(), store, sticky,
                        config.legacySessions() == LegacySessions.READ_WRITE,
                        config.operationTimeoutMillis(), ctx.clock(), stats, logPrefix);
        this.legacyWrites = legacy == null || config.legacySessions() != LegacySessions.READ_WRITE
                ? null : new LegacyWrites(ctx.legacyKeys(), ctx.legacyConverter(), store,
                        config.operationTimeoutMillis(), logPrefix);
        this.legacyTtl = legacyWrites != null && !sticky;
        this.availability = health.attach();
        this.selector = new NodeSelector(nodes, availability::isAvailable);
    }

    /**
     * The nodes are now {@code list}: an added node is connected to (and takes sessions after
     * {@code joinDelayMillis}), a removed one is closed and forgotten; its sessions move at their next request, as
     * when a node dies. Called by one thread at a time (discovery's, or a configuration change).
     */
    LiveNodes.Change changeNodes(List<MemcachedNode> list, long joinDelayMillis) {
        if (config.memcachedProtocol() != io.msm.config.MemcachedProtocol.TEXT) {
            throw new UnsupportedOperationException("memcached nodes change only with memcachedProtocol=\"text\"");
        }
        synchronized (nodeChanges) { // not the LiveNodes monitor: a request asking isKnown never waits for this
            NodeSet before = nodes.current();
            for (MemcachedNode n : list) {
                MemcachedNode was = before.get(n.id());
                if (was == null) {
                    store.addNode(n); // connects before any request can choose it
                    health.added(n.id(), id -> nodes.current().contains(id));
                } else if (!sameAddress(was, n)) {
                    // same id, another address: a new, empty node as after a restart, so what this Tomcat holds of it
                    // is stored there again once it connects (reported unavailable now, recovered then)
                    store.removeNode(n.id());
                    store.addNode(n);
                    health.readdressed(n.id(), n.host() + ":" + n.port());
                }
            }
            LiveNodes.Change change = nodes.replace(list, joinDelayMillis);
            for (MemcachedNode n : change.gone()) {
                store.removeNode(n.id()); // first: no event of the node comes after it, to be reported on again
                health.removed(n.id());
            }
            return change;
        }
    }

    /** Whether two nodes are reached at the same place (a node that only became a failover node keeps its pool). */
    private static boolean sameAddress(MemcachedNode a, MemcachedNode b) {
        return a.host().equals(b.host()) && a.port() == b.port();
    }

    /** The memcached clients of {@code nodes}, telling {@code listener} about their connections. */
    static SessionStore memcachedStore(MsmConfig config, List<MemcachedNode> nodes, EngineContext ctx,
            MemcachedSessionStore.ConnectionListener listener) {
        try {
            return MemcachedSessionStore.open(config, nodes, ctx.name(), listener);
        } catch (IOException e) {
            throw new MsmException("[" + ctx.name() + "] cannot create memcached clients for "
                    + nodes + ": " + e.getMessage(), e);
        }
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

    /** The engine's clock (milliseconds since the epoch). */
    long now() {
        return ctx.clock().getAsLong();
    }

    /** The key of the primary copy of session {@code id}, the one written. */
    String key(String id) {
        return keys.primary(id, 0);
    }

    /** {@code true} if memcached node {@code nodeId} is available now. */
    boolean isAvailable(String nodeId) {
        return availability.isAvailable(nodeId);
    }

    /**
     * {@code true} if node {@code nodeId} is (or was lately) one of the nodes; if not, {@link #unknownNode} is told.
     * With discovery, an id shaped like a discovered node's ({@link io.msm.discovery.NodeIds}) counts too: a node
     * removed before this Tomcat started, or one another Tomcat already knows; its session is looked for where its
     * secondary copy went (an unknown node is unavailable), and moved.
     */
    boolean isKnownNode(String nodeId) {
        if (selector.isKnown(nodeId)) {
            return true;
        }
        unknownNode.run();
        return discovered && io.msm.discovery.NodeIds.isShaped(nodeId);
    }

    /** The node of session {@code id}, or {@code null} if it is not an msm id. */
    String nodeOf(String id) {
        io.msm.node.SessionIdFormat.SessionId p = ids.parse(id);
        return p == null ? null : p.nodeId();
    }

    /** The jvmRoute in session {@code id}, or {@code null}. */
    String routeOf(String id) {
        io.msm.node.SessionIdFormat.SessionId p = ids.parse(id);
        return p == null ? null : p.jvmRoute();
    }

    /** An operation bounded by {@code operationTimeout} failed. */
    void reportStoreFailure(StoreException e) {
        health.storeFailed(e, config.operationTimeoutMillis());
    }

    /** A node failed an operation bounded by {@code timeoutMillis} (see {@link NodeHealth#storeFailed}). */
    void storeFailed(StoreException e, long timeoutMillis) {
        health.storeFailed(e, timeoutMillis);
    }

    /**
     * Non-sticky: the TTL an access gives the stored copy, {@code maxInactive} seconds plus slack; {@code readWrite}:
     * twice the timeout, as memcached-session-manager gives its blob (see {@link #ttlSeconds}).
     */
    long refreshSeconds(int mi) {
        long own = (long) mi + Slack.seconds(mi);
        // at least the timeout plus the slack (timeouts of 1-2 s), or the copy is found timed out when read
        return legacyWrites != null ? Math.max(2L * mi, own) : own;
    }

    /** Seconds memcached should keep the session: its remaining inactive time plus slack; 0 for never. */
    long ttlSeconds(ManagedSession s, SessionState st, long now) {
        int mi = s.maxInactiveInterval();
        if (mi <= 0) {
            return 0;
        }
        if (legacyTtl) {
            // as memcached-session-manager: it rewrites a blob a timeout after its last write at the earliest (dating
            // the accesses in between in the validity record), so the blob lives twice the timeout
            return refreshSeconds(mi);
        }
        long lastActivity = Math.max(s.thisAccessedTime(), st.lastRequestEnd);
        long idleSeconds = Math.max(0, (now - lastActivity) / 1000);
        return Math.max(1, mi - idleSeconds) + Slack.seconds(mi);
    }

    /** What every log line of {@code ctx}'s engine starts with: {@code "[<context name>] "}. */
    static String logPrefix(EngineContext ctx) {
        return "[" + ctx.name() + "] ";
    }
}
