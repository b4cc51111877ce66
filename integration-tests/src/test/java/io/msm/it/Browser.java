package io.msm.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A real HTTP client with a cookie jar, like one browser tab. Cookies are kept by name for host 127.0.0.1 whatever
 * the port, so requests to two Tomcats on two ports behave like requests through one balancer.
 */
final class Browser {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, String> cookies = new LinkedHashMap<>();

    /** One response. */
    static final class Page {
        final int status;
        final String body;
        final HttpResponse<String> response;
        final long millis;

        Page(HttpResponse<String> response, long millis) {
            this.status = response.statusCode();
            this.body = response.body();
            this.response = response;
            this.millis = millis;
        }

        /** The value after {@code name=} in the body, e.g. {@code count}. */
        String field(String name) {
            for (String part : body.split(" ")) {
                if (part.startsWith(name + "=")) {
                    return part.substring(name.length() + 1);
                }
            }
            throw new AssertionError("no " + name + " in: " + body);
        }

        int count() {
            return Integer.parseInt(field("count"));
        }

        /** The value of a cookie this response set, or null. */
        String setCookie(String name) {
            for (String h : response.headers().allValues("Set-Cookie")) {
                String pair = h.split(";", 2)[0];
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                    return pair.substring(eq + 1).trim();
                }
            }
            return null;
        }

        String location() {
            return response.headers().firstValue("Location").orElse(null);
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    Page get(String url, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b);
    }

    Page post(String url, Map<String, String> form) {
        StringJoiner body = new StringJoiner("&");
        form.forEach((k, v) -> body.add(URLEncoder.encode(k, StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
    }

    private Page send(HttpRequest.Builder b) {
        b.timeout(Duration.ofSeconds(15));
        synchronized (cookies) {
            if (!cookies.isEmpty()) {
                StringJoiner header = new StringJoiner("; ");
                cookies.forEach((k, v) -> header.add(k + "=" + v));
                b.header("Cookie", header.toString());
            }
        }
        long start = System.nanoTime();
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        List<String> setCookies = r.headers().allValues("Set-Cookie");
        synchronized (cookies) {
            for (String h : setCookies) {
                String pair = h.split(";", 2)[0];
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    String name = pair.substring(0, eq).trim();
                    String value = pair.substring(eq + 1).trim();
                    if (h.toLowerCase().contains("max-age=0")) {
                        cookies.remove(name);
                    } else {
                        cookies.put(name, value);
                    }
                }
            }
        }
        return new Page(r, millis);
    }

    String cookie(String name) {
        synchronized (cookies) {
            return cookies.get(name);
        }
    }

    String sessionId() {
        return cookie("JSESSIONID");
    }

    void setCookie(String name, String value) {
        synchronized (cookies) {
            cookies.put(name, value);
        }
    }
}
