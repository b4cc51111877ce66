package io.msm.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * SIGSTOP and SIGCONT for another process, waited for until every one of its threads is stopped, or none is.
 * {@code kill} returns once the signal is queued: one thread is woken to start the group stop and the others run on
 * until it tells them. A JVM or memcached (worker threads) can still answer for milliseconds after {@code kill -STOP}
 * returned: 145 times in 300 on an idle 2-core machine, 12.5 ms at most, and on CI a "paused" Tomcat answered the
 * request nginx sent it next.
 */
public final class Signals {
    private static final long POLL_MILLIS = 2;
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);

    private Signals() {
    }

    /**
     * {@code kill -STOP pid}, then waits at most {@code max} until each of its threads is stopped; if they are not, it
     * is continued again before this fails, so no test leaves a frozen process behind.
     */
    public static void stop(long pid, Duration max) {
        send(pid, "STOP");
        try {
            await(pid, true, max);
        } catch (RuntimeException e) {
            try {
                send(pid, "CONT");
            } catch (RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /** {@code kill -CONT pid}, then waits at most {@code max} until none of its threads is stopped. */
    public static void cont(long pid, Duration max) {
        send(pid, "CONT");
        await(pid, false, max);
    }

    /** Runs {@code kill -<name> pid}; fails with its output if it fails. */
    public static void send(long pid, String name) {
        List<String> command = List.of("kill", "-" + name, String.valueOf(pid));
        try {
            Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
            kill.getOutputStream().close();
            if (!kill.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                kill.destroyForcibly();
                throw new IllegalStateException("`" + String.join(" ", command) + "` did not finish");
            }
            if (kill.exitValue() != 0) {
                String output;
                try (InputStream in = kill.getInputStream()) {
                    output = new String(in.readNBytes(4096), StandardCharsets.UTF_8).trim();
                }
                throw new IllegalStateException("`" + String.join(" ", command) + "` failed with exit code "
                        + kill.exitValue() + ": " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run `" + String.join(" ", command) + "`", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending SIG" + name + " to " + pid, e);
        }
    }

    /**
     * The state letter of each thread of process {@code pid} ({@code /proc/<pid>/task/<tid>/stat}); {@code null}
     * where there is no {@code /proc} to ask, an empty string once the process is gone.
     */
    public static String threadStates(long pid) {
        Path tasks = Path.of("/proc", String.valueOf(pid), "task");
        if (!Files.isDirectory(Path.of("/proc", "self", "task"))) {
            return null;
        }
        StringBuilder states = new StringBuilder();
        try (DirectoryStream<Path> threads = Files.newDirectoryStream(tasks)) {
            for (Path t : threads) {
                try {
                    String stat = Files.readString(t.resolve("stat"), StandardCharsets.UTF_8);
                    // "tid (comm) S ...": comm may hold spaces and parentheses; the state follows the last ')'
                    int close = stat.lastIndexOf(')');
                    if (close >= 0 && close + 2 < stat.length()) {
                        states.append(stat.charAt(close + 2));
                    }
                } catch (IOException ended) {
                    // that thread ended meanwhile
                }
            }
        } catch (IOException | java.nio.file.DirectoryIteratorException gone) {
            return ""; // gone, or reaped while its threads were listed
        }
        return states.toString();
    }

    private static void await(long pid, boolean stopped, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (true) {
            String states = threadStates(pid);
            if (states == null || states.isEmpty() || allMatch(states, stopped)) {
                return; // nothing to ask, or the process is gone: callers see that themselves
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("process " + pid + ": its threads did not all become "
                        + (stopped ? "stopped" : "continued") + " within " + max.toMillis() + " ms (states "
                        + states + ")");
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for process " + pid, e);
            }
        }
    }

    /**
     * Every thread stopped ('T', or 't' when traced), or none stopped by a signal ('T': a traced thread stays 't'
     * until its tracer lets it go), as {@code stopped} asks; ending threads ('Z', 'X') count either way.
     */
    private static boolean allMatch(String states, boolean stopped) {
        for (int i = 0; i < states.length(); i++) {
            char c = states.charAt(i);
            if (c == 'Z' || c == 'X') {
                continue;
            }
            boolean isStopped = stopped ? c == 'T' || c == 't' : c == 'T';
            if (isStopped != stopped) {
                return false;
            }
        }
        return true;
    }
}
