package io.msm.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.msm.tomcat.MemcachedSessionManager;
import io.msm.tomcat.MsmMeterBinder;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.context.ApplicationListener;

/**
 * Binds msm's meters ({@link MsmMeterBinder}) of every manager the starter made to the application's
 * {@link MeterRegistry} once the application started (the embedded Tomcat, and so its context, exist then), as
 * Spring Boot binds Tomcat's own meters.
 */
public final class MsmMeters implements ApplicationListener<ApplicationStartedEvent> {

    private final MsmSessionManagers managers;
    private final ObjectProvider<MeterRegistry> registry;
    private final Set<MemcachedSessionManager> bound = Collections.newSetFromMap(new IdentityHashMap<>());

    public MsmMeters(MsmSessionManagers managers, ObjectProvider<MeterRegistry> registry) {
        this.managers = managers;
        this.registry = registry;
    }

    @Override
    public synchronized void onApplicationEvent(ApplicationStartedEvent event) {
        MeterRegistry r = registry.getIfAvailable();
        if (r == null) {
            return;
        }
        for (MemcachedSessionManager m : managers.managers()) {
            if (bound.add(m)) {
                new MsmMeterBinder(m).bindTo(r);
            }
        }
    }
}
