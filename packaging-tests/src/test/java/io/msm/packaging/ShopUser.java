package io.msm.packaging;

import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * One user of MigrationIT's shop behind a balancer: its own cookie jar, a FORM login, then requests of the protected
 * cart page, each checked against what the user saw before: still logged in as itself, the counter one more (no
 * reset, no skip), the cart as long as the counter with every item intact, HTTP 200.
 */
final class ShopUser {
    final String name;
    final String password;
    private final Balancer balancer;
    private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    private final HttpClient http = HttpClient.newBuilder()
            .cookieHandler(cookies)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    /** The counter of the last answer, the session id and the Tomcat that gave it. */
    private volatile int count;
    private volatile String session;
    private volatile String tomcat;
    /** Cart requests answered as expected after the login (the login's own answer is count 1). */
    private volatile int rounds;

    ShopUser(String name, String password, Balancer balancer) {
        this.name = name;
        this.password = password;
        this.balancer = balancer;
    }

    /**
     * The protected page (the login page comes), the login form posted, then the page itself: count 1. All three
     * requests to {@code origin} (the balancer's, or one Tomcat's: {@code http://127.0.0.1:port}); the cookie holds
     * for every port of 127.0.0.1, so the rounds through the balancer carry it. {@code beforeTyping} gets the session
     * id of the login page before the form is posted (a person takes seconds to type; this user does not).
     */
    void login(String origin, SessionWait beforeTyping) throws IOException, InterruptedException {
        HttpResponse<String> first = send(HttpRequest.newBuilder(URI.create(origin + "/shop/cart.jsp"))
                .timeout(Duration.ofSeconds(30)).build());
        check(first.statusCode() == 200 && first.body().contains("page=login"),
                "the protected page did not show the login page", first);
        String id = cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals("JSESSIONID"))
                .map(java.net.HttpCookie::getValue).findFirst().orElse(null);
        check(id != null, "the login page came without a session cookie", first);
        beforeTyping.await(id);
        String form = "j_username=" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "&j_password="
                + URLEncoder.encode(password, StandardCharsets.UTF_8);
        HttpResponse<String> posted = send(HttpRequest.newBuilder(URI.create(origin + "/j_security_check"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build());
        String location = posted.headers().firstValue("Location").orElse(null);
        check((posted.statusCode() == 302 || posted.statusCode() == 303) && location != null,
                "the login was not accepted", posted);
        URI next = URI.create(origin + "/").resolve(location);
        check(next.getPort() == URI.create(origin).getPort(), "redirected elsewhere: " + location, posted);
        HttpResponse<String> page = send(HttpRequest.newBuilder(next)
                .timeout(Duration.ofSeconds(30)).build());
        String problem = accept(page);
        check(problem == null, problem, page);
    }

    /**
     * One request of the cart page; null if its answer is the expected one (the user's state then advances), else
     * what was wrong, with the answer.
     */
    String next() throws InterruptedException {
        HttpResponse<String> r;
        try {
            r = send(get("/shop/cart.jsp"));
        } catch (IOException e) {
            return "request failed: " + e;
        }
        String problem = accept(r);
        if (problem == null) {
            rounds++;
        }
        return problem == null ? null : problem + " (HTTP " + r.statusCode() + ": " + r.body().trim() + ")";
    }

    private String accept(HttpResponse<String> r) {
        if (r.statusCode() != 200) {
            return "HTTP " + r.statusCode() + " instead of 200";
        }
        if (r.body().contains("page=login")) {
            return "logged out: the login page instead of the cart at count " + (count + 1);
        }
        Map<String, String> f = fields(r.body());
        if (!"cart".equals(f.get("page"))) {
            return "not the cart page";
        }
        if (!name.equals(f.get("user"))) {
            return "user " + f.get("user") + " instead of " + name;
        }
        int got = Integer.parseInt(f.get("count"));
        if (got != count + 1) {
            return "count " + got + " after " + count + (got == 1 ? " (a new session)" : "");
        }
        if (!f.get("cart").equals(f.get("count")) || !"true".equals(f.get("intact"))) {
            return "the cart has " + f.get("cart") + " items (intact=" + f.get("intact") + ") at count " + got;
        }
        count = got;
        session = f.get("session");
        tomcat = f.get("tomcat");
        return null;
    }

    private static Map<String, String> fields(String body) {
        Map<String, String> f = new HashMap<>();
        for (String part : body.trim().split(" ")) {
            String[] kv = part.split("=", 2);
            f.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        return f;
    }

    private HttpRequest get(String path) {
        return HttpRequest.newBuilder(URI.create(balancer.url(path))).timeout(Duration.ofSeconds(30)).build();
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private void check(boolean ok, String what, HttpResponse<String> r) {
        if (!ok) {
            throw new AssertionError(name + ": " + what + ": HTTP " + r.statusCode() + " " + r.headers().map() + "\n"
                    + r.body() + "\n" + balancer.log());
        }
    }

    /** What the login waits for between the login page and the posted form. */
    interface SessionWait {
        void await(String sessionId) throws InterruptedException;
    }

    int count() {
        return count;
    }

    int rounds() {
        return rounds;
    }

    String session() {
        return session;
    }

    String tomcat() {
        return tomcat;
    }
}
