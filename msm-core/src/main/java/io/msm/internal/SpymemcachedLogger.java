package io.msm.internal;

import net.spy.memcached.compat.log.AbstractLogger;
import net.spy.memcached.compat.log.Level;

/**
 * spymemcached's logging, through {@link System.Logger} (java.util.logging in Tomcat unless configured otherwise).
 * Its INFO lines are connection chatter ("Setting retryQueueSize", "Added ... to connect queue", "Shut down memcached
 * client"), and msm logs only start and stop at INFO: they are logged at DEBUG. Its warnings and errors stay.
 * Public only because spymemcached instantiates it by name.
 */
public final class SpymemcachedLogger extends AbstractLogger {
    private final System.Logger log;

    public SpymemcachedLogger(String name) {
        super(name);
        this.log = System.getLogger(name);
    }

    @Override
    public boolean isTraceEnabled() {
        return log.isLoggable(System.Logger.Level.TRACE);
    }

    @Override
    public boolean isDebugEnabled() {
        return log.isLoggable(System.Logger.Level.DEBUG);
    }

    @Override
    public boolean isInfoEnabled() {
        return isDebugEnabled(); // its INFO is our DEBUG
    }

    @Override
    public void log(Level level, Object message, Throwable e) {
        System.Logger.Level mapped = map(level);
        if (log.isLoggable(mapped)) {
            log.log(mapped, String.valueOf(message), e);
        }
    }

    static System.Logger.Level map(Level level) {
        switch (level) {
            case TRACE:
                return System.Logger.Level.TRACE;
            case DEBUG:
            case INFO:
                return System.Logger.Level.DEBUG;
            case WARN:
                return System.Logger.Level.WARNING;
            default:
                return System.Logger.Level.ERROR;
        }
    }
}
