package io.msm.tomcat;

import io.msm.MsmException;
import io.msm.config.InvalidConfigurationException;
import io.msm.config.MsmConfig;
import io.msm.engine.SessionEngine;
import io.msm.engine.SessionState;
import java.util.ArrayList;
import java.util.List;
import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Session;
import org.apache.catalina.session.StandardSession;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * A Tomcat session manager that keeps every session in memcached, so any Tomcat of a cluster can serve it and the
 * crash of one Tomcat or one memcached node loses none.
 *
 * <pre>{@code
 * <Manager className="io.msm.tomcat.MemcachedSessionManager"
 *          memcachedNodes="n1:host1:11211,n2:host2:11211" failoverNodes="n2"/>
 * }</pre>
 *
 * <p>Sticky mode: a session lives in the Tomcat the balancer sends its user to (its id ends in that Tomcat's
 * jvmRoute) and is backed up to memcached after each request that changed it. Another Tomcat loads it from memcached
 * when the user arrives there, and takes it over (new jvmRoute, new cookie). A session whose memcached node is down
 * moves to a live node (new id, new cookie). Requests never fail because memcached fails.
 *
 * <p>Attributes are the ones of memcached-session-manager; their setters ({@code ManagerAttributes}) take the raw text
 * of {@code context.xml}, and the configuration is validated as a whole at start (see {@link MsmConfig}). Statistics
 * are attributes of this manager's JMX MBean ({@code ManagerStatistics}), named {@code msm*}.
 */
public class MemcachedSessionManager extends ManagerStatistics {
    private static final Log log = LogFactory.getLog(MemcachedSessionManager.class);

    /**
     * Former ids of sessions msm moved here (Tomcat or node failover) to their current id, so parallel requests still
     * carrying the old cookie reach the same session. Only moves alias: a move keeps the id's secret random part;
     * a new id for session-fixation protection is never aliased.
     */
    final MovedIds movedIds = new MovedIds(System::currentTimeMillis);
    /** What msm does at the steps of a request (the valve calls it). */
    final RequestHooks requests = new RequestHooks(this);
    private final SessionLookup lookup = new SessionLookup(this);
    final SessionMoves moves = new SessionMoves(this);
    /** What msm does at the steps of a session's life (the session and the engine call it). */
    final SessionHooks sessionHooks = new SessionHooks(this);
    private volatile SessionEngine engine;
    /** Timeouts and the manager webapp's view of msm sessions; set while the engine runs. */
    volatile SessionEnds ends;
    private SessionTrackingValve valve;
    private String logPrefix = "[msm] ";

    // ====================================================================== lifecycle

    /**
     * Installs msm's valve when the manager joins its context - before Tomcat adds authenticator valves at start - so
     * that logins already see msm's view of the session.
     */
    @Override
    public void setContext(Context context) {
        Context old = getContext();
        super.setContext(context);
        if (old != null && valve != null && old != context) {
            old.getPipeline().removeValve(valve);
            valve = null;
        }
        if (context != null && valve == null) {
            valve = new SessionTrackingValve(this);
            context.getPipeline().addValve(valve);
        }
    }

    @Override
    protected void startInternal() throws LifecycleException {
        super.startInternal();
        Context context = getContext();
        String name = ManagerStart.contextName(context);
        logPrefix = "[" + name + "] ";
        ClassLoader loader = ManagerStart.classLoader(this);
        MsmConfig config;
        try {
            config = buildConfig(loader);
        } catch (InvalidConfigurationException e) {
            throw new LifecycleException(logPrefix + e.getMessage(), e);
        }
        config.warnings().forEach(w -> log.warn(logPrefix + w));
        if (!config.enabled()) {
            log.info(logPrefix + "msm is disabled (enabled=\"false\"): sessions stay in this Tomcat's memory only");
            setState(LifecycleState.STARTING);
            return;
        }
        if (!(valve != null && valve.getContainer() == context)) {
            throw new LifecycleException(logPrefix + "msm's valve is missing from the context's pipeline");
        }
        ManagerStart.warnAboutSetup(config, context, logPrefix);
        try {
            engine = ManagerStart.engine(this, config, name, loader);
        } catch (MsmException e) {
            throw new LifecycleException(e.getMessage(), e);
        }
        ends = new SessionEnds(this, engine);
        engine.expiry().start(ends);
        if (log.isDebugEnabled()) {
            log.debug(logPrefix + "effective configuration: " + config);
        }
        log.info(logPrefix + ManagerStart.startedLine(config, engine.nodes(), getJvmRoute()));
        setState(LifecycleState.STARTING);
    }

    @Override
    void nodesChanged() {
        SessionEngine e = engine;
        if (e == null) {
            return; // read at the next start
        }
        MsmConfig changed;
        try {
            changed = buildConfig(ManagerStart.classLoader(this));
        } catch (InvalidConfigurationException ex) {
            throw new IllegalArgumentException(logPrefix + ex.getMessage(), ex);
        }
        ManagerStart.changeNodes(e, changed, logPrefix);
    }

    /**
     * Stores what is not stored yet and leaves the sessions in memcached for the other Tomcats: sessions are
     * passivated (activation listeners are told), never expired, on stop.
     */
    @Override
    protected void stopInternal() throws LifecycleException {
        setState(LifecycleState.STOPPING);
        SessionEngine e = engine;
        engine = null;
        ends = null;
        if (e != null) {
            List<MemcachedSession> residents = new ArrayList<>();
            Context context = getContext();
            ClassLoader old = context.bind(false, null);
            try {
                for (Session s : findSessions()) {
                    if (s instanceof MemcachedSession && ((MemcachedSession) s).isActive()) {
                        MemcachedSession ms = (MemcachedSession) s;
                        ms.passivate();
                        residents.add(ms);
                    }
                }
            } finally {
                context.unbind(false, old);
            }
            e.stop(residents);
            log.info(logPrefix + "msm stopped; " + residents.size() + " session(s) left in memcached");
        }
        sessions.clear();
        movedIds.clear();
        super.stopInternal();
    }

    /** Whether any session is in memory now (no copy of the list). */
    boolean holdsAnySession() {
        return !sessions.isEmpty();
    }

    List<MemcachedSession> residentSessions() {
        List<MemcachedSession> list = new ArrayList<>(sessions.size());
        for (Session s : sessions.values()) {
            if (s instanceof MemcachedSession) {
                list.add((MemcachedSession) s);
            }
        }
        return list;
    }

    /** Nothing to load: sessions come from memcached when a request needs them. */
    @Override
    public void load() {
    }

    /** Nothing to unload: sessions are in memcached already; see {@link #stopInternal()}. */
    @Override
    public void unload() {
    }

    // ====================================================================== sessions

    @Override
    protected StandardSession getNewSession() {
        return new MemcachedSession(this);
    }

    SessionState newSessionState() {
        SessionEngine e = engine;
        return e != null ? e.newState() : new SessionState();
    }

    /**
     * Creates a session with an msm id. A client-supplied id is never adopted: msm ids name the memcached node and
     * this Tomcat.
     */
    @Override
    public Session createSession(String requestedId) {
        SessionEngine e = engine;
        if (e == null) {
            return super.createSession(requestedId);
        }
        RequestContext rc = RequestContext.current();
        // A cross-context dispatch asks the target webapp for a session with the caller's id (an id msm made):
        // share it, as Tomcat does. Anything else - a client's cookie - is never adopted.
        boolean crossContext = requestedId != null && rc != null && rc.manager != this && e.isValidId(requestedId)
                && !sessions.containsKey(requestedId);
        Session s = super.createSession(crossContext ? requestedId : null);
        e.config().maxInactiveInterval().ifPresent(s::setMaxInactiveInterval);
        if (s instanceof MemcachedSession) {
            ((MemcachedSession) s).created();
            e.created((MemcachedSession) s);
            if (rc != null && rc.manager == this) {
                rc.created(s.getIdInternal());
            }
        }
        return s;
    }

    @Override
    protected String generateSessionId() {
        SessionEngine e = engine;
        if (e == null) {
            return super.generateSessionId();
        }
        String id;
        do {
            id = e.newSessionId(randomPart(getSessionIdGenerator().generateSessionId(null)));
        } while (sessions.containsKey(id));
        return id;
    }

    /** Tomcat's generator appends its jvmRoute even when asked not to; msm places the route itself. */
    private static String randomPart(String generated) {
        int dot = generated.indexOf('.');
        return dot < 0 ? generated : generated.substring(0, dot);
    }

    /**
     * Finds a session in memory or, if this Tomcat does not hold it, in memcached (see {@link SessionLookup#find}).
     * Never throws for a memcached failure: the session is then just not found.
     */
    @Override
    public Session findSession(String id) {
        return lookup.find(id);
    }

    /**
     * Non-sticky: a session no request uses any more leaves memory (memcached holds it); its attribute objects may be
     * kept for its next load here ({@code idleSessionCache}). One memcached could not take stays until a node can
     * (the engine bounds how many), or until it expires here.
     */
    void dropIfIdle(SessionEngine e, MemcachedSession s) {
        if (!e.config().sticky() && s.state().requestsInFlight() == 0 && !e.isUnsaved(s)
                && sessions.get(s.getIdInternal()) == s) {
            super.remove(s, false);
            if (!s.hasActivationListener()) {
                e.released(s);
            }
        }
    }

    /**
     * Every id change (Tomcat failover, node failover, {@code HttpServletRequest.changeSessionId()}, session-fixation
     * protection at login) ends here: the session is stored under its new id and the old key deleted after that.
     */
    @Override
    protected void changeSessionId(Session session, String newId, boolean notifySessionListeners,
            boolean notifyContainerListeners) {
        String oldId = session.getIdInternal();
        super.changeSessionId(session, newId, notifySessionListeners, notifyContainerListeners);
        if (session instanceof MemcachedSession) {
            moves.idChanged((MemcachedSession) session, oldId, newId);
        }
    }

    // ====================================================================== request hooks (valve and session)

    boolean isActiveMsm() {
        return engine != null;
    }

    boolean isIgnored(org.apache.catalina.connector.Request request) {
        SessionEngine e = engine;
        // the URI string is made only when a pattern needs it (Tomcat makes it lazily; most webapps never ask)
        return e != null && e.ignoresSomePaths() && e.isIgnored(request.getRequestURI());
    }

    /**
     * Non-sticky, idle sessions leave memory at every background run too ({@link #processExpires()} runs every
     * {@code processExpiresFrequency}-th).
     */
    @Override
    public void backgroundProcess() {
        dropIdleSessions();
        super.backgroundProcess();
    }

    private void dropIdleSessions() {
        SessionEngine e = engine;
        if (e == null) {
            return;
        }
        boolean sticky = e.config().sticky();
        for (Session s : sessions.values()) {
            if (!(s instanceof MemcachedSession) || !((MemcachedSession) s).isActive()) {
                continue;
            }
            MemcachedSession ms = (MemcachedSession) s;
            if (!sticky) {
                dropIfIdle(e, ms);
            } else if (ms.state().requestsInFlight() == 0 && e.isOtherTomcats(ms.getIdInternal())
                    && sessions.get(ms.getIdInternal()) == ms) {
                // sticky: another Tomcat's session, looked up here outside a request (an application thread, JMX): a
                // copy with this Tomcat's stale access time, which must not time out here while that Tomcat serves it
                super.remove(ms, false);
            }
        }
    }

    /** The engine, while started (tests and tools). */
    @Override
    public SessionEngine engine() {
        return engine;
    }

    // ====================================================================== timeouts and the manager webapp

    /** Tomcat found {@code s} timed out: see {@link SessionEnds#timingOut}. */
    SessionEnds.Decision timingOut(MemcachedSession s) {
        SessionEnds se = ends;
        return se == null ? SessionEnds.Decision.FIRE : se.timingOut(s);
    }

    String logPrefix() {
        return logPrefix;
    }

    boolean removeResident(String id, Session s) {
        return sessions.remove(id, s);
    }

    Session resident(String id) {
        return sessions.get(id);
    }

    MemcachedSession emptySession() {
        return (MemcachedSession) createEmptySession();
    }

    /** The manager webapp expires a session it listed and this Tomcat does not hold. */
    void expireListed(String id) {
        SessionEnds se = ends;
        if (se != null) {
            se.expireById(id);
        }
    }

    /**
     * The sessions held here and, for Tomcat's manager webapp, those this Tomcat watches for their timeout without
     * holding them (non-sticky: the sessions it served; sticky: those left in memcached by its last stop).
     */
    @Override
    public Session[] findSessions() {
        SessionEnds se = ends;
        return se == null ? super.findSessions() : se.withWatched(super.findSessions());
    }

    /** Expires a session held here or, if it is not, its last state from memcached (JMX, manager webapp). */
    @Override
    public void expireSession(String sessionId) {
        SessionEnds se = ends;
        if (se == null || sessionId == null || !se.expireById(sessionId)) {
            super.expireSession(sessionId);
        }
    }

    /**
     * Tomcat's timeout check, on the sessions held here only (not those {@link #findSessions()} adds for the manager
     * webapp). Non-sticky, sessions no request uses leave memory first (memcached holds them; one loaded outside a
     * request has no access time here to expire by): only those held because no node could take them are left.
     */
    @Override
    public void processExpires() {
        dropIdleSessions();
        long start = System.currentTimeMillis();
        for (Session s : sessions.values().toArray(new Session[0])) {
            s.isValid();
        }
        processingTime += System.currentTimeMillis() - start;
    }

    /** Removes {@code session} from memory; never another object that holds its id now. */
    @Override
    public void remove(Session session, boolean update) {
        String id = session.getIdInternal();
        Session current = id == null ? null : sessions.get(id);
        super.remove(session, update);
        if (current != null && current != session) {
            sessions.putIfAbsent(id, current);
        }
    }

    @Override
    public String toString() {
        Container c = getContext();
        return getClass().getSimpleName() + "[" + (c == null ? "" : c.getName()) + "]";
    }
}
