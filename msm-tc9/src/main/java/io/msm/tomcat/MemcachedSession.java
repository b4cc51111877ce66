package io.msm.tomcat;

import io.msm.codec.SessionData;
import io.msm.engine.ImmutableValues;
import io.msm.engine.ManagedSession;
import io.msm.engine.SessionState;
import java.security.Principal;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.authenticator.Constants;
import org.apache.catalina.session.StandardSession;

/**
 * A Tomcat session whose every change is noticed, so msm stores it after a request that may have changed it and
 * never after one that did not. Writing or removing an attribute marks it as possibly changed, and so does reading
 * one whose value could be changed in place (not a String, boxed number, java.time value, UUID or enum); so do a
 * new id, principal, auth type, timeout, or the FORM login notes msm carries across Tomcats.
 */
public class MemcachedSession extends StandardSession implements ManagedSession {
    private static final long serialVersionUID = 1L;

    /** Session notes that FORM authentication needs on whichever Tomcat the next request lands. */
    static final String[] CARRIED_NOTES = {Constants.FORM_REQUEST_NOTE, Constants.SESSION_ID_NOTE};

    private final transient SessionState state;
    /** Ids this session had before msm moved it (failovers); aliases until it ends. */
    final transient java.util.Set<String> formerIds = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The id msm is moving this session to (a failover), while it does; {@code null} otherwise. */
    transient volatile String movingTo;
    /** Request ends already handled by msm's valve; the matching {@link #endAccess()} calls do nothing more. */
    private final transient AtomicInteger skipEndAccess = new AtomicInteger();
    /**
     * {@code false} only while no attribute can be an {@link javax.servlet.http.HttpSessionActivationListener}: set by
     * {@link #restore} from what it restored, and back to {@code true} by any {@link #setAttribute} of one (never
     * cleared by a removal: then the attributes are looked at, as before). A non-sticky request loads its session
     * every time; without listeners, activation and the release that follows need not walk the attributes.
     */
    private transient volatile boolean mayHaveActivationListener = true;

    MemcachedSession(MemcachedSessionManager manager) {
        super(manager);
        this.state = manager.newSessionState();
    }

    private MemcachedSessionManager msm() {
        return (MemcachedSessionManager) manager;
    }

    // ------------------------------------------------------------------ request bracket

    /** Tomcat calls this when a request obtains the session. */
    @Override
    public void access() {
        super.access();
        msm().sessionHooks.accessed(this);
    }

    /** Tomcat calls this when a request that obtained the session is recycled (after the response). */
    @Override
    public void endAccess() {
        super.endAccess();
        if (skipEndAccess.getAndUpdate(n -> n > 0 ? n - 1 : 0) == 0 && manager instanceof MemcachedSessionManager) {
            msm().sessionHooks.accessEnded(this);
        }
    }

    void skipNextEndAccess() {
        skipEndAccess.incrementAndGet();
    }

    // ------------------------------------------------------------------ change tracking

    @Override
    public Object getAttribute(String name) {
        Object value = super.getAttribute(name);
        // a value that cannot change in place (a String, an Integer, ...) cannot have changed the session: a request
        // that reads only such values is stored without serializing anything
        if (state != null && !ImmutableValues.cannotChange(value)) {
            state.attributeAccessed(name);
        }
        return value;
    }

    @Override
    public void setAttribute(String name, Object value, boolean notify) {
        if (value instanceof javax.servlet.http.HttpSessionActivationListener) {
            mayHaveActivationListener = true; // before it is in the map: a release then always looks
        }
        super.setAttribute(name, value, notify);
        state.attributeAccessed(name);
    }

    @Override
    public void removeAttribute(String name, boolean notify) {
        super.removeAttribute(name, notify);
        state.attributeAccessed(name);
    }

    /** Tomcat calls this after the session was read (msm: from memcached). */
    @Override
    public void activate() {
        if (!mayHaveActivationListener && listeners.isEmpty()) {
            // just restored, no activation listener among the attributes and no session listener yet: Tomcat's
            // activate() would only walk the attributes (a key array per load) to tell nobody
            return;
        }
        super.activate();
        activationListenersTold();
    }

    /** Tomcat calls this before the session leaves memory (msm: at a stop, before the last backup). */
    @Override
    public void passivate() {
        super.passivate();
        activationListenersTold();
    }

    /** An activation listener may have changed itself when told: its attribute is serialized again. */
    private void activationListenersTold() {
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            if (e.getValue() instanceof javax.servlet.http.HttpSessionActivationListener) {
                state.attributeAccessed(e.getKey());
            }
        }
    }

    /**
     * Tomcat's authenticator reads the principal on every request of a logged-in session and hands it to the webapp
     * ({@code getUserPrincipal()}). A realm's own user object in it (JAAS, custom realms) may be changed in place
     * there, where no {@code getAttribute} sees it: such a session counts as possibly changed, so the request's end
     * compares what it would store now (and the user object's chunk is not reused as it was). Behind Tomcat's
     * SingleSignOn valve the request gets the valve's cached principal and this is not called (README).
     */
    @Override
    public Principal getPrincipal() {
        Principal p = super.getPrincipal();
        if (p != null && state != null && AuthStateCodec.carriesChangeableUserObject(p)) {
            state.attributeAccessed(AuthStateCodec.USER_PRINCIPAL_ATTRIBUTE);
        }
        return p;
    }

    @Override
    public void setPrincipal(Principal principal) {
        boolean changed = !Objects.equals(this.principal, principal);
        super.setPrincipal(principal);
        metadataChangedIf(changed);
    }

    @Override
    public void setAuthType(String authType) {
        boolean changed = !Objects.equals(this.authType, authType);
        super.setAuthType(authType);
        metadataChangedIf(changed);
    }

    @Override
    public void setMaxInactiveInterval(int interval) {
        boolean changed = this.maxInactiveInterval != interval;
        super.setMaxInactiveInterval(interval);
        metadataChangedIf(changed);
    }

    /** Notes a change of a value msm stores with the session; none while it is constructed (no state yet). */
    private void metadataChangedIf(boolean changed) {
        if (changed && state != null) {
            state.metadataChanged();
        }
    }

    @Override
    public void setNote(String name, Object value) {
        super.setNote(name, value);
        if (isCarried(name)) {
            state.metadataChanged();
            // the login page's forward follows: Tomcat notes the session's id for the login when it changes it
            // (changeSessionIdOnAuthentication), else the saved request is the last the login in progress needs
            if (Constants.SESSION_ID_NOTE.equals(name) && getNote(Constants.FORM_REQUEST_NOTE) != null
                    || Constants.FORM_REQUEST_NOTE.equals(name) && !changesIdOnAuthentication()) {
                loginPageLeaving();
            }
        }
    }

    /** Whether this context's authenticator changes the session's id at a login (Tomcat's default; unknown: yes). */
    private boolean changesIdOnAuthentication() {
        org.apache.catalina.Manager m = getManager();
        org.apache.catalina.Context c = m == null ? null : m.getContext();
        org.apache.catalina.Authenticator a = c == null ? null : c.getAuthenticator();
        return !(a instanceof org.apache.catalina.authenticator.AuthenticatorBase)
                || ((org.apache.catalina.authenticator.AuthenticatorBase) a).getChangeSessionIdOnAuthentication();
    }

    /**
     * A FORM login saved the request and noted the session's id: Tomcat now forwards to the login page and completes
     * that response inside its authenticator, before msm's valve sees the request end. The session is stored first
     * (non-sticky and synchronous mode), so credentials sent at once to another Tomcat find the login in progress.
     */
    private void loginPageLeaving() {
        RequestContext rc = RequestContext.current();
        if (rc != null && rc.manager == getManager()) {
            rc.manager.requests.responseLeaving(rc);
        }
    }

    /** Follows an id change in the FORM login's note of the session id (msm's own change: nothing leaves). */
    void noteIdChange(String newId) {
        super.setNote(Constants.SESSION_ID_NOTE, newId);
        state.metadataChanged();
    }

    @Override
    public void removeNote(String name) {
        boolean present = getNote(name) != null;
        super.removeNote(name);
        if (present && isCarried(name)) {
            state.metadataChanged();
        }
    }

    private static boolean isCarried(String note) {
        for (String n : CARRIED_NOTES) {
            if (n.equals(note)) {
                return true;
            }
        }
        return false;
    }

    /** The session whose timeout Tomcat is checking on this thread ({@link #isValid()}), if any. */
    private static final ThreadLocal<MemcachedSession> TIMEOUT_CHECK = new ThreadLocal<>();

    /** Tomcat's timeout check: an expiry it causes is a timeout, which msm decides on ({@link #expire(boolean)}). */
    @Override
    public boolean isValid() {
        if (!this.isValid || this.expiring) {
            return super.isValid();
        }
        MemcachedSession outer = TIMEOUT_CHECK.get();
        TIMEOUT_CHECK.set(this);
        try {
            return super.isValid();
        } finally {
            TIMEOUT_CHECK.set(outer);
        }
    }

    @Override
    public void expire(boolean notify) {
        if (notify && TIMEOUT_CHECK.get() == this && manager instanceof MemcachedSessionManager) {
            // timed out: once in the cluster, and not while it lives on elsewhere
            SessionEnds.Decision d = msm().timingOut(this);
            if (d == SessionEnds.Decision.KEEP) {
                return;
            }
            notify = d == SessionEnds.Decision.FIRE;
        } else if (notify && this.isValid && manager instanceof MemcachedSessionManager) {
            // sticky: a takeover another Tomcat announced is applied first, so a logout here right after one ends
            // the session where it lives (below) instead of this copy alone
            msm().sessionHooks.beforeEnd(this);
        }
        if (TIMEOUT_CHECK.get() != this && state().isRetired()) {
            // a copy another Tomcat took over (sticky), ended by a request still running here (one the balancer gave
            // up on): the session lives on there, where it is ended (with its listeners, told by a notice); none
            // fires here for the copy
            if (notify && this.isValid && manager instanceof MemcachedSessionManager) {
                msm().sessionHooks.endedAfterTakeover(this);
            }
            notify = false;
        }
        boolean wasValid = this.isValid;
        super.expire(notify);
        if (wasValid && !this.isValid && manager instanceof MemcachedSessionManager) {
            msm().sessionHooks.sessionEnded(this);
        }
    }

    // ------------------------------------------------------------------ ManagedSession

    @Override
    public String id() {
        return getIdInternal();
    }

    @Override
    public boolean isActive() {
        return isValid && !expiring;
    }

    @Override
    public int maxInactiveInterval() {
        return getMaxInactiveInterval();
    }

    @Override
    public long thisAccessedTime() {
        return getThisAccessedTimeInternal();
    }

    @Override
    public long creationTime() {
        return getCreationTimeInternal();
    }

    @Override
    public java.util.Collection<String> formerIds() {
        return formerIds;
    }

    /** Names a session built only to be ended ({@link SessionEnds}), without putting it in the manager's map. */
    void detachedId(String id) {
        this.id = id;
    }

    @Override
    public SessionData.Builder metadata() {
        SessionData.Builder b = SessionData.builder(getIdInternal())
                .times(getCreationTimeInternal(), getLastAccessedTimeInternal(), getThisAccessedTimeInternal())
                .maxInactiveInterval(getMaxInactiveInterval())
                .state(isNew, isValid)
                .authType(authType)
                .principal(AuthStateCodec.encodePrincipal(principal));
        for (String name : CARRIED_NOTES) {
            byte[] encoded = AuthStateCodec.encodeNote(name, getNote(name));
            if (encoded != null) {
                b.note(name, encoded);
            }
        }
        return b;
    }

    @Override
    public Map<String, Object> attributes() {
        Map<String, Object> copy = new HashMap<>((int) (attributes.size() / 0.75f) + 2);
        attributes.forEach(copy::put); // no entry object per attribute, as an iteration of the map would make
        Object userPrincipal = AuthStateCodec.separateUserPrincipal(principal);
        if (userPrincipal != null) {
            copy.put(AuthStateCodec.USER_PRINCIPAL_ATTRIBUTE, userPrincipal);
        }
        return copy;
    }

    private static final java.util.Set<String> UNWATCHED = java.util.Set.of(AuthStateCodec.USER_PRINCIPAL_ATTRIBUTE);

    /** The user principal stored among the attributes: a request reaches it through the request, unseen. */
    @Override
    public java.util.Set<String> unwatchedAttributes() {
        return UNWATCHED;
    }

    @Override
    public SessionState state() {
        return state;
    }

    /**
     * A new session, made for a request: it holds no attribute, so none can listen for activation until
     * {@link #setAttribute} puts one (a session Tomcat fills another way, e.g. reading its own persisted sessions,
     * keeps looking).
     */
    void created() {
        if (attributes.isEmpty()) {
            mayHaveActivationListener = false;
        }
    }

    /**
     * Whether an attribute listens for activation. Such a session's objects are not kept for reuse when it leaves
     * memory (non-sticky): every load gives them a fresh copy and one {@code sessionDidActivate}, as before.
     */
    boolean hasActivationListener() {
        if (!mayHaveActivationListener) {
            return false;
        }
        for (Object v : attributes.values()) {
            if (v instanceof javax.servlet.http.HttpSessionActivationListener) {
                return true;
            }
        }
        return false;
    }

    /**
     * Non-sticky: this session, which left memory, is back as it left (memcached holds the bytes it left with); only
     * its access times are new.
     */
    void returned(long now, long lastAccessed) {
        this.lastAccessedTime = lastAccessed;
        this.thisAccessedTime = now;
        this.isNew = false; // as any session built from memcached's copy
    }

    /**
     * Not while Tomcat still finishes a request whose end msm's valve handled (its {@link #endAccess()} is to come):
     * that call would count as the next request's end and date its access.
     */
    @Override
    public boolean mayBeReused() {
        return skipEndAccess.get() == 0;
    }

    /**
     * Fills this (empty) session from its stored form, without firing attribute listeners.
     */
    void restore(SessionData data, Map<String, Object> storedAttributes, long now, long lastAccessed) {
        this.creationTime = data.creationTime();
        this.lastAccessedTime = lastAccessed;
        this.thisAccessedTime = now;
        this.maxInactiveInterval = data.maxInactiveInterval();
        this.isNew = false;
        this.isValid = true;
        this.authType = data.authType();
        Map<String, byte[]> notes = data.notes();
        if (!notes.isEmpty()) { // a FORM login in progress; non-sticky restores a session at every request
            for (Map.Entry<String, byte[]> note : notes.entrySet()) {
                Object value = AuthStateCodec.decodeNote(note.getKey(), note.getValue());
                if (value != null) {
                    super.setNote(note.getKey(), value);
                }
            }
        }
        // one pass over the stored attributes: the principal's part, the others, whether any listens for activation
        Object userPrincipal = null;
        boolean activationListener = false;
        for (Map.Entry<String, Object> e : storedAttributes.entrySet()) {
            String k = e.getKey();
            Object v = e.getValue();
            if (AuthStateCodec.USER_PRINCIPAL_ATTRIBUTE.equals(k)) {
                userPrincipal = v;
            } else if (k != null && v != null) {
                attributes.put(k, v);
                activationListener |= v instanceof javax.servlet.http.HttpSessionActivationListener;
            }
        }
        this.principal = AuthStateCodec.decodePrincipal(data.principal(), userPrincipal);
        mayHaveActivationListener = activationListener;
    }
}
