package io.msm.benchmarks.e2e;

import io.msm.test.memcached.MemcachedServer;
import java.util.List;
import java.util.Map;

/**
 * What memcached's own {@code stats} counted, summed over a row's servers, read once per server (each read is a
 * fresh connection to the server's plain-text port): the commands, the CPU time memcached used, and the connections
 * it accepted. Two readings around a measurement give a request's memcached calls and memcached CPU, and the
 * connections the Tomcat opened meanwhile (with TLS: its full or resumed handshakes).
 */
final class MemcachedCounters {
    /** gets, sets (incl. add/cas), touches, deletes. */
    private static final List<String> CALLS = List.of("cmd_get", "cmd_set", "cmd_touch", "delete_hits",
            "delete_misses");

    final long calls;
    final long cpuMicros;
    final long connections;
    private final int servers;

    private MemcachedCounters(long calls, long cpuMicros, long connections, int servers) {
        this.calls = calls;
        this.cpuMicros = cpuMicros;
        this.connections = connections;
        this.servers = servers;
    }

    static MemcachedCounters read(List<MemcachedServer> servers) {
        long calls = 0;
        long cpu = 0;
        long connections = 0;
        for (MemcachedServer s : servers) {
            Map<String, String> stats = s.stats();
            for (String k : CALLS) {
                calls += Long.parseLong(stats.getOrDefault(k, "0"));
            }
            // rusage_user and rusage_system are seconds with six decimals
            cpu += Math.round(1e6 * (Double.parseDouble(stats.getOrDefault("rusage_user", "0"))
                    + Double.parseDouble(stats.getOrDefault("rusage_system", "0"))));
            connections += Long.parseLong(stats.getOrDefault("total_connections", "0"));
        }
        return new MemcachedCounters(calls, cpu, connections, servers.size());
    }

    /**
     * The connections accepted since {@code before} by other clients than these readings: a later reading counts
     * its own connection to each server.
     */
    long connectionsSince(MemcachedCounters before) {
        return connections - before.connections - servers;
    }
}
