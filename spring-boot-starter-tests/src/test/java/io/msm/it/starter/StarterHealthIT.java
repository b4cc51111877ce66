package io.msm.it.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.http.Browser;
import io.msm.test.memcached.MemcachedExtension;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code msm} health contributor as README documents it: UP with every node; still UP, the dead node named,
 * when one node dies (sessions move to the other); DEGRADED when none is left, which Spring Boot leaves out of the
 * application's status (still UP, HTTP 200: every instance shares the outage, taking them all out of the balancer
 * would be worse); UP again once the nodes are back.
 */
class StarterHealthIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    @Test
    void healthFollowsTheNodesAndNeverTakesTheInstanceOut() {
        try (Instance i = Instance.start("tc1", "msm.memcached-nodes=" + MEMCACHED.nodesAttribute("n1", "n2"),
                "management.endpoint.health.show-details=always", "msm.operation-timeout=300ms")) {
            String health = msmHealth(i);
            assertEquals("UP", status(health), health);
            assertTrue(health.contains("\"n1\":{\"address\":\"" + MEMCACHED.server(0).host() + ":"
                    + MEMCACHED.server(0).port() + "\",\"available\":true}"), health);
            assertTrue(health.contains("\"replicating\":true"), health);

            MEMCACHED.server(0).kill();
            awaitHealth(i, "\"n1\":\\{\"address\":\"[^\"]+\",\"available\":false}");
            health = msmHealth(i);
            assertEquals("UP", status(health), "one node left: " + health);
            assertTrue(health.contains("\"replicating\":true"), health);

            MEMCACHED.server(1).kill();
            awaitStatus(i, "DEGRADED");
            assertTrue(msmHealth(i).contains("\"replicating\":false"), msmHealth(i));
            HttpResponse<String> all = new Browser().get(i.url("/actuator/health"));
            assertEquals(200, all.statusCode(), all.body());
            assertEquals("UP", status(all.body()), "the application stays UP: " + all.body());
            Browser user = new Browser();
            user.get(i.url("/count"));
            assertEquals("count=2", user.get(i.url("/count")).body(), "msm still serves sessions");

            MEMCACHED.server(0).start();
            MEMCACHED.server(1).start();
            awaitHealth(i, "\"n1\":\\{[^}]*\"available\":true.*\"n2\":\\{[^}]*\"available\":true");
            assertEquals("UP", status(msmHealth(i)), msmHealth(i));
        }
    }

    /** The status of the JSON object itself, not of a component in it (Boot 3 writes it first, Boot 4 last). */
    static String status(String json) {
        int depth = 0;
        for (int k = 0; k < json.length(); k++) {
            char c = json.charAt(k);
            if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
            } else if (c == '"' && depth == 1 && json.startsWith("\"status\":\"", k)) {
                int from = k + "\"status\":\"".length();
                return json.substring(from, json.indexOf('"', from));
            } else if (c == '"') {
                k = json.indexOf('"', k + 1); // skip the string (no escaped quotes in these documents)
            }
        }
        throw new AssertionError("no status in " + json);
    }

    private static void awaitStatus(Instance i, String status) {
        String[] last = {""};
        try {
            Instance.await("msm's health " + status, 15_000, () -> status.equals(status(last[0] = msmHealth(i))));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last: " + last[0], e);
        }
    }

    private static String msmHealth(Instance i) {
        HttpResponse<String> r = new Browser().get(i.url("/actuator/health/msm"));
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static void awaitHealth(Instance i, String regex) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        String[] last = {""};
        try {
            Instance.await("health matching " + regex, 15_000, () -> p.matcher(last[0] = msmHealth(i)).find());
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last: " + last[0], e);
        }
    }
}
