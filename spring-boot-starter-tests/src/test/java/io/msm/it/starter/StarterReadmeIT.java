package io.msm.it.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.http.Browser;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The README's Spring Boot properties, read from README.md when the test runs (its hosts mc1 and mc2 replaced by
 * the test's memcached nodes), start two instances that share a session.
 */
class StarterReadmeIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private static final Pattern BLOCK =
            Pattern.compile("<!-- spring-boot-properties -->\\s*\\n```properties\\n(.*?)```", Pattern.DOTALL);

    static List<String> readmeProperties() throws IOException {
        String readme = new String(Files.readAllBytes(Paths.get("..", "README.md")), StandardCharsets.UTF_8);
        Matcher m = BLOCK.matcher(readme);
        assertTrue(m.find(), "README.md has the Spring Boot properties block");
        List<String> properties = new ArrayList<>();
        for (String line : m.group(1).split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                properties.add(line.replace("mc1:11211", address(MEMCACHED.server(0)))
                        .replace("mc2:11211", address(MEMCACHED.server(1))));
            }
        }
        return properties;
    }

    private static String address(MemcachedServer s) {
        return s.host() + ":" + s.port();
    }

    @Test
    void theReadmesPropertiesPutMsmOnTwoInstances() throws IOException {
        List<String> properties = readmeProperties();
        assertTrue(properties.stream().anyMatch(p -> p.startsWith("msm.memcached-nodes=")), properties.toString());
        try (Instance a = Instance.start("a", properties.toArray(new String[0]));
                Instance b = Instance.start("b", properties.toArray(new String[0]))) {
            assertEquals(500, a.manager().engine().config().operationTimeoutMillis(), "msm.operation-timeout=500ms");
            Browser user = new Browser();
            assertEquals("count=1", user.get(a.url("/count")).body());
            a.awaitBackups();
            assertEquals("count=2", user.get(b.url("/count")).body(), "the other instance has the session");
        }
    }
}
