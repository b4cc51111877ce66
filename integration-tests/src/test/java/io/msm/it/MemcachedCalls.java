package io.msm.it;

import io.msm.test.memcached.MemcachedServer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Commands memcached itself counted, summed over servers: the ground truth of how many calls msm made. */
final class MemcachedCalls {
    static final List<String> COMMANDS = List.of("cmd_get", "cmd_set", "cmd_touch", "delete_hits", "delete_misses",
            "incr_hits", "incr_misses", "decr_hits", "decr_misses", "cas_hits", "cas_misses", "cas_badval");

    final Map<String, Long> counts;

    private MemcachedCalls(Map<String, Long> counts) {
        this.counts = counts;
    }

    /**
     * The counts now. {@code cmd_get} leaves out the gets of keys {@code msm:...}: sticky msm reads its takeover
     * notices there a few times a second in the background, whatever the requests do.
     */
    static MemcachedCalls of(List<MemcachedServer> servers) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String c : COMMANDS) {
            long sum = 0;
            for (MemcachedServer s : servers) {
                if (s.isRunning()) {
                    sum += c.equals("cmd_get") ? requestGets(s) : s.stat(c);
                }
            }
            m.put(c, sum);
        }
        return new MemcachedCalls(m);
    }

    /** {@code cmd_get} less the gets of keys {@code msm:...}, read with no background get in between. */
    private static long requestGets(MemcachedServer s) {
        while (true) {
            long background = s.prefixGets("msm");
            long all = s.stat("cmd_get");
            if (s.prefixGets("msm") == background) {
                return all - background;
            }
        }
    }

    /** What happened since {@code before}, non-zero entries only. */
    Map<String, Long> since(MemcachedCalls before) {
        Map<String, Long> d = new LinkedHashMap<>();
        counts.forEach((k, v) -> {
            long delta = v - before.counts.get(k);
            if (delta != 0) {
                d.put(k, delta);
            }
        });
        return d;
    }
}
