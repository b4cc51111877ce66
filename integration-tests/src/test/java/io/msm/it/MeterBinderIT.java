package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.msm.tomcat.MemcachedSessionManager;
import io.msm.tomcat.MsmMeterBinder;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * msm's Micrometer meters without Spring Boot, as an embedded-Tomcat application binds them: the values are the
 * Manager's JMX statistics, tagged with the context, and they follow a node that dies.
 */
class MeterBinderIT extends MsmIT {

    @Test
    void meterBinderPublishesTheJmxStatisticsTaggedWithTheContext() {
        EmbeddedTomcat tc = tomcat("tc1", "sessionBackupAsync", "false");
        MemcachedSessionManager m = tc.manager();
        MeterRegistry registry = new SimpleMeterRegistry();
        new MsmMeterBinder(m).bindTo(registry);
        Browser b = new Browser();
        for (int i = 1; i <= 3; i++) {
            assertEquals(i, b.get(tc.url("/counter")).count());
        }
        assertEquals(1.0, registry.get("msm.session.creations").tag("context", "/").functionCounter().count());
        assertEquals(m.getMsmSessionsCreated(), registry.get("msm.session.creations").functionCounter().count());
        assertEquals(m.getMsmBackups(), registry.get("msm.backups").functionCounter().count());
        assertTrue(m.getMsmBackups() >= 3, "each request stored its change: " + m.getMsmBackups());
        FunctionTimer backup = registry.get("msm.backup").functionTimer();
        assertEquals(m.getMsmBackupMeanMillis(), backup.mean(TimeUnit.MILLISECONDS), 1e-6);
        assertEquals(2.0, registry.get("msm.nodes.configured").gauge().value());
        assertEquals(2.0, registry.get("msm.nodes.available").gauge().value());

        server(nodeOf(b.sessionId())).kill();
        await("msm to notice the dead node", 5000, () -> registry.get("msm.nodes.available").gauge().value() == 1.0);
        assertEquals(String.valueOf(m.getMsmAvailableNodes().split(",").length),
                String.valueOf((int) registry.get("msm.nodes.available").gauge().value()));
    }
}
