package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.msm.test.net.TcpProxy;
import org.junit.jupiter.api.Test;

/**
 * A memcached node that restarted empty faster than any connect to it was refused (a supervisor's restart, a
 * container's) gets back the sessions this Tomcat had stored there, without a request. The Tomcat reaches node n1
 * through a proxy that moves at once from one memcached to another, empty one: a restart no connect saw refused.
 */
class MemcachedQuickRestartIT extends MsmIT {

    @Test
    void sessionsStoredOnANodeThatRestartedAtOnceAreStoredThereAgain() {
        try (TcpProxy n1 = TcpProxy.to(MEMCACHED.server(0).port())) {
            EmbeddedTomcat tc1 = tomcat("tc1", "memcachedNodes", "n1:127.0.0.1:" + n1.port());
            Browser user = new Browser();
            assertEquals(1, user.get(tc1.url("/counter")).count());
            awaitBackups(tc1);
            assertNotNull(MEMCACHED.server(0).get(user.sessionId()));
            assertNull(MEMCACHED.server(1).get(user.sessionId()));

            n1.retarget(MEMCACHED.server(1).port()); // n1 "restarted": another process, empty

            await("the session stored again on the restarted node", 5000,
                    () -> MEMCACHED.server(1).get(user.sessionId()) != null);
            assertEquals(2, user.get(tc1.url("/counter")).count());
        }
    }
}
