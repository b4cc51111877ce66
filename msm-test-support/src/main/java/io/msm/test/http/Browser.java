package io.msm.test.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.HttpCookie;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;

/**
 * One browser: a real HTTP client with a cookie jar ({@link CookieManager}). Cookies of {@code 127.0.0.1} are sent
 * to every port, so requests to the two instances behave as requests through one balancer. Redirects are not
 * followed: the tests look at them. (The Spring Boot tests use it; integration-tests has its own, which reads its
 * test webapp's pages.)
 */
public final class Browser {
    private static final URI HOST = URI.create("http://127.0.0.1/");

    private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    private final HttpClient http = HttpClient.newBuilder()
            .cookieHandler(cookies)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    /** A browser that has only this session cookie, as a replayed (stolen, fixed, old) cookie. */
    public static Browser withSessionCookie(String sessionId) {
        Browser b = new Browser();
        HttpCookie cookie = new HttpCookie("JSESSIONID", sessionId);
        cookie.setPath("/");
        cookie.setVersion(0);
        b.cookies.getCookieStore().add(HOST, cookie);
        return b;
    }

    public HttpResponse<String> get(String url) {
        return send(request(url).GET().build());
    }

    /** Sends a GET without waiting for its response. */
    public CompletableFuture<HttpResponse<String>> getAsync(String url) {
        return http.sendAsync(request(url).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> post(String url, Map<String, String> form) {
        StringJoiner body = new StringJoiner("&");
        form.forEach((k, v) -> body.add(URLEncoder.encode(k, StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return send(request(url).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build());
    }

    /** The session cookie the browser holds now, or null. */
    public String sessionId() {
        for (HttpCookie c : cookies.getCookieStore().get(HOST)) {
            if (c.getName().equals("JSESSIONID")) {
                return c.getValue();
            }
        }
        return null;
    }

    private static HttpRequest.Builder request(String url) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15));
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
