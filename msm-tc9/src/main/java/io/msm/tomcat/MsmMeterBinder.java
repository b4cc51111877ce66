package io.msm.tomcat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.msm.engine.SessionEngine;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.stats.MsmStatistics.Timer;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.apache.catalina.Context;

/**
 * msm's statistics (the values of the Manager's JMX attributes) as Micrometer meters, tagged with the context:
 * {@code new MsmMeterBinder(manager).bindTo(registry)} once the manager's context exists (Spring Boot: msm's starter
 * does it). Meters read the manager when they are published, so they follow its restarts; while it is stopped they
 * read 0.
 *
 * <ul>
 *   <li>a function counter per {@link Counter}: {@code msm.backups}, {@code msm.backup.failures},
 *       {@code msm.lock.waits}, ... (the counter's name in lower case, dots for underscores), but
 *       {@code msm.session.creations} for {@code SESSIONS_CREATED} (Prometheus reserves the suffix
 *       {@code _created}: {@code msm.sessions.created} would be published as {@code msm_sessions_total});</li>
 *   <li>a function timer per {@link Timer}: {@code msm.backup}, {@code msm.serialization}, {@code msm.load},
 *       {@code msm.lock.wait} (count and total time);</li>
 *   <li>gauges {@code msm.nodes.available}, {@code msm.nodes.configured} (failover nodes included),
 *       {@code msm.sessions.unsaved} and {@code msm.deletes.pending}.</li>
 * </ul>
 */
public final class MsmMeterBinder implements MeterBinder {

    private final MemcachedSessionManager manager;
    private final Iterable<Tag> tags;

    /** Meters of {@code manager}, tagged {@code context=<its context's path, "/" for the root>}. */
    public MsmMeterBinder(MemcachedSessionManager manager) {
        this(manager, Tags.empty());
    }

    /** Meters of {@code manager}, tagged with the context and {@code extraTags}. */
    public MsmMeterBinder(MemcachedSessionManager manager, Iterable<Tag> extraTags) {
        this.manager = manager;
        this.tags = Tags.of(extraTags).and("context", contextOf(manager));
    }

    static String contextOf(MemcachedSessionManager manager) {
        Context c = manager.getContext();
        String path = c == null ? "" : c.getPath();
        return path == null || path.isEmpty() ? "/" : path;
    }

    /** {@code LOCK_WAITS} -> {@code msm.lock.waits}. */
    static String meterName(Enum<?> statistic) {
        if (statistic == Counter.SESSIONS_CREATED) {
            return "msm.session.creations";
        }
        return "msm." + statistic.name().toLowerCase(Locale.ROOT).replace('_', '.');
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (Counter c : Counter.values()) {
            FunctionCounter.builder(meterName(c), manager, m -> value(m, s -> s.get(c)))
                    .description(description(c))
                    .tags(tags)
                    .register(registry);
        }
        for (Timer t : Timer.values()) {
            FunctionTimer.builder(meterName(t), manager, m -> (long) value(m, s -> s.count(t)),
                            m -> value(m, s -> s.totalNanos(t)), TimeUnit.NANOSECONDS)
                    .description(description(t))
                    .tags(tags)
                    .register(registry);
        }
        gauge(registry, "msm.nodes.available", "memcached nodes msm can reach now",
                m -> m.engine() == null ? 0 : m.engine().availableNodes().size());
        gauge(registry, "msm.nodes.configured", "memcached nodes configured (memcachedNodes, failover nodes included)",
                m -> m.engine() == null ? 0 : m.engine().nodes().size());
        gauge(registry, "msm.sessions.unsaved",
                "sessions whose latest state is not in memcached yet because their node was unavailable",
                MemcachedSessionManager::getMsmUnsavedSessions);
        gauge(registry, "msm.deletes.pending", "keys of ended or moved sessions waiting for their node",
                MemcachedSessionManager::getMsmPendingDeletes);
    }

    private void gauge(MeterRegistry registry, String name, String description,
            ToDoubleFunction<MemcachedSessionManager> value) {
        Gauge.builder(name, manager, value).description(description).tags(tags).register(registry);
    }

    private static double value(MemcachedSessionManager m, ToDoubleFunction<MsmStatistics> read) {
        SessionEngine e = m.engine();
        return e == null ? 0 : read.applyAsDouble(e.statistics());
    }

    private static String description(Counter c) {
        return "msm: " + c.name().toLowerCase(Locale.ROOT).replace('_', ' ') + " (JMX: the Manager's msm statistics)";
    }

    private static String description(Timer t) {
        switch (t) {
            case BACKUP:
                return "msm: writing one session to memcached, serialization included";
            case SERIALIZATION:
                return "msm: serializing one session's attributes";
            case LOAD:
                return "msm: reading one session from memcached, deserialization included";
            default:
                return "msm: waiting for a session lock another owner held";
        }
    }
}
