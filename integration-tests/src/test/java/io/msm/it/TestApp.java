package io.msm.it;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;
import javax.servlet.http.HttpSessionActivationListener;
import javax.servlet.http.HttpSessionBindingEvent;
import javax.servlet.http.HttpSessionBindingListener;
import javax.servlet.http.HttpSessionEvent;
import javax.servlet.http.HttpSessionIdListener;
import javax.servlet.http.HttpSessionListener;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;

/** The webapp every integration test deploys: small servlets that use the session the ways real apps do. */
final class TestApp {
    /** Session events seen by every Tomcat of the test JVM, e.g. {@code created tc1 <id>}. */
    static final List<String> EVENTS = new CopyOnWriteArrayList<>();

    /** Counted down by {@code /hold} once it has its session; see {@link #resetHold()}. */
    static volatile java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
    /** What {@code /hold} waits for before it changes its session (a test, or {@code /set?release=true}). */
    static volatile java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    /** What {@code /set?hold=true} waits for before it changes its session (a second slow request). */
    static volatile java.util.concurrent.CountDownLatch releaseSet = new java.util.concurrent.CountDownLatch(1);

    private TestApp() {
    }

    /** New latches for the next {@code /hold} request. */
    static void resetHold() {
        held = new java.util.concurrent.CountDownLatch(1);
        release = new java.util.concurrent.CountDownLatch(1);
        releaseSet = new java.util.concurrent.CountDownLatch(1);
    }

    static void install(Context ctx, String route) {
        servlet(ctx, "counter", "/counter", new Counter(route));
        servlet(ctx, "read", "/read", new Read(route));
        servlet(ctx, "object", "/object", new ObjectIdentity());
        servlet(ctx, "none", "/none", new NoAttribute());
        servlet(ctx, "invalidate", "/invalidate", new Invalidate());
        servlet(ctx, "renew", "/renew", new Renew());
        servlet(ctx, "rotate", "/rotate", new Rotate());
        servlet(ctx, "cart", "/cart", new Cart());
        servlet(ctx, "tracked", "/tracked", new TrackedServlet());
        servlet(ctx, "activation", "/activation", new Activation());
        servlet(ctx, "png", "*.png", new Image());
        servlet(ctx, "protected", "/protected/*", new Protected());
        servlet(ctx, "logout", "/logout", new Logout());
        servlet(ctx, "set", "/set", new SetAttribute());
        servlet(ctx, "big", "/big", new BigAttribute());
        servlet(ctx, "dump", "/dump", new Dump());
        servlet(ctx, "lastAccess", "/last-access", new LastAccess());
        servlet(ctx, "dispatch", "/dispatch", new Dispatch());
        servlet(ctx, "sendEarly", "/send-early", new SendEarly(route));
        servlet(ctx, "hold", "/hold", new Hold());
        servlet(ctx, "bind", "/bind", new Bind());
        org.apache.catalina.Wrapper async = Tomcat.addServlet(ctx, "asyncCounter", new AsyncCounter(route));
        async.setAsyncSupported(true);
        async.addMapping("/async-counter");
        org.apache.catalina.Wrapper dispatching = Tomcat.addServlet(ctx, "asyncDispatch", new AsyncDispatch());
        dispatching.setAsyncSupported(true);
        dispatching.addMapping("/async-dispatch");
        servlet(ctx, "login", "/login.html", new Text("LOGIN-PAGE"));
        servlet(ctx, "loginError", "/error.html", new Text("LOGIN-ERROR"));
        ctx.addApplicationListener(SessionEvents.class.getName());
        if (ctx.findParameter("route") == null) {
            ctx.addParameter("route", route);
        }
    }

    private static void servlet(Context ctx, String name, String pattern, HttpServlet servlet) {
        Tomcat.addServlet(ctx, name, servlet).addMapping(pattern);
    }

    static void write(HttpServletResponse resp, String text) throws IOException {
        resp.setContentType("text/plain");
        resp.getWriter().print(text);
    }

    /** The session's counter plus one (1 for a session without one); the caller stores it. */
    static int nextCount(HttpSession s) {
        Integer c = (Integer) s.getAttribute("count");
        return c == null ? 1 : c + 1;
    }

    /** {@code count=N id=ID route=R}: the counter after this request. */
    static final class Counter extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final String route;

        Counter(String route) {
            this.route = route;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            int c = nextCount(s);
            s.setAttribute("count", c);
            write(resp, "count=" + c + " id=" + s.getId() + " route=" + route);
        }
    }

    /** Reads the counter, never changes the session. */
    static final class Read extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final String route;

        Read(String route) {
            this.route = route;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession(false);
            write(resp, s == null ? "no-session" : "count=" + s.getAttribute("count") + " id=" + s.getId()
                    + " route=" + route);
        }
    }

    /** Which session object serves the request (its identity) and the counter; never changes the session. */
    static final class ObjectIdentity extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession(false);
            write(resp, s == null ? "no-session"
                    : "object=" + System.identityHashCode(s) + " count=" + s.getAttribute("count"));
        }
    }

    /** Looks the session up but touches no attribute. */
    static final class NoAttribute extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession(false);
            write(resp, s == null ? "no-session" : "id=" + s.getId());
        }
    }

    static final class Invalidate extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession(false);
            if (s != null) {
                s.invalidate();
            }
            write(resp, "invalidated");
        }
    }

    /** {@code HttpServletRequest.changeSessionId()}, as frameworks do after login. */
    static final class Rotate extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            req.getSession();
            write(resp, "id=" + req.changeSessionId());
        }
    }

    /** Adds an item to a list held in the session, changing it in place (no setAttribute after the first). */
    static final class Cart extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        @SuppressWarnings("unchecked")
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            List<String> items = (List<String>) s.getAttribute("cart");
            if (items == null) {
                items = new ArrayList<>();
                s.setAttribute("cart", items);
            }
            String add = req.getParameter("add");
            if (add != null) {
                items.add(add);
            }
            write(resp, "cart=" + items);
        }
    }

    static final class Activation extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            if (s.getAttribute("probe") == null) {
                s.setAttribute("probe", new ActivationProbe());
            }
            write(resp, "id=" + s.getId());
        }
    }

    /** Mapped to {@code *.png}: creates a session, as a careless filter on static content would. */
    static final class Image extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            s.setAttribute("png", req.getRequestURI());
            write(resp, "image id=" + s.getId());
        }
    }

    static final class Protected extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            if ("/badge".equals(req.getPathInfo()) && req.getUserPrincipal() instanceof BadgeRealm.Badge) {
                badge(req, resp);
                return;
            }
            write(resp, "user=" + req.getRemoteUser() + " x=" + req.getParameter("x") + " method=" + req.getMethod());
        }

        /**
         * Counts a visit on the realm's user object, in place; {@code init} first stores a value that can change and
         * one that cannot, which no later request touches (non-sticky: the session is stored in two chunks).
         */
        private static void badge(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            if (req.getParameter("init") != null) {
                HttpSession s = req.getSession();
                s.setAttribute("greeting", "hello");
                s.setAttribute("prefs", new ArrayList<>(List.of("dark")));
            }
            BadgeRealm.Badge badge = (BadgeRealm.Badge) req.getUserPrincipal();
            write(resp, "badge=" + badge.getName() + " visits=" + badge.visit());
        }
    }

    static final class Text extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final String text;

        Text(String text) {
            this.text = text;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            write(resp, text);
        }
    }

    /** The counter, incremented on a container thread after {@code startAsync}. */
    static final class AsyncCounter extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final String route;

        AsyncCounter(String route) {
            this.route = route;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
            HttpSession s = req.getSession();
            javax.servlet.AsyncContext ac = req.startAsync();
            ac.start(() -> {
                try {
                    Thread.sleep(20); // the asynchronous work takes a while (an async request is the subject)
                    int c = nextCount(s);
                    s.setAttribute("count", c);
                    write(resp, "count=" + c + " id=" + s.getId() + " route=" + route);
                } catch (IOException | InterruptedException e) {
                    resp.setStatus(500);
                } finally {
                    ac.complete();
                }
            });
        }
    }

    /**
     * Gets the session, goes asynchronous and, from a container thread, dispatches to {@code /counter}, as Spring
     * MVC's {@code Callable} and {@code DeferredResult} finish: the dispatched pass changes the session and answers.
     */
    static final class AsyncDispatch extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
            req.getSession();
            javax.servlet.AsyncContext ac = req.startAsync();
            ac.start(() -> ac.dispatch("/counter"));
        }
    }

    /**
     * Invalidates the session and starts a new one carrying its count + 1, in one request (a login with Spring
     * Security's {@code migrateSession}, or a hand-written session fixation defence): {@code count=N id=NEW old=OLD}.
     */
    static final class Renew extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession old = req.getSession(false);
            Object count = old == null ? null : old.getAttribute("count");
            String oldId = old == null ? "none" : old.getId();
            if (old != null) {
                old.invalidate();
            }
            HttpSession fresh = req.getSession(true);
            int c = (count instanceof Integer ? (Integer) count : 0) + 1;
            fresh.setAttribute("count", c);
            write(resp, "count=" + c + " id=" + fresh.getId() + " old=" + oldId);
        }
    }

    /** Invalidates the session, then looks it up again in the same request, as frameworks do after logout. */
    static final class Logout extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession(false);
            if (s != null) {
                s.invalidate();
            }
            HttpSession after = req.getSession(false);
            write(resp, "after=" + (after == null ? "none" : after.getId()));
        }
    }

    /**
     * {@code /set?name=n&value=v[&hold=true]}: sets an attribute; with {@code hold=true} only once the test counted
     * {@link #releaseSet} down (at most 20 s): a slow request, as long as the test needs, not a guess.
     */
    static final class SetAttribute extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            java.util.concurrent.CountDownLatch until = releaseSet;
            HttpSession s = req.getSession();
            if (req.getParameter("hold") != null) {
                try {
                    if (!until.await(20, java.util.concurrent.TimeUnit.SECONDS)) {
                        resp.setStatus(500);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            s.setAttribute(req.getParameter("name"), req.getParameter("value"));
            if (req.getParameter("release") != null) {
                release.countDown(); // lets a held request go on
            }
            write(resp, "id=" + s.getId());
        }
    }

    /**
     * {@code /hold?name=n&value=v}: gets the session (if any), counts {@link #held} down, waits for {@link #release}
     * (at most 20 s), then sets attribute {@code name} to {@code value}: a slow request that changes its session at
     * its end. {@code held id=ID} or {@code no-session}. With {@code invalidate}, it invalidates the session instead
     * (a slow logout): {@code invalidated id=ID}.
     */
    static final class Hold extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession(false);
            if (s == null) {
                write(resp, "no-session");
                return;
            }
            held.countDown();
            try {
                if (!release.await(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    resp.setStatus(500);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (req.getParameter("invalidate") != null) { // a slow logout
                String id = s.getId();
                s.invalidate();
                write(resp, "invalidated id=" + id);
                return;
            }
            s.setAttribute(req.getParameter("name"), req.getParameter("value"));
            write(resp, "held id=" + s.getId());
        }
    }

    /**
     * Counts like {@link Counter}, then sends the whole response (declared length) before returning, the way
     * {@code how} says: {@code flushBuffer}, {@code stream-flush}, {@code stream-close}, {@code writer-flush},
     * {@code writer-close}, {@code change-after-flush} (flushes the headers, then changes the session and sends the
     * body) or {@code length-reached} (writes the body, no flush). Then, with {@code hold=true}, it waits (at most
     * 10 s) until the test counts down {@link #release} (see {@link #resetHold()}). Body:
     * {@code count=N id=ID route=R}.
     */
    static final class SendEarly extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final String route;

        SendEarly(String route) {
            this.route = route;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            java.util.concurrent.CountDownLatch until = release; // the latch of this request, taken before it answers
            HttpSession s = req.getSession();
            int c = nextCount(s);
            String how = req.getParameter("how");
            if (!how.equals("change-after-flush")) {
                s.setAttribute("count", c);
            }
            String text = "count=" + c + " id=" + s.getId() + " route=" + route;
            byte[] body = text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            resp.setContentType("text/plain");
            resp.setCharacterEncoding("ISO-8859-1");
            resp.setContentLength(body.length);
            switch (how) {
                case "flushBuffer":
                    resp.getOutputStream().write(body);
                    resp.flushBuffer();
                    break;
                case "stream-flush":
                    resp.getOutputStream().write(body);
                    resp.getOutputStream().flush();
                    break;
                case "stream-close":
                    resp.getOutputStream().write(body);
                    resp.getOutputStream().close();
                    break;
                case "writer-flush":
                    resp.getWriter().print(text);
                    resp.getWriter().flush();
                    break;
                case "change-after-flush": // the headers leave first, the change and the body after
                    resp.flushBuffer();
                    s.setAttribute("count", c);
                    resp.getOutputStream().write(body);
                    resp.getOutputStream().flush();
                    break;
                case "length-reached": // Tomcat 11 sends a response once its declared length is written
                    resp.getOutputStream().write(body);
                    break;
                case "writer-close":
                    resp.getWriter().print(text);
                    resp.getWriter().close();
                    break;
                default:
                    throw new IllegalArgumentException("how=" + how);
            }
            if (req.getParameter("hold") != null) {
                try {
                    until.await(10, java.util.concurrent.TimeUnit.SECONDS); // the test has what it looked for
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * Sets attribute {@code name} to a string of {@code size} characters: random letters with {@code random=true}
     * (incompressible), else one repeated letter. {@code length=N id=ID}.
     */
    static final class BigAttribute extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            int size = Integer.parseInt(req.getParameter("size"));
            char[] chars = new char[size];
            java.util.Random random = new java.util.Random(size);
            boolean noise = Boolean.parseBoolean(req.getParameter("random"));
            for (int i = 0; i < size; i++) {
                chars[i] = noise ? (char) ('!' + random.nextInt(90)) : 'a';
            }
            s.setAttribute(req.getParameter("name"), new String(chars));
            write(resp, "length=" + size + " id=" + s.getId());
        }
    }

    /** {@code last=<ms>}: the session's getLastAccessedTime(). */
    static final class LastAccess extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession(false);
            write(resp, s == null ? "no-session" : "last=" + s.getLastAccessedTime());
        }
    }

    /** Every attribute, sorted: {@code a=1,b=2 id=...}. */
    static final class Dump extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession(false);
            if (s == null) {
                write(resp, "no-session");
                return;
            }
            java.util.TreeMap<String, Object> all = new java.util.TreeMap<>();
            for (String n : java.util.Collections.list(s.getAttributeNames())) {
                all.put(n, s.getAttribute(n));
            }
            StringBuilder sb = new StringBuilder();
            all.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ",").append(k).append(':').append(v));
            write(resp, "attrs=" + sb + " id=" + s.getId());
        }
    }

    /** Includes {@code /other/counter} of the webapp at /other (cross-context). */
    static final class Dispatch extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp)
                throws IOException, javax.servlet.ServletException {
            javax.servlet.ServletContext other = getServletContext().getContext("/other");
            if (other == null) {
                write(resp, "no-cross-context");
                return;
            }
            resp.setContentType("text/plain");
            other.getRequestDispatcher("/counter").include(req, resp);
        }
    }

    /** Records session lifecycle events with the jvmRoute of the Tomcat that fired them. */
    public static final class SessionEvents implements HttpSessionListener, HttpSessionIdListener {
        private static String route(HttpSessionEvent e) {
            return e.getSession().getServletContext().getInitParameter("route");
        }

        @Override
        public void sessionCreated(HttpSessionEvent e) {
            EVENTS.add("created " + route(e) + " " + e.getSession().getId());
        }

        @Override
        public void sessionDestroyed(HttpSessionEvent e) {
            EVENTS.add("destroyed " + route(e) + " " + e.getSession().getId());
            // the state the listener sees: the session's last attributes
            EVENTS.add("destroyedWith " + route(e) + " " + e.getSession().getId() + " count="
                    + e.getSession().getAttribute("count"));
        }

        @Override
        public void sessionIdChanged(HttpSessionEvent e, String oldId) {
            EVENTS.add("idChanged " + route(e) + " " + oldId + " " + e.getSession().getId());
        }
    }

    /** {@code /bind?value=v}: puts a {@link BoundProbe} named {@code probe} in the session. {@code id=ID}. */
    static final class Bind extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            s.setAttribute("probe", new BoundProbe(req.getParameter("value")));
            write(resp, "id=" + s.getId());
        }
    }

    /** A session attribute that records when it is unbound: {@code unbound <route> <id> <value>}. */
    public static final class BoundProbe implements HttpSessionBindingListener, Serializable {
        private static final long serialVersionUID = 1L;
        private final String value;

        BoundProbe(String value) {
            this.value = value;
        }

        @Override
        public void valueUnbound(HttpSessionBindingEvent e) {
            EVENTS.add("unbound " + e.getSession().getServletContext().getInitParameter("route") + " "
                    + e.getSession().getId() + " " + value);
        }
    }

    /** A session attribute that records activation and passivation. */
    /** Counts its serializations (Java serialization calls its writeObject): which writes reused stored bytes. */
    public static final class Tracked implements Serializable {
        private static final long serialVersionUID = 1L;
        static final java.util.concurrent.atomic.AtomicInteger WRITES = new java.util.concurrent.atomic.AtomicInteger();
        int touches;

        private void writeObject(java.io.ObjectOutputStream out) throws IOException {
            WRITES.incrementAndGet();
            out.defaultWriteObject();
        }
    }

    /** Puts a {@link Tracked} in the session once; {@code ?touch} changes it in place (read through getAttribute). */
    static final class TrackedServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            Tracked t = (Tracked) s.getAttribute("tracked");
            if (t == null) {
                t = new Tracked();
                s.setAttribute("tracked", t);
            }
            if (req.getParameter("touch") != null) {
                t.touches++;
            }
            write(resp, "touches=" + t.touches);
        }
    }

    public static final class ActivationProbe implements HttpSessionActivationListener, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public void sessionWillPassivate(HttpSessionEvent e) {
            EVENTS.add("passivate " + e.getSession().getServletContext().getInitParameter("route") + " "
                    + e.getSession().getId());
        }

        @Override
        public void sessionDidActivate(HttpSessionEvent e) {
            EVENTS.add("activate " + e.getSession().getServletContext().getInitParameter("route") + " "
                    + e.getSession().getId());
        }
    }
}
