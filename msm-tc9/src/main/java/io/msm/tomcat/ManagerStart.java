package io.msm.tomcat;

import io.msm.anchor.AnchorKeys;
import io.msm.config.LegacySessions;
import io.msm.config.MsmConfig;
import io.msm.config.SessionProtection;
import io.msm.engine.EngineContext;
import io.msm.engine.SessionEngine;
import io.msm.serializer.java.JavaSerializationTranscoder;
import org.apache.catalina.Context;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/** How {@link MemcachedSessionManager} starts msm in its context: the context's names, warnings, the engine. */
final class ManagerStart {
    private static final Log log = LogFactory.getLog(MemcachedSessionManager.class);

    private ManagerStart() {
    }

    /** {@code host/path}, the name of the context in msm's log lines ({@code host/path##version} for a version). */
    static String contextName(Context context) {
        String path = context.getPath();
        String host = context.getParent() != null ? context.getParent().getName() : "";
        String version = context.getWebappVersion();
        return host + (path == null || path.isEmpty() ? "/" : path)
                + (version == null || version.isEmpty() ? "" : "##" + version);
    }

    /** The webapp's class loader (serializer and converter classes), or the manager's when the context has none. */
    static ClassLoader classLoader(MemcachedSessionManager m) {
        Context context = m.getContext();
        return context.getLoader() != null && context.getLoader().getClassLoader() != null
                ? context.getLoader().getClassLoader() : m.getClass().getClassLoader();
    }

    /** Warns about a setup that works but exposes sessions: no session protection, shared keys across contexts. */
    static void warnAboutSetup(MsmConfig config, Context context, String logPrefix) {
        if (config.sessionProtection() == SessionProtection.NONE) {
            log.warn(logPrefix + MsmConfig.SESSION_PROTECTION + "=\"none\": whoever can write to memcached can log "
                    + "in as any user of this webapp (a session's login is rebuilt from the stored bytes) and replay "
                    + "forged requests after a login; keep memcached on a private network, or make a key with "
                    + "`openssl rand -base64 32` and set " + MsmConfig.SESSION_PROTECTION + "=\"sign\" and "
                    + MsmConfig.SESSION_KEYS + " (the same on every Tomcat; see Security in msm's README)");
        }
        String version = context.getWebappVersion();
        if (version != null && !version.isEmpty() && config.storageKeyPrefix().resolve("", context.getName(), version)
                .equals(config.storageKeyPrefix().resolve("", context.getPath(), ""))) {
            log.warn(logPrefix + "deployed as version " + version + ", and " + MsmConfig.STORAGE_KEY_PREFIX + "=\""
                    + config.storageKeyPrefix() + "\" does not name the version: versions deployed side by side "
                    + "(parallel deployment) share their sessions' keys, so a user of an older version may be moved to "
                    + "this one (non-sticky at their next request, sticky after a failover), its classes reading the "
                    + "older version's session; the default, \"webappVersion\", keeps them apart");
        }
        if (context.getCrossContext() && !config.storageKeyPrefix().distinguishesWebapps()) {
            log.warn(logPrefix + "crossContext=\"true\": webapps that share a session id by cross-context dispatch "
                    + "also share its memcached key unless " + MsmConfig.STORAGE_KEY_PREFIX + " names the context; "
                    + MsmConfig.STORAGE_KEY_PREFIX + "=\"" + config.storageKeyPrefix() + "\", consider \"context,"
                    + "webappVersion\"");
        }
    }

    /** Starts the engine of {@code m}'s context. */
    static SessionEngine engine(MemcachedSessionManager m, MsmConfig config, String name, ClassLoader loader) {
        Context context = m.getContext();
        String hostName = context.getParent() != null ? context.getParent().getName() : "";
        // the context's name (path##version) as memcached-session-manager resolved it: both name a session's keys alike
        String keyPrefix = config.storageKeyPrefix().resolve(hostName, context.getName(), context.getWebappVersion());
        EngineContext ec = new EngineContext(name, loader, m.getJvmRoute(), keyPrefix, System::currentTimeMillis,
                m::residentSessions).holdsAny(m::holdsAnySession).ownedBy(hostName, context.getPath()).onLost(m.sessionHooks::lost)
                .onEndedElsewhere(m.sessionHooks::endedElsewhere);
        if (config.legacySessions() != LegacySessions.OFF) {
            ec.legacySessions(AnchorKeys.withPrefix(keyPrefix), new LegacySessionConverter(
                    JavaSerializationTranscoder.forLegacySessions(loader, name,
                            config.copyCollectionsForSerialization(), config.deserializationFilter().orElse(null))));
        }
        return SessionEngine.start(config, ec);
    }

    /** The INFO line of a start: the mode, the nodes and how sessions are written. */
    static String startedLine(MsmConfig config, java.util.List<io.msm.config.MemcachedNode> nodes, String jvmRoute) {
        return "msm started: " + (config.sticky()
                ? "sticky sessions backed up to memcached " + nodes
                        + (jvmRoute == null ? "" : ", jvmRoute " + jvmRoute)
                        + (config.sessionBackupAsync() ? ", asynchronous backup" : ", synchronous backup")
                : "non-sticky sessions in memcached " + nodes + " (lockingMode " + config.lockingMode() + ")");
    }

    /**
     * The running {@code engine} takes the nodes of {@code changed} (memcachedNodes or failoverNodes set through JMX).
     *
     * @throws IllegalArgumentException the new configuration is invalid, or needs a restart to take effect
     */
    static void changeNodes(SessionEngine engine, MsmConfig changed, String logPrefix) {
        MsmConfig running = engine.config();
        String restart = null;
        if (running.discovery().isPresent() || changed.discovery().isPresent()) {
            restart = "switching between a list of nodes and discover: or dns: (the nodes found are changed by the"
                    + " source, not by hand)";
        } else if (running.nodeIdsInSessionIds() != changed.nodeIdsInSessionIds()) {
            restart = "a single node without an id (host:port) and a list of nodes with ids make different session"
                    + " ids";
        } else if (running.memcachedProtocol() != io.msm.config.MemcachedProtocol.TEXT) {
            restart = "with memcachedProtocol=\"binary\" the nodes are read at the start only";
        }
        if (restart != null) {
            throw new IllegalArgumentException(logPrefix + MsmConfig.MEMCACHED_NODES + " \""
                    + changed.discovery().map(Object::toString).orElse(changed.nodes().toString())
                    + "\" takes effect at the next start of the context: " + restart);
        }
        engine.changeNodes(changed.nodes(), JOIN_DELAY_MILLIS);
    }

    /**
     * A node added through JMX takes new sessions this long after: the time to set the same list on every other
     * Tomcat, which until then would not know a session id naming it.
     */
    static final long JOIN_DELAY_MILLIS = 30_000;
}
