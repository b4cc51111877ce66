package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.codec.SessionData;
import java.io.Serializable;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import javax.servlet.http.HttpSessionActivationListener;
import javax.servlet.http.HttpSessionEvent;
import org.apache.catalina.Session;
import org.apache.catalina.core.StandardContext;
import org.junit.jupiter.api.Test;

/**
 * A session restored without an activation listener skips Tomcat's walk over its attributes at activation and the
 * scan at its release ({@code mayHaveActivationListener}). Every later way a listener gets into the session must undo
 * that, or the listener's {@code sessionDidActivate} / {@code sessionWillPassivate} is silently not called.
 * {@link #aListenerSlippedPastTheFlagIsNotTold()} shows the skip is real, so each path test fails if its path does
 * not set the flag again.
 *
 * <p>javax only, not migrated: msm-tc10 migrates msm-tc9's main classes, not its tests (it has integration tests of
 * the packaged jar only). The migrated {@code MemcachedSession} checks {@code jakarta.servlet.http.
 * HttpSessionActivationListener} in all four places this test covers, Tomcat 10.1 and 11's
 * {@code StandardSession.activate()} does what 9's does, and {@code putValue} is gone from Servlet 6.
 */
class MemcachedSessionActivationTest {

    // ------------------------------------------------------------------ the skip is real

    @Test
    void aListenerSlippedPastTheFlagIsNotTold() {
        Probe s = restored(Map.of("user", "alice"));
        Counting l = new Counting();
        s.putBehindTheFlag("listener", l);
        s.activate();
        assertEquals(0, l.activated, "no path set the flag: activate() skipped the attributes");
        assertFalse(s.hasActivationListener(), "and the release scan too");
    }

    // ------------------------------------------------------------------ each path sets the flag again

    @Test
    void setAttributeOfAListener() {
        assertToldAfter((s, l) -> s.setAttribute("listener", l));
    }

    @Test
    void setAttributeOfAListenerWithoutNotifying() {
        assertToldAfter((s, l) -> s.setAttribute("listener", l, false));
    }

    @Test
    @SuppressWarnings("deprecation")
    void putValueOfAListener() {
        assertToldAfter((s, l) -> s.putValue("listener", l));
    }

    @Test
    void setAttributeAndPutValueThroughTheFacadeAWebappHolds() {
        assertToldAfter((s, l) -> s.getSession().setAttribute("listener", l));
        assertToldAfter((s, l) -> putValue(s.getSession(), "listener", l));
    }

    @Test
    void aProxyImplementingTheListener() {
        Probe s = restored(Map.of("user", "alice"));
        List<String> calls = new ArrayList<>();
        Object proxy = Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpSessionActivationListener.class}, (p, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return method.getName().equals("equals") ? p == args[0]
                                : method.getName().equals("hashCode") ? System.identityHashCode(p) : "proxy";
                    }
                    calls.add(method.getName());
                    return null;
                });
        s.setAttribute("proxy", proxy);
        assertTrue(s.hasActivationListener(), "release scans the attributes");
        s.activate();
        s.passivate();
        assertEquals(List.of("sessionDidActivate", "sessionWillPassivate"), calls);
    }

    @Test
    void aListenerThroughASubclassOfANonListenerClass() {
        Probe s = restored(Map.of("user", "alice"));
        Base value = new ListeningBase();
        s.setAttribute("base", value);
        assertTrue(s.hasActivationListener(), "release scans the attributes");
        s.activate();
        s.passivate();
        assertEquals(1, ((ListeningBase) value).counts.activated);
        assertEquals(1, ((ListeningBase) value).counts.passivated);
    }

    /**
     * Tomcat's own {@link org.apache.catalina.SessionListener}: besides the attributes' listeners,
     * {@code StandardSession.activate()} fires {@code activateSession} to these (and, with {@code ACTIVITY_CHECK},
     * makes a new access counter, which the constructor of a restored session already made). A restored session has
     * none (they are not stored); one added after the restore is told at the next activation of this instance.
     */
    @Test
    void aSessionListenerAddedAfterTheRestore() {
        Probe s = restored(Map.of("user", "alice"));
        List<String> events = new ArrayList<>();
        s.addSessionListener(e -> events.add(e.getType()));
        s.activate();
        s.passivate();
        assertEquals(List.of(Session.SESSION_ACTIVATED_EVENT, Session.SESSION_PASSIVATED_EVENT), events);
    }

    // ------------------------------------------------------------------ restored with a listener

    @Test
    void aRestoredListenerIsToldOncePerActivation() {
        Counting l = new Counting();
        Map<String, Object> stored = new HashMap<>();
        stored.put("user", "alice");
        stored.put("listener", l);
        Probe s = restored(stored);
        assertTrue(s.hasActivationListener());
        s.activate();
        assertEquals(1, l.activated);
        s.activate();
        assertEquals(2, l.activated, "once more per activation");
        assertEquals(0, l.passivated);
    }

    @Test
    void aRemovedListenerIsNeitherToldNorFoundAtTheRelease() {
        Probe s = restored(Map.of("user", "alice"));
        Counting l = new Counting();
        s.setAttribute("listener", l);
        s.removeAttribute("listener");
        s.activate();
        assertEquals(0, l.activated);
        assertFalse(s.hasActivationListener(), "the scan finds none");
    }

    // ------------------------------------------------------------------ helpers

    /** Restores a session without an activation listener, checks it, sets one by {@code path}, checks it is told. */
    private static void assertToldAfter(BiConsumer<Probe, Counting> path) {
        Probe s = restored(Map.of("user", "alice"));
        assertFalse(s.hasActivationListener(), "restored without a listener");
        Counting l = new Counting();
        path.accept(s, l);
        assertTrue(s.hasActivationListener(), "release scans the attributes");
        s.activate();
        assertEquals(1, l.activated, "sessionDidActivate");
        s.passivate();
        assertEquals(1, l.passivated, "sessionWillPassivate");
    }

    @SuppressWarnings("deprecation")
    private static void putValue(javax.servlet.http.HttpSession session, String name, Object value) {
        session.putValue(name, value);
    }

    private static Probe restored(Map<String, Object> stored) {
        MemcachedSessionManager m = new MemcachedSessionManager();
        StandardContext context = new StandardContext();
        context.setName("act");
        m.setContext(context);
        Probe s = new Probe(m);
        long now = System.currentTimeMillis();
        SessionData data = SessionData.builder("act-session").times(now - 1000, now - 500, now - 500)
                .maxInactiveInterval(1800).state(false, true).build();
        s.restore(data, stored, now, now - 500);
        return s;
    }

    /** A session whose attributes a test can fill behind the flag's back (no path of the servlet API does). */
    private static final class Probe extends MemcachedSession {
        private static final long serialVersionUID = 1L;

        Probe(MemcachedSessionManager manager) {
            super(manager);
        }

        void putBehindTheFlag(String name, Object value) {
            attributes.put(name, value);
        }
    }

    /** Counts the calls it gets: the listener of most tests, and what {@link ListeningBase} hands its calls to. */
    private static final class Counting implements HttpSessionActivationListener, Serializable {
        private static final long serialVersionUID = 1L;
        int activated;
        int passivated;

        @Override
        public void sessionDidActivate(HttpSessionEvent se) {
            activated++;
        }

        @Override
        public void sessionWillPassivate(HttpSessionEvent se) {
            passivated++;
        }
    }

    /** Not a listener itself: an attribute declared as this type may still be one. */
    private static class Base implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** A listener only through its subclass; counts its calls with a {@link Counting}. */
    private static final class ListeningBase extends Base implements HttpSessionActivationListener {
        private static final long serialVersionUID = 1L;
        final Counting counts = new Counting();

        @Override
        public void sessionDidActivate(HttpSessionEvent se) {
            counts.sessionDidActivate(se);
        }

        @Override
        public void sessionWillPassivate(HttpSessionEvent se) {
            counts.sessionWillPassivate(se);
        }
    }
}
