package io.msm.internal;

import net.spy.memcached.compat.log.AbstractLogger;
import net.spy.memcached.compat.log.Level;

/**
 * spymemcached's logging, through {@link System.Logger} (java.util.logging in Tomcat unless configured otherwise).
 * Its INFO lines are connection chatter ("Setting retryQueueSize", "Added ... to connect queue", "Shut down memcached
 * client"), and msm logs only start and stop at INFO: they are logged at DEBUG. Its warnings and errors stay. The
 * memcached keys its lines name are hashed as msm's own lines show them (a session key holds the session id).
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
            log.log(mapped, withoutKeys(String.valueOf(message)), e);
        }
    }

    /** An operation's key in spymemcached's lines ({@code Key: k}, {@code Keys: k}, a touch's {@code key: k}). */
    private static final java.util.regex.Pattern KEY = java.util.regex.Pattern.compile("(?i)(\\bkeys?: )(\\S+)");

    /**
     * The message with each memcached key shown as {@link LogIds#key} shows it: spymemcached names operations by
     * their toString, which holds the key, and a session's key holds its id (a bearer token).
     */
    static String withoutKeys(String message) {
        java.util.regex.Matcher m = KEY.matcher(message);
        if (!m.find()) {
            return message;
        }
        StringBuilder sb = new StringBuilder(message.length());
        int last = 0;
        do {
            String key = m.group(2);
            String tail = key.endsWith("Exp:") ? "Exp:" : ""; // a get's keys run into its "Exp:"
            sb.append(message, last, m.start(2)).append(LogIds.key(key.substring(0, key.length() - tail.length())))
                    .append(tail);
            last = m.end();
        } while (m.find());
        return sb.append(message, last, message.length()).toString();
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
