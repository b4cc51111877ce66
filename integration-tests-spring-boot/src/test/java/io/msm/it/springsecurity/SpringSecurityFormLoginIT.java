package io.msm.it.springsecurity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.msm.test.http.Browser;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import io.msm.tomcat.MemcachedSessionManager;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.catalina.Context;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.embedded.tomcat.TomcatWebServer;
import org.springframework.boot.web.servlet.context.ServletWebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * What an ordinary Spring Boot 3 application with Spring Security's form login ({@link FormLoginApplication}) does
 * with msm: two instances (embedded Tomcat 10.1), two real memcached nodes, a real HTTP client with a cookie jar.
 * Sticky mode with jvmRoutes tc1 and tc2, and non-sticky mode. A session id is a bearer token: an id the session had
 * before the login (Spring Security gives the session a new id at login) or before a logout must never lead to a
 * logged-in session again, whatever msm did with the session in between (moved it to another memcached node, to
 * another instance).
 */
class SpringSecurityFormLoginIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private static final String[] NODES = {"n1", "n2"};
    private static final Pattern CSRF = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"");

    private final List<Instance> instances = new ArrayList<>();

    /** One running instance of the application. */
    private static final class Instance {
        final ConfigurableApplicationContext app;
        final String route;
        final int port;

        Instance(ConfigurableApplicationContext app, String route) {
            this.app = app;
            this.route = route;
            this.port = ((ServletWebServerApplicationContext) app).getWebServer().getPort();
        }

        String url(String pathAndQuery) {
            return "http://127.0.0.1:" + port + pathAndQuery;
        }

        MemcachedSessionManager manager() {
            TomcatWebServer server = (TomcatWebServer) ((ServletWebServerApplicationContext) app).getWebServer();
            return (MemcachedSessionManager) ((Context) server.getTomcat().getHost().findChildren()[0]).getManager();
        }

        FormLoginApplication application() {
            return app.getBean(FormLoginApplication.class);
        }

        @Override
        public String toString() {
            return route;
        }
    }

    // ====================================================================== scenarios

    /**
     * Session fixation: the id a session had before the login (from the protected page that sent the browser to the
     * login page, on A) is dead once the user logged in (on B, which took the session over in sticky mode: msm moved
     * it once before the login), on both instances, under any node and route msm could give it: right after the
     * login, after the logged-in session moved to the other memcached node (its node killed), and after the other
     * instance served it (sticky: took it over).
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"true", "false"})
    void idsFromBeforeTheLoginNeverReachTheLoggedInSession(String sticky) {
        Instance a = start(sticky, "tc1");
        Instance b = start(sticky, "tc2");
        Browser user = new Browser();
        String preLogin = logIn(user, a, b);
        String loggedIn = user.sessionId();
        assertNotEquals(randomOf(preLogin), randomOf(loggedIn), "Spring Security gave the session a new id");
        Set<String> formerIds = everyIdOf(preLogin, sticky);
        assertNoneLoggedIn(formerIds, "after the login", a, b);

        awaitBackups(b);
        String node = nodeOf(loggedIn);
        server(node).kill();
        awaitNodeDown(node, a, b);
        assertPage(user.get(b.url("/page")), 2, "after " + node + " died");
        String moved = user.sessionId();
        assertNotEquals(node, nodeOf(moved), "the logged-in session moved to the live node");
        awaitBackups(b);
        assertNoneLoggedIn(formerIds, "after the logged-in session moved to another node", a, b);

        assertPage(user.get(a.url("/page")), 3, "the other instance");
        if (Boolean.parseBoolean(sticky)) {
            assertEquals("tc1", routeOf(user.sessionId()), "tc1 took the session over");
        }
        awaitBackups(a);
        assertNoneLoggedIn(formerIds, "after the other instance served the logged-in session", a, b);
        assertPage(user.get(a.url("/page")), 4, "the user is still logged in");
    }

    /**
     * A logout (on the instance the session is on: sticky, after the other instance took it over) ends the session
     * everywhere: the cookies from before and after the logout, and every id the session had (before the login,
     * before the takeover, under either node and route), get the login page on both instances.
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"true", "false"})
    void aLogoutEndsTheSessionUnderEveryIdOnBothInstances(String sticky) {
        Instance a = start(sticky, "tc1");
        Instance b = start(sticky, "tc2");
        Browser user = new Browser();
        String preLogin = logIn(user, a);
        String loggedInOnA = user.sessionId();
        awaitBackups(a);
        assertPage(user.get(b.url("/page")), 2, "the other instance");
        String loggedInOnB = user.sessionId();
        if (Boolean.parseBoolean(sticky)) {
            assertEquals("tc2", routeOf(loggedInOnB), "tc2 took the session over");
            // until it reads tc2's takeover notice (README: about 250 ms) tc1 still serves its copy to the old cookie
            await("tc1 to drop the session tc2 took over", 5000, () -> a.manager().getActiveSessions() == 0);
        }

        logOut(user, b);
        String afterLogout = user.sessionId();
        awaitBackups(a);
        awaitBackups(b);

        Set<String> ids = new LinkedHashSet<>();
        ids.add(loggedInOnA);
        ids.add(loggedInOnB);
        ids.add(afterLogout);
        ids.addAll(everyIdOf(preLogin, sticky));
        ids.addAll(everyIdOf(loggedInOnA, sticky));
        assertNoneLoggedIn(ids, "after the logout", a, b);
        assertLoginPage(user.get(a.url("/page")), "the user's own browser after the logout, on tc1");
        assertLoginPage(user.get(b.url("/page")), "the user's own browser after the logout, on tc2");
    }

    /**
     * Non-sticky: a slow request of the logged-in session runs on instance A while the user logs out on B; the slow
     * request then ends and changes the session (its copy from before the logout). Afterwards the session is still
     * logged out, on both instances.
     */
    @Test
    void aRequestStillRunningDuringTheLogoutDoesNotLogTheSessionBackIn() throws Exception {
        Instance a = start("false", "tc1");
        Instance b = start("false", "tc2");
        Browser user = new Browser();
        logIn(user, a);
        String loggedIn = user.sessionId();

        CompletableFuture<HttpResponse<String>> slow = user.getAsync(a.url("/slow"));
        try {
            assertTrue(a.application().slowEntered.await(10, TimeUnit.SECONDS), "the slow request started");
            logOut(user, b);
        } finally {
            a.application().slowReleased.countDown();
        }
        HttpResponse<String> slowResponse = slow.get(FormLoginApplication.SLOW_MAX_SECONDS + 10, TimeUnit.SECONDS);
        assertEquals(200, slowResponse.statusCode(), slowResponse.body());
        assertTrue(slowResponse.body().startsWith("user=alice count=2 released=true"), slowResponse.body());
        awaitBackups(a);
        awaitBackups(b);

        assertNoneLoggedIn(List.of(loggedIn, user.sessionId()), "after the logout and the end of the slow request",
                a, b);
    }

    /**
     * Non-sticky: the user logs in (id Z-nX), nX dies, the next request moves the session to the other node
     * (Z-nY), the user logs out (on the instance that moved it, or on the other). Neither Z-nX nor Z-nY is logged
     * in anywhere afterwards.
     */
    @ParameterizedTest(name = "logout on {0}")
    @ValueSource(strings = {"tc1", "tc2"})
    void aLogoutAfterANodeFailoverEndsTheSessionUnderBothIds(String logoutOn) {
        Instance a = start("false", "tc1");
        Instance b = start("false", "tc2");
        Browser user = new Browser();
        logIn(user, a);
        String loggedIn = user.sessionId();
        String node = nodeOf(loggedIn);
        server(node).kill();
        awaitNodeDown(node, a, b);
        assertPage(user.get(a.url("/page")), 2, "after " + node + " died");
        String moved = user.sessionId();
        assertNotEquals(node, nodeOf(moved), "the session moved to the live node");
        assertEquals(randomOf(loggedIn), randomOf(moved));

        logOut(user, logoutOn.equals("tc1") ? a : b);
        awaitBackups(a);
        awaitBackups(b);

        assertNoneLoggedIn(List.of(loggedIn, moved, user.sessionId()), "after the logout", a, b);
    }

    // ====================================================================== the user's steps

    /**
     * Opens the protected page (redirected to the login page), logs in with the CSRF token of Spring Security's
     * login page, follows the redirect back to the page.
     *
     * @return the session id from before the login
     */
    private static String logIn(Browser user, Instance i) {
        return logIn(user, i, i);
    }

    /**
     * {@link #logIn(Browser, Instance)}, the protected page opened on {@code first}, the login page and the login on
     * {@code then} (sticky: {@code then} takes the session over before the login, as after a balancer's retry).
     */
    private static String logIn(Browser user, Instance first, Instance then) {
        assertLoginPage(user.get(first.url("/page")), "before the login");
        String preLogin = user.sessionId();
        assertNotNull(preLogin, "the protected page started a session (the request to come back to)");
        if (then != first) {
            awaitBackups(first);
        }
        HttpResponse<String> loginPage = user.get(then.url("/login"));
        assertEquals(200, loginPage.statusCode(), loginPage.body());
        if (then != first && !routeOf(preLogin).isEmpty()) {
            assertEquals(then.route, routeOf(user.sessionId()), then + " took the pre-login session over");
        }
        HttpResponse<String> login = user.post(then.url("/login"),
                Map.of("username", "alice", "password", "secret", "_csrf", csrfToken(loginPage)));
        assertEquals(302, login.statusCode(), login.body());
        String target = location(login);
        assertTrue(URI.create(target).getPath().equals("/page"), "back to the page after the login: " + target);
        assertPage(user.get(then.url(pathAndQuery(target))), 1, "after the login");
        return preLogin;
    }

    /** Spring Security's logout: its confirmation page (with the CSRF token), POST /logout, the login page. */
    private static void logOut(Browser user, Instance i) {
        HttpResponse<String> confirm = user.get(i.url("/logout"));
        assertEquals(200, confirm.statusCode(), confirm.body());
        HttpResponse<String> logout = user.post(i.url("/logout"), Map.of("_csrf", csrfToken(confirm)));
        assertEquals(302, logout.statusCode(), logout.body());
        String target = location(logout);
        assertEquals("/login?logout", pathAndQuery(target), "Spring Security's redirect after a logout");
        HttpResponse<String> loginPage = user.get(i.url(pathAndQuery(target)));
        assertEquals(200, loginPage.statusCode(), loginPage.body());
    }

    // ====================================================================== checks

    /**
     * Each id, replayed alone on each instance, gets the login page, never the logged-in user. A failure lists the
     * keys memcached held for these sessions before the replays (a replay that reaches a session may store it again).
     */
    private static void assertNoneLoggedIn(Iterable<String> ids, String when, Instance... on) {
        List<String> keysBefore = keysOf(ids);
        List<String> leaks = new ArrayList<>();
        for (String id : ids) {
            for (Instance i : on) {
                HttpResponse<String> r = Browser.withSessionCookie(id).get(i.url("/page"));
                if (!isLoginRedirect(r)) {
                    leaks.add(id + " on " + i + " -> " + r.statusCode() + " " + r.body());
                }
            }
        }
        if (!leaks.isEmpty()) {
            fail(when + ": " + leaks.size() + " replayed id(s) did not get the login page: " + leaks
                    + "; memcached held " + keysBefore + " before these requests");
        }
    }

    /** For a failure message: the keys on the running memcached nodes that carry the random part of one of the ids. */
    private static List<String> keysOf(Iterable<String> ids) {
        Set<String> randoms = new LinkedHashSet<>();
        ids.forEach(id -> randoms.add(randomOf(id)));
        List<String> found = new ArrayList<>();
        for (int n = 0; n < NODES.length; n++) {
            MemcachedServer server = MEMCACHED.server(n);
            if (server.isRunning()) {
                for (String key : server.keys()) {
                    if (randoms.stream().anyMatch(key::contains)) {
                        found.add(NODES[n] + ":" + key);
                    }
                }
            }
        }
        return found;
    }

    private static void assertLoginPage(HttpResponse<String> r, String what) {
        assertTrue(isLoginRedirect(r), what + ": expected the redirect to the login page, got " + r.statusCode()
                + " " + r.headers().firstValue("Location").orElse("") + " " + r.body());
    }

    private static boolean isLoginRedirect(HttpResponse<String> r) {
        return r.statusCode() == 302 && pathAndQuery(location(r)).replaceFirst(";.*", "").equals("/login");
    }

    private static void assertPage(HttpResponse<String> r, int count, String what) {
        assertEquals(200, r.statusCode(), what + ": " + r.headers().firstValue("Location").orElse("") + r.body());
        assertEquals("user=alice count=" + count, r.body(), what);
    }

    // ====================================================================== helpers

    private Instance start(String sticky, String route) {
        boolean isSticky = Boolean.parseBoolean(sticky);
        ConfigurableApplicationContext app = new SpringApplicationBuilder(FormLoginApplication.class)
                .properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
                        "logging.level.root=WARN", "logging.level.io.msm=INFO",
                        "msm.memcached-nodes=" + MEMCACHED.nodesAttribute(NODES), "msm.sticky=" + sticky,
                        "msm.jvm-route=" + (isSticky ? route : ""))
                .run();
        Instance i = new Instance(app, route);
        instances.add(i);
        return i;
    }

    @AfterEach
    void stopInstances() {
        for (Instance i : instances) {
            i.application().slowReleased.countDown();
            i.app.close();
        }
        instances.clear();
    }

    private static String csrfToken(HttpResponse<String> page) {
        Matcher m = CSRF.matcher(page.body());
        assertTrue(m.find(), "a CSRF token in " + page.body());
        return m.group(1);
    }

    private static String location(HttpResponse<String> r) {
        return r.headers().firstValue("Location").orElse("");
    }

    private static String pathAndQuery(String url) {
        URI uri = URI.create(url);
        return uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    }

    /**
     * The id with the random part of {@code id} under every node and (sticky) every route: every id msm could give
     * this session.
     */
    private static Set<String> everyIdOf(String id, String sticky) {
        Set<String> ids = new LinkedHashSet<>();
        ids.add(id);
        for (String node : NODES) {
            if (Boolean.parseBoolean(sticky)) {
                for (String route : new String[] {"tc1", "tc2"}) {
                    ids.add(randomOf(id) + "-" + node + "." + route);
                }
            } else {
                ids.add(randomOf(id) + "-" + node);
            }
        }
        return ids;
    }

    private static String baseOf(String sessionId) {
        return sessionId.split("\\.", 2)[0];
    }

    private static String randomOf(String sessionId) {
        String base = baseOf(sessionId);
        return base.substring(0, base.lastIndexOf('-'));
    }

    private static String nodeOf(String sessionId) {
        String base = baseOf(sessionId);
        return base.substring(base.lastIndexOf('-') + 1);
    }

    private static String routeOf(String sessionId) {
        String[] parts = sessionId.split("\\.", 2);
        return parts.length == 2 ? parts[1] : "";
    }

    private static MemcachedServer server(String node) {
        return MEMCACHED.server(node.equals("n1") ? 0 : 1);
    }

    private static void awaitNodeDown(String node, Instance... on) {
        for (Instance i : on) {
            await(i + " to notice that " + node + " died", 5000,
                    () -> !List.of(i.manager().getMsmAvailableNodes().split(",")).contains(node));
        }
    }

    /**
     * Waits until memcached holds what the last request changed: the request thread is done (Spring flushes a
     * response before the request ends; sticky asynchronous backups start at its end), then the backup threads.
     */
    private static void awaitBackups(Instance i) {
        org.apache.catalina.Service service = ((org.apache.catalina.Engine) i.manager().getContext().getParent()
                .getParent()).getService();
        for (org.apache.catalina.connector.Connector c : service.findConnectors()) {
            if (c.getProtocolHandler().getExecutor() instanceof org.apache.tomcat.util.threads.ThreadPoolExecutor) {
                org.apache.tomcat.util.threads.ThreadPoolExecutor pool =
                        (org.apache.tomcat.util.threads.ThreadPoolExecutor) c.getProtocolHandler().getExecutor();
                await("the requests on " + i + " to end", 5000, () -> pool.getActiveCount() == 0);
            }
        }
        assertTrue(i.manager().engine().awaitIdle(5000), "backups of " + i + " still running");
    }

    private static void await(String what, long maxMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out after " + maxMillis + " ms waiting for " + what);
            }
            try {
                Thread.sleep(20); // poll interval of a wait bounded by its deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
