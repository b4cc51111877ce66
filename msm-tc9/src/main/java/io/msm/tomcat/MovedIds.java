package io.msm.tomcat;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Former ids of sessions msm moved (Tomcat or node failover) to their current id, so that requests sent with the old
 * cookie before the client got the new one still reach the session. That is what they are for: requests already on
 * their way, so an alias lives {@link #KEEP_MILLIS} and at most {@link #MAX} are kept (the oldest go first). Without
 * the bound a non-sticky Tomcat would keep one for every move it ever made: its sessions leave memory without ending.
 */
final class MovedIds {
    static final int MAX = 10_000;
    static final long KEEP_MILLIS = 60_000;

    private static final class Alias {
        final String current;
        final long until;

        Alias(String current, long until) {
            this.current = current;
            this.until = until;
        }
    }

    private final LinkedHashMap<String, Alias> aliases = new LinkedHashMap<>();
    private final LongSupplier clock;

    MovedIds(LongSupplier clock) {
        this.clock = clock;
    }

    synchronized void put(String former, String current) {
        long now = clock.getAsLong();
        aliases.remove(former); // re-inserted last: the order is the order of expiry
        aliases.put(former, new Alias(current, now + KEEP_MILLIS));
        Iterator<Map.Entry<String, Alias>> it = aliases.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Alias> eldest = it.next();
            if (aliases.size() <= MAX && eldest.getValue().until > now) {
                break;
            }
            it.remove();
        }
    }

    /** The current id of a session that had {@code former}, or {@code null}. */
    synchronized String get(String former) {
        Alias a = aliases.get(former);
        if (a == null) {
            return null;
        }
        if (a.until <= clock.getAsLong()) {
            aliases.remove(former);
            return null;
        }
        return a.current;
    }

    synchronized void remove(String former) {
        aliases.remove(former);
    }

    /** Removes the alias only while it still leads to {@code current}. */
    synchronized void remove(String former, String current) {
        Alias a = aliases.get(former);
        if (a != null && a.current.equals(current)) {
            aliases.remove(former);
        }
    }

    synchronized void clear() {
        aliases.clear();
    }

    synchronized int size() {
        return aliases.size();
    }
}
