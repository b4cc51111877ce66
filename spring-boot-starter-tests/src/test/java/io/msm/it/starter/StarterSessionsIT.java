package io.msm.it.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.http.Browser;
import io.msm.test.memcached.MemcachedExtension;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The starter's promise: the dependency and {@code msm.memcached-nodes} (plus {@code msm.sticky} and, sticky,
 * {@code msm.jvm-route}) put msm on the embedded Tomcat. Two instances of {@link StarterApplication}, two real
 * memcached nodes, a real HTTP client: a session made on one instance is served by the other, both ways; a Spring
 * Security form login (CSRF, session fixation protection) made on one is honoured by the other, and so is a logout.
 */
class StarterSessionsIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private static final Pattern CSRF = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"");

    private final List<Instance> instances = new ArrayList<>();

    @AfterEach
    void stop() {
        instances.forEach(Instance::close);
        instances.clear();
    }

    private Instance start(String sticky, String route) {
        Instance i = Instance.start(route, "msm.memcached-nodes=" + MEMCACHED.nodesAttribute("n1", "n2"),
                "msm.sticky=" + sticky, "msm.jvm-route=" + (Boolean.parseBoolean(sticky) ? route : ""));
        instances.add(i);
        return i;
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"true", "false"})
    void aSessionMadeOnOneInstanceIsServedByTheOtherBothWays(String sticky) {
        Instance a = start(sticky, "tc1");
        Instance b = start(sticky, "tc2");
        Browser user = new Browser();
        assertBody("count=1", user.get(a.url("/count")), "made on tc1");
        a.awaitBackups();
        assertBody("count=2", user.get(b.url("/count")), "served by tc2");
        b.awaitBackups();
        assertBody("count=3", user.get(a.url("/count")), "back on tc1");
        if (Boolean.parseBoolean(sticky)) {
            assertTrue(user.sessionId().endsWith(".tc1"), "tc1 took the session back: " + user.sessionId());
        }
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"true", "false"})
    void aFormLoginOnOneInstanceAndALogoutOnTheOtherAreHonouredByBoth(String sticky) {
        Instance a = start(sticky, "tc1");
        Instance b = start(sticky, "tc2");
        Browser user = new Browser();
        HttpResponse<String> protectedPage = user.get(a.url("/page"));
        assertEquals(302, protectedPage.statusCode(), "the login page first");
        String preLogin = user.sessionId();
        assertNotNull(preLogin, "the protected page started a session (the request to come back to)");
        HttpResponse<String> loginPage = user.get(a.url("/login"));
        HttpResponse<String> login = user.post(a.url("/login"),
                Map.of("username", "alice", "password", "secret", "_csrf", csrfToken(loginPage)));
        assertEquals(302, login.statusCode(), login.body());
        assertEquals("/page", URI.create(location(login)).getPath(), "back to the page after the login");
        assertNotEquals(preLogin, user.sessionId(), "session fixation protection: a new id at the login");
        assertBody("user=alice count=1", user.get(a.url("/page")), "logged in on tc1");
        a.awaitBackups();

        assertBody("user=alice count=2", user.get(b.url("/page")), "the login made on tc1, honoured by tc2");
        assertEquals(302, Browser.withSessionCookie(preLogin).get(b.url("/page")).statusCode(),
                "the id from before the login is no login on tc2");
        b.awaitBackups();

        HttpResponse<String> confirm = user.get(b.url("/logout"));
        HttpResponse<String> logout = user.post(b.url("/logout"), Map.of("_csrf", csrfToken(confirm)));
        assertEquals(302, logout.statusCode(), logout.body());
        assertEquals("/login", URI.create(location(logout)).getPath(), "Spring Security's redirect after a logout");
        b.awaitBackups();
        HttpResponse<String> afterLogout = user.get(a.url("/page"));
        assertEquals(302, afterLogout.statusCode(), "the logout made on tc2, honoured by tc1: " + afterLogout.body());
        assertEquals("/login", URI.create(location(afterLogout)).getPath());
    }

    private static void assertBody(String expected, HttpResponse<String> r, String what) {
        assertEquals(200, r.statusCode(), what + ": " + location(r) + " " + r.body());
        assertEquals(expected, r.body(), what);
    }

    private static String csrfToken(HttpResponse<String> page) {
        Matcher m = CSRF.matcher(page.body());
        assertTrue(m.find(), "a CSRF token in " + page.body());
        return m.group(1);
    }

    private static String location(HttpResponse<String> r) {
        return r.headers().firstValue("Location").orElse("");
    }
}
