package io.msm.engine;

import io.msm.MsmException;
import io.msm.config.MemcachedNode;
import io.msm.config.MsmConfig;
import io.msm.config.NodeDiscovery;
import io.msm.discovery.DiscoveryException;
import io.msm.discovery.DiscoveryPoller;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code memcachedNodes="discover:..."} or {@code "dns:..."}: the engine's nodes are those its source answers, at the
 * start and from then on ({@link DiscoveryPoller}). A node that joins takes sessions only after two discovery
 * intervals: by then every other Tomcat asking the same source has seen it too (with one question failed), so none of
 * them meets a session id naming a node it does not know.
 */
final class DiscoveredNodes {
    /** Bounds a question to the endpoint at least this long (a TLS handshake over a slow link). */
    static final long MIN_TIMEOUT_MILLIS = 2000;

    private DiscoveredNodes() {
    }

    /**
     * An engine on the nodes {@code config}'s source answers now, kept up to date by its poller from then on.
     *
     * @throws MsmException the source gave no nodes, or the engine could not be built (the poller is closed)
     */
    static SessionEngine start(MsmConfig config, EngineContext ctx) {
        config.nameLogs(EngineBase.logPrefix(ctx)); // the first questions' handshakes come before the engine
        AtomicReference<SessionEngine> started = new AtomicReference<>();
        DiscoveryPoller poller = poller(config, ctx, started);
        List<MemcachedNode> nodes = first(poller, ctx);
        SessionEngine engine;
        try {
            engine = new SessionEngine(new EngineBase(config, ctx, nodes,
                    listener -> EngineBase.memcachedStore(config, nodes, ctx, listener)));
        } catch (RuntimeException | Error e) {
            poller.close();
            throw e;
        }
        engine.discoverWith(poller);
        started.set(engine);
        poller.start();
        return engine;
    }

    /** The poller of {@code config}'s source, telling the engine {@code started} holds. */
    private static DiscoveryPoller poller(MsmConfig config, EngineContext ctx, AtomicReference<SessionEngine> started) {
        NodeDiscovery source = config.discovery().orElseThrow();
        long joinDelay = 2 * TimeUnit.SECONDS.toMillis(source.intervalSeconds());
        return new DiscoveryPoller(source, config.tlsContext(),
                Math.max(MIN_TIMEOUT_MILLIS, config.operationTimeoutMillis()), ctx.name(), nodes -> {
                    SessionEngine e = started.get();
                    if (e != null) {
                        e.changeNodes(nodes, joinDelay);
                    }
                });
    }

    /**
     * The nodes at the start.
     *
     * @throws MsmException the source gave none: the context does not start (as with a host that cannot be resolved
     *     in a list of nodes)
     */
    private static List<MemcachedNode> first(DiscoveryPoller poller, EngineContext ctx) {
        try {
            return poller.first();
        } catch (DiscoveryException e) {
            poller.close();
            throw new MsmException("[" + ctx.name() + "] " + MsmConfig.MEMCACHED_NODES + ": no memcached nodes at"
                    + " the start: " + e.getMessage(), e);
        }
    }
}
