package io.msm.tomcat;

import io.msm.MsmException;
import io.msm.config.InvalidConfigurationException;
import io.msm.config.MsmConfig;
import io.msm.engine.EngineContext;
import io.msm.engine.LoadResult;
import io.msm.engine.SessionEngine;
import io.msm.engine.SessionState;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Session;
import org.apache.catalina.authenticator.Constants;
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

        private final ConcurrentHashMap<String, CompletableFuture<MemcachedSession>> loading = new ConcurrentHashMap<>();
    /**
     * Former ids of sessions msm moved here (Tomcat or node failover) to their current id, so parallel requests still
     * carrying the old cookie reach the same session. Only moves alias: a move keeps the id's secret random part;
     * a new id for session-fixation protection is never aliased.
     */
    private final MovedIds movedIds = new MovedIds(System::currentTimeMillis);
    private volatile SessionEngine engine;
    /** Timeouts and the manager webapp's view of msm sessions; set while the engine runs. */
    private volatile SessionEnds ends;
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
        String name = contextName(context);
        logPrefix = "[" + name + "] ";
        ClassLoader loader = context.getLoader() != null && context.getLoader().getClassLoader() != null
                ? context.getLoader().getClassLoader() : getClass().getClassLoader();
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
        if (config.sessionProtection() == io.msm.config.SessionProtection.NONE) {
            log.warn(logPrefix + MsmConfig.SESSION_PROTECTION + "=\"none\": whoever can write to memcached can log "
                    + "in as any user of this webapp (a session's login is rebuilt from the stored bytes) and replay "
                    + "forged requests after a login; keep memcached on a private network, or make a key with "
                    + "`openssl rand -base64 32` and set " + MsmConfig.SESSION_PROTECTION + "=\"sign\" and "
                    + MsmConfig.SESSION_KEYS + " (the same on every Tomcat; see Security in msm's README)");
        }
        if (context.getCrossContext() && !config.storageKeyPrefix().distinguishesWebapps()) {
            log.warn(logPrefix + "crossContext=\"true\": webapps that share a session id by cross-context dispatch "
                    + "also share its memcached key unless " + MsmConfig.STORAGE_KEY_PREFIX + " names the context; "
                    + MsmConfig.STORAGE_KEY_PREFIX + "=\"" + config.storageKeyPrefix() + "\", consider \"context,"
                    + "webappVersion\"");
        }
        String hostName = context.getParent() != null ? context.getParent().getName() : "";
        // the context's name (path##version) as memcached-session-manager resolved it: both name a session's keys alike
        String keyPrefix = config.storageKeyPrefix().resolve(hostName, context.getName(), context.getWebappVersion());
        try {
            EngineContext ec = new EngineContext(name, loader, getJvmRoute(), keyPrefix, System::currentTimeMillis,
                    this::residentSessions).ownedBy(hostName, context.getPath()).onLost(this::lost)
                    .onEndedElsewhere(this::endedElsewhere);
            if (config.legacySessions() != io.msm.config.LegacySessions.OFF) {
                ec.legacySessions(io.msm.anchor.AnchorKeys.withPrefix(keyPrefix), new LegacySessionConverter(
                        io.msm.serializer.java.JavaSerializationTranscoder.forLegacySessions(loader, name,
                                config.copyCollectionsForSerialization(), config.deserializationFilter().orElse(null))));
            }
            engine = SessionEngine.start(config, ec);
        } catch (MsmException e) {
            throw new LifecycleException(e.getMessage(), e);
        }
        ends = new SessionEnds(this, engine);
        engine.expiry().start(ends);
        if (log.isDebugEnabled()) {
            log.debug(logPrefix + "effective configuration: " + config);
        }
        log.info(logPrefix + "msm started: " + (config.sticky()
                ? "sticky sessions backed up to memcached " + config.nodes()
                        + (getJvmRoute() == null ? "" : ", jvmRoute " + getJvmRoute())
                        + (config.sessionBackupAsync() ? ", asynchronous backup" : ", synchronous backup")
                : "non-sticky sessions in memcached " + config.nodes() + " (lockingMode " + config.lockingMode() + ")"));
        setState(LifecycleState.STARTING);
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

    private List<MemcachedSession> residentSessions() {
        List<MemcachedSession> list = new ArrayList<>(sessions.size());
        for (Session s : sessions.values()) {
            if (s instanceof MemcachedSession) {
                list.add((MemcachedSession) s);
            }
        }
        return list;
    }

    /**
     * Sticky: another Tomcat took {@code session} over (see {@link SessionEngine#checkTakeovers()}). Its copy leaves
     * this Tomcat's memory without ending (the session lives on there), and its former ids stop leading to it.
     */
    private void lost(io.msm.engine.ManagedSession session) {
        if (!(session instanceof MemcachedSession)) {
            return;
        }
        MemcachedSession s = (MemcachedSession) session;
        String id = s.getIdInternal();
        sessions.remove(id, s);
        for (String former : s.formerIds) {
            movedIds.remove(former, id);
        }
    }

    /** A session taken over from another Tomcat was ended there (a logout still running there): it ends here. */
    private void endedElsewhere(io.msm.engine.ManagedSession session) {
        if (session instanceof MemcachedSession && session.isActive()) {
            ((MemcachedSession) session).expire(true);
        }
    }

    /**
     * {@code s}, a copy another Tomcat took over, was ended here by a request: the Tomcat holding it is told, and the
     * session is ended here too if this Tomcat took it back since (it then holds it under the same id).
     */
    void endedAfterTakeover(MemcachedSession s) {
        SessionEngine e = engine;
        if (e != null) {
            e.endedAfterTakeover(s);
        }
        Session back = sessions.get(s.getIdInternal());
        if (back instanceof MemcachedSession && back != s && ((MemcachedSession) back).isActive()) {
            ((MemcachedSession) back).expire(true);
        }
    }

    /**
     * Sticky: the application ends {@code s}, which this Tomcat holds: takeover notices are read first (bounded by
     * {@code operationTimeout}, shared with other requests), so a copy another Tomcat took a moment ago is known as
     * such. One read per node, only for sessions that end.
     */
    void beforeEnd(MemcachedSession s) {
        SessionEngine e = engine;
        if (e != null && e.config().sticky() && sessions.get(s.getIdInternal()) == s) {
            e.checkTakeovers();
        }
    }

    private static String contextName(Context context) {
        String path = context.getPath();
        String host = context.getParent() != null ? context.getParent().getName() : "";
        return host + (path == null || path.isEmpty() ? "/" : path);
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
     * Finds a session in memory or, if this Tomcat does not hold it, in memcached. A session found in memcached is
     * taken over: it gets this Tomcat's jvmRoute (and a live node) in its id, and the response a new cookie.
     * Never throws for a memcached failure: the session is then just not found.
     */
    @Override
    public Session findSession(String id) {
        Session s = sessions.get(id == null ? "" : id);
        SessionEngine e = engine;
        if (id == null || s != null && (e == null || isCurrent(e, s))) {
            return s;
        }
        if (e == null) {
            return null;
        }
        RequestContext rc = RequestContext.current();
        if (rc != null && rc.manager == this && !rc.ignored && !rc.ended && !rc.takeoversChecked
                && e.isOtherTomcats(id)) {
            // the balancer sent another Tomcat's session here: first drop what other Tomcats took from this one since,
            // so neither an alias nor a copy in memory serves an older state than memcached holds
            rc.takeoversChecked = true;
            e.checkTakeovers();
        }
        String current = movedIds.get(id);
        if (current != null) {
            Session moved = sessions.get(current);
            if (moved != null) {
                tellClient(rc, id, current);
                return moved;
            }
        }
        if (rc != null && (rc.manager != this || rc.ignored || rc.ended || rc.isMissing(id))) {
            // another webapp's request (Tomcat probing all contexts), an ignored or finished request, or known missing
            return null;
        }
        if (rc == null && SessionCookieChoice.duringCookieParsing()) {
            return null; // Tomcat trying each session cookie: msm's valve chooses among them (SessionCookieChoice)
        }
        if (!e.isValidId(id)) {
            return null;
        }
        MemcachedSession loaded = load(e, id, rc);
        if (loaded == null) {
            if (rc != null) {
                rc.missing(id);
            }
            return null;
        }
        tellClient(rc, id, loaded.getIdInternal());
        return loaded;
    }

    /**
     * Whether a session in memory is the current one. Sticky: always (it lives here). Non-sticky: only while a request
     * on this Tomcat uses it (parallel requests share it), or while memcached lacks its latest state (no node could
     * take it: it is held here until one can); otherwise another Tomcat may have changed it since.
     */
    private static boolean isCurrent(SessionEngine e, Session s) {
        return e.config().sticky() || s instanceof MemcachedSession
                && (((MemcachedSession) s).state().requestsInFlight() > 0 || e.isUnsaved((MemcachedSession) s));
    }

    /**
     * Non-sticky: a session no request uses any more leaves memory (memcached holds it); its attribute objects may be
     * kept for its next load here ({@code idleSessionCache}). One memcached could not take stays until a node can
     * (the engine bounds how many), or until it expires here.
     */
    private void dropIfIdle(SessionEngine e, MemcachedSession s) {
        if (!e.config().sticky() && s.state().requestsInFlight() == 0 && !e.isUnsaved(s)
                && sessions.get(s.getIdInternal()) == s) {
            super.remove(s, false);
            if (!s.hasActivationListener()) {
                e.released(s);
            }
        }
    }

    /** If this request asked for {@code askedId} and the session now has {@code actualId}, send the new cookie. */
    private static void tellClient(RequestContext rc, String askedId, String actualId) {
        if (rc != null && !askedId.equals(actualId) && rc.isOwn(askedId) && rc.request.getResponse() != null
                && !rc.request.getResponse().isCommitted()) {
            rc.request.changeSessionId(actualId);
        }
    }

    /**
     * Loads {@code id} once, however many requests ask at the same time; the session is taken over (moved to this
     * Tomcat's id) before the others get it, so they all share one object.
     */
    private MemcachedSession load(SessionEngine e, String id, RequestContext rc) {
        CompletableFuture<MemcachedSession> mine = new CompletableFuture<>();
        CompletableFuture<MemcachedSession> other = loading.putIfAbsent(id, mine);
        if (other != null) {
            try {
                return other.get(2L * e.config().operationTimeoutMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (Exception ex) {
                if (ex instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                return null;
            }
        }
        MemcachedSession result = null;
        try {
            Session resident = sessions.get(id);
            if (resident instanceof MemcachedSession && isCurrent(e, resident)) {
                result = (MemcachedSession) resident;
                return result;
            }
            LoadResult r = e.load(id);
            if (r.isFound() && r.timedOut() && ends != null) {
                ends.timedOutOnLoad(r); // not revived, as in Tomcat: it ends (here if this Tomcat claims it)
            } else if (r.isFound()) {
                result = restore(e, r);
                String newId = e.relocate(id);
                if (newId != null && rc != null && rc.isOwn(id)) {
                    Session stale = sessions.get(newId);
                    if (stale instanceof MemcachedSession && e.isOtherTomcats(id)) {
                        // this Tomcat's own copy is older: the user was served elsewhere since (a takeover notice
                        // that did not arrive)
                        e.retire((MemcachedSession) stale);
                    }
                    if (!sessions.containsKey(newId)) {
                        move(e, result, newId);
                        e.tookOver(id, r.copyHash());
                    }
                }
            }
            return result;
        } catch (RuntimeException | LinkageError ex) {
            log.warn(logPrefix + "session " + io.msm.internal.LogIds.of(id) + " could not be restored from memcached; the request gets a new "
                    + "session", ex);
            return null;
        } finally {
            mine.complete(result);
            loading.remove(id, mine);
        }
    }

    private MemcachedSession restore(SessionEngine e, LoadResult r) {
        MemcachedSession s = (MemcachedSession) createEmptySession();
        long now = System.currentTimeMillis();
        // sticky: memcached holding the session means it is alive, so it counts as accessed now;
        // non-sticky: when any Tomcat last accessed it, dated by memcached (see SessionEngine.lastAccessed)
        long lastAccessed = e.config().sticky() ? now : r.lastAccessedTime();
        s.restore(r.data(), r.attributes(), now, lastAccessed);
        s.setId(r.data().id(), false);
        e.loaded(s, r);
        Context context = getContext();
        ClassLoader old = context.bind(false, null);
        try {
            s.activate();
        } finally {
            context.unbind(false, old);
        }
        return s;
    }

    /**
     * Gives the request's own session the id it should have here (this jvmRoute, an available node) and the client
     * the matching cookie. Skipped if the response is already committed (the client could not learn the new id) or
     * the session is not this request's (a thread may touch another request's session).
     *
     * @return {@code true} if the id changed
     */
    private boolean relocate(SessionEngine e, MemcachedSession s, RequestContext rc) {
        String oldId = s.getIdInternal();
        String newId = e.relocate(s, oldId);
        if (newId == null || !rc.isOwn(oldId) || rc.request.getResponse() == null
                || rc.request.getResponse().isCommitted() || sessions.containsKey(newId)) {
            return false;
        }
        move(e, s, newId);
        tellClient(rc, oldId, newId);
        return true;
    }

    /** Moves a session to {@code newId}, keeping its former ids as aliases. */
    private void move(SessionEngine e, MemcachedSession s, String newId) {
        String oldId = s.getIdInternal();
        s.movingTo = newId;
        try {
            changeSessionId(s, newId, true, true);
        } finally {
            s.movingTo = null;
        }
        e.relocated(oldId, newId);
        s.state().movedHere(e.now());
        e.expiry().moved(oldId, newId, s.getMaxInactiveInterval());
        s.formerIds.add(oldId);
        for (String former : s.formerIds) {
            movedIds.put(former, newId);
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
            MemcachedSession ms = (MemcachedSession) session;
            // FORM login checks this note against the requested id; it tracks the session's current id.
            if (oldId != null && oldId.equals(ms.getNote(Constants.SESSION_ID_NOTE))) {
                ms.noteIdChange(newId);
            }
            ms.state().metadataChanged();
            SessionEngine e = engine;
            if (e != null && oldId != null) {
                e.expiry().idChanged(oldId); // no longer listed or watched under its former id
            }
            if (oldId != null && !newId.equals(ms.movingTo)) {
                applicationChangedId(ms, oldId);
            }
        }
    }

    /**
     * The application gave the session a new id (login, {@code changeSessionId()}): no id it had before leads to it
     * any more, here or through a copy left in memcached, so a pre-login id never reaches the logged-in session.
     */
    private void applicationChangedId(MemcachedSession s, String oldId) {
        List<String> abandoned = new ArrayList<>(s.formerIds);
        abandoned.add(oldId);
        for (String former : s.formerIds) {
            movedIds.remove(former);
        }
        s.formerIds.clear();
        SessionEngine e = engine;
        if (e != null) {
            e.idsAbandoned(abandoned, s.getMaxInactiveInterval());
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
     * Start of a (not ignored) request in non-sticky mode with locking: takes the lock of the requested session.
     *
     * @return {@code false} if the lock could not be taken and {@code lockFailure="fail"} (answer 503)
     */
    boolean lockIfNeeded(RequestContext rc) {
        SessionEngine e = engine;
        String requested = rc.request.getRequestedSessionId();
        if (e == null || requested == null || !e.locks() || !e.isValidId(requested) || rc.isMissing(requested)
                || !e.needsLock(path(rc))) {
            return true;
        }
        rc.lock = e.lock(requested);
        return rc.lock != null || e.config().lockFailure() == io.msm.config.LockFailure.PROCEED;
    }

    /** Releases the request's session lock, if it holds one. */
    void unlock(RequestContext rc) {
        SessionEngine e = engine;
        io.msm.engine.SessionLock lock = rc.lock;
        rc.lock = null;
        if (e != null && lock != null) {
            e.unlock(lock);
        }
    }

    /** The path lockingMode decides on: the decoded request path (no path parameters, no query). */
    private static String path(RequestContext rc) {
        String decoded = rc.request.getDecodedRequestURI();
        return decoded != null ? decoded : rc.request.getRequestURI();
    }

    /** Start of a (not ignored) request: of several session cookies, takes the one the request means. */
    void chooseRequestedSession(RequestContext rc) {
        SessionEngine e = engine;
        if (e != null) {
            SessionCookieChoice.choose(rc, getContext(), e::isValidId, id -> holdsValid(e, id), e::mayExist);
        }
    }

    /** Whether this Tomcat holds a valid, current session {@code id} (or one moved from it) in memory. */
    private boolean holdsValid(SessionEngine e, String id) {
        Session s = sessions.get(id);
        String current = s == null ? movedIds.get(id) : null;
        if (current != null) {
            s = sessions.get(current);
        }
        return s != null && isCurrent(e, s) && s.isValid();
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

    /** Start of a (not ignored) request: a session held here whose node is down moves to a live node now. */
    void requestStarting(RequestContext rc) {
        SessionEngine e = engine;
        String requested = rc.request.getRequestedSessionId();
        if (e == null || requested == null) {
            return;
        }
        Session s = sessions.get(requested);
        if (s instanceof MemcachedSession && ((MemcachedSession) s).isActive()) {
            MemcachedSession ms = (MemcachedSession) s;
            if (relocate(e, ms, rc)) {
                e.store(ms);
            }
        }
    }

    /** A request obtained {@code s} ({@code Session.access()}). */
    void accessed(MemcachedSession s) {
        SessionEngine e = engine;
        RequestContext rc = RequestContext.current();
        if (rc != null && rc.manager == this) {
            if (rc.ignored) {
                s.skipNextEndAccess();
                return;
            }
            rc.track(s);
        }
        if (e != null) {
            e.requestStarted(s);
        }
    }

    /** A request that obtained {@code s} was recycled ({@code Session.endAccess()}) without the valve ending it. */
    void accessEnded(MemcachedSession s) {
        SessionEngine e = engine;
        if (e != null && s.isActive()) {
            e.requestEnded(s);
            dropIfIdle(e, s);
        }
    }

    /** {@code true} if the webapp hands the response to msm's {@link ResponseGuard}: writes that must precede it. */
    boolean guardsResponse() {
        SessionEngine e = engine;
        return e != null && !(e.config().sticky() && e.config().sessionBackupAsync());
    }

    /**
     * The response may reach the client while the request still runs ({@link ResponseGuard}): each session the
     * request used is stored now if it may have changed since the last time; its end stores later changes.
     */
    void responseLeaving(RequestContext rc) {
        SessionEngine e = engine;
        if (e == null || rc.ignored || rc.ended || rc.sessions.isEmpty()) {
            return;
        }
        for (MemcachedSession s : rc.sessions) {
            // non-sticky: a write that failed (its node died) moves the session to a live node if the cookie can
            // still change, as at the request's end
            if (s.isActive() && e.responseLeaving(s)) {
                rc.changedEarly = true; // lockingMode="auto": the request changed the session
                if (!e.config().sticky() && e.isUnsaved(s) && idsOnlyInCookies(rc) && relocate(e, s, rc)) {
                    e.storeNow(s);
                }
            }
        }
    }

    private boolean idsOnlyInCookies(RequestContext rc) {
        return rc.request.isRequestedSessionIdFromCookie()
                || !getContext().getServletContext().getEffectiveSessionTrackingModes()
                        .contains(javax.servlet.SessionTrackingMode.URL);
    }

    /**
     * End of a request that did not go asynchronous, before the response is sent: each session it used is ended
     * here, so a synchronous backup completes before the client sees the response.
     */
    void requestFinished(RequestContext rc) {
        rc.ended = true;
        SessionEngine e = engine;
        if (e == null || rc.ignored) {
            return;
        }
        boolean idsOnlyInCookies = idsOnlyInCookies(rc);
        boolean changed = rc.changedEarly;
        for (MemcachedSession s : rc.sessions) {
            if (s.isActive()) {
                if (idsOnlyInCookies) {
                    // its node may have died while the request ran: store it on a live one right away
                    relocate(e, s, rc);
                }
                s.skipNextEndAccess();
                changed |= e.requestEnded(s);
                if (!e.config().sticky() && e.isUnsaved(s) && idsOnlyInCookies && relocate(e, s, rc)) {
                    // non-sticky: the write failed (its node died meanwhile); the next request may reach any
                    // Tomcat, so store the session on a live node before answering, under its new id
                    changed |= e.storeNow(s);
                }
                dropIfIdle(e, s);
            } else {
                changed = true; // invalidated
            }
        }
        if (!rc.sessions.isEmpty() && e.learnsPaths()) {
            e.learn(path(rc), changed);
        }
    }

    /** The session was invalidated or expired here: remove it from memcached. */
    void sessionEnded(MemcachedSession s) {
        for (String former : s.formerIds) {
            movedIds.remove(former);
        }
        SessionEngine e = engine;
        if (e != null) {
            e.expired(s, new ArrayList<>(s.formerIds));
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
