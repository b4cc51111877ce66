package io.msm.store;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.Map;

/**
 * Which memcached process answers on a connection: its {@code pid} and start time (its {@code time} less its
 * {@code uptime}, which it counts from the same clock tick: constant for a process). A container's memcached is pid 1
 * every time: its start time tells. {@link NodeWatch} compares them after memcached closed a connection, to tell a
 * restart (however quick, empty) from an idle timeout.
 */
final class MemcachedProcess {
    private MemcachedProcess() {
    }

    /**
     * Asks {@code stats} on {@code c} by {@code deadline}.
     *
     * @return the process (equal strings: the same one), or {@code null} if memcached did not say in time or said
     *     something unusable; the connection is then no longer usable either: the caller closes it
     * @throws StatsUnanswered the connection closed before any answer
     */
    static String ask(TextConnection c, long deadline) throws IOException {
        try {
            DirectConnections.ready(c, deadline);
            return of(TextCommands.stats(c, ""));
        } catch (SocketTimeoutException | ProtocolException | RuntimeException e) {
            c.close(); // no answer in time, or not one to use: the process not known
            return null;
        } catch (IOException e) {
            throw new StatsUnanswered(e); // closed at once: a port forwarder whose memcached is gone, or no stats
        }
    }

    /** The process named by a {@code stats} answer, or {@code null} if it does not say. */
    static String of(Map<String, String> stats) {
        String pid = stats.get("pid");
        String time = stats.get("time");
        String uptime = stats.get("uptime");
        if (pid == null || time == null || uptime == null) {
            return null;
        }
        return pid.trim() + " " + (Long.parseLong(time.trim()) - Long.parseLong(uptime.trim()));
    }

    /** Connected, but the connection closed before any answer to {@code stats}. */
    static final class StatsUnanswered extends IOException {
        private static final long serialVersionUID = 1L;

        StatsUnanswered(IOException cause) {
            super("closed before answering stats: " + cause, cause);
        }
    }
}
