package io.msm.it.springboot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.tomcat.MemcachedSessionManager;
import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.apache.catalina.Context;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.embedded.tomcat.TomcatWebServer;
import org.springframework.boot.web.servlet.context.ServletWebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The same Spring Boot 3 application started twice (two embedded Tomcat 10.1 instances, as behind a round-robin
 * balancer) with two real memcached nodes: a session created on one instance is served by the other, both ways,
 * and survives the stop of the instance that created it.
 */
class SpringBootSessionsIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private ConfigurableApplicationContext first;
    private ConfigurableApplicationContext second;
    private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    private final HttpClient client = HttpClient.newBuilder()
            .cookieHandler(cookies)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    @Test
    void sessionCreatedOnOneInstanceIsServedByTheOther() throws Exception {
        first = start();
        second = start();
        assertInstanceOf(MemcachedSessionManager.class, context(first).getManager(), "msm manages the sessions");
        assertEquals("10.1", org.apache.catalina.util.ServerInfo.getServerNumber().substring(0, 4));

        // Spring MVC flushes a @ResponseBody response inside the servlet: msm stores the change before that flush, so
        // the next request, sent as soon as the response is in, finds it on the other instance
        for (int i = 1; i <= 10; i++) {
            assertEquals("count=" + i, get(i % 2 == 1 ? first : second), "request " + i);
        }

        first.close(); // an instance goes away: nothing of the session was only in its memory
        first = null;
        assertEquals("count=11", get(second));
        assertNotNull(MEMCACHED.servers().stream().filter(s -> !s.keys().isEmpty()).findAny().orElse(null),
                "the session is in memcached");
    }

    private static ConfigurableApplicationContext start() {
        return new SpringApplicationBuilder(CounterApplication.class)
                .properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
                        "logging.level.root=WARN", "logging.level.io.msm=INFO",
                        "msm.memcached-nodes=" + MEMCACHED.nodesAttribute("n1", "n2"))
                .run();
    }

    private String get(ConfigurableApplicationContext app) throws IOException, InterruptedException {
        int port = ((ServletWebServerApplicationContext) app).getWebServer().getPort();
        HttpResponse<String> response = client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/counter"))
                        .timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response::body);
        return response.body();
    }

    private static Context context(ConfigurableApplicationContext app) {
        TomcatWebServer server = (TomcatWebServer) ((ServletWebServerApplicationContext) app).getWebServer();
        return (Context) server.getTomcat().getHost().findChildren()[0];
    }

    @AfterEach
    void close() {
        for (ConfigurableApplicationContext app : new ConfigurableApplicationContext[] {first, second}) {
            if (app != null) {
                app.close();
            }
        }
    }
}
