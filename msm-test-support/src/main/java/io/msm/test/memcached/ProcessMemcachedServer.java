package io.msm.test.memcached;

import io.msm.test.Signals;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A memcached server run as a local child process. Signals: {@link #kill()} is {@link Process#destroyForcibly()},
 * which is SIGKILL on Linux and macOS; {@link #stop()} is {@link Process#destroy()} (SIGTERM); {@link #pause()}
 * and {@link #resume()} run {@code kill -STOP} / {@code kill -CONT}. The output of each server goes to
 * {@code memcached-<port>.log} in the log directory, one header line per start. A TLS server is probed and queried
 * on its plain-text port; both of its ports are kept across restarts.
 */
final class ProcessMemcachedServer extends AbstractMemcachedServer {

    private static final int TAIL_BYTES = 2_000;
    private static final Duration STATE_CHANGE_TIMEOUT = Duration.ofSeconds(2);

    private final Path binary;
    private final Path logDir;

    /** The child we started; {@code null} before the first start. */
    private Process process;
    /**
     * The memcached process itself: the child, or, when the configured binary is a wrapper script that does not
     * {@code exec}, the descendant that answered the readiness probe.
     */
    private ProcessHandle server;
    private boolean paused;

    ProcessMemcachedServer(int index, Path binary, List<String> extraArgs, Path logDir) {
        this(index, binary, extraArgs, null, logDir);
    }

    ProcessMemcachedServer(int index, Path binary, List<String> extraArgs, MemcachedTls tls, Path logDir) {
        this(index, HOST, binary, extraArgs, tls, logDir);
    }

    /** A server listening on {@code host}, a loopback address. */
    ProcessMemcachedServer(int index, String host, Path binary, List<String> extraArgs, MemcachedTls tls,
            Path logDir) {
        super(index, host, extraArgs, tls);
        this.binary = binary;
        this.logDir = logDir;
    }

    @Override
    synchronized String startOnFreePort() {
        if (port >= 0) {
            throw new IllegalStateException(this + " was already started once");
        }
        StartFailure last = null;
        int attempts = 0;
        while (attempts < PORT_ATTEMPTS) {
            attempts++;
            int[] ports = freePorts(List.of(host), tls == null ? 1 : 2);
            try {
                return startOnPorts(ports[0], tls == null ? -1 : ports[1]);
            } catch (StartFailure failure) {
                last = failure;
                if (!failure.portProblem) {
                    break;
                }
            }
        }
        throw new IllegalStateException("Could not start memcached #" + index + " (" + attempts
                + (attempts == 1 ? " attempt" : " attempts, each on a new port") + "): " + last.getMessage());
    }

    /**
     * Starts the server for the first time on the given ports (chosen by the caller, e.g. one port shared by servers
     * on different loopback addresses).
     *
     * @param plainPort the plain-text port of a TLS server, else ignored
     * @return a one-line description for the log
     * @throws StartFailure the start failed; {@link StartFailure#portProblem} tells whether other ports might help
     */
    synchronized String startOnPorts(int port, int plainPort) throws StartFailure {
        if (this.port >= 0) {
            throw new IllegalStateException(this + " was already started once");
        }
        launch(port, tls == null ? -1 : plainPort);
        this.plainPort = tls == null ? -1 : plainPort;
        this.port = port;
        return this + " (pid " + server.pid() + ")";
    }

    @Override
    public synchronized void start() {
        if (port < 0) {
            startOnFreePort();
            return;
        }
        if (isRunning()) {
            throw new IllegalStateException(this + " is already running; kill() or stop() it first");
        }
        try {
            launch(port, plainPort);
        } catch (StartFailure failure) {
            throw new IllegalStateException("Could not restart memcached #" + index + ": " + failure.getMessage());
        }
    }

    @Override
    public synchronized void stop() {
        if (!isRunning()) {
            return;
        }
        server.destroy();
        if (paused) {
            // A stopped process only acts on SIGTERM once it is continued.
            Signals.send(server.pid(), "CONT");
        }
        if (!awaitExit(EXIT_TIMEOUT)) {
            server.destroyForcibly();
        }
        reap();
    }

    @Override
    public synchronized void kill() {
        if (!isRunning()) {
            return;
        }
        server.destroyForcibly();
        reap();
    }

    @Override
    public synchronized void pause() {
        if (!isRunning()) {
            throw new IllegalStateException(this + " is not running; cannot pause it");
        }
        if (paused) {
            return;
        }
        Signals.stop(server.pid(), STATE_CHANGE_TIMEOUT);
        paused = true;
    }

    @Override
    public synchronized void resume() {
        if (!paused) {
            return;
        }
        if (isRunning()) {
            Signals.cont(server.pid(), STATE_CHANGE_TIMEOUT);
        }
        paused = false;
    }

    @Override
    public synchronized boolean isRunning() {
        return server != null && server.isAlive();
    }

    @Override
    public synchronized boolean isPaused() {
        return paused && isRunning();
    }

    @Override
    void destroyNow() {
        ProcessHandle s;
        Process p;
        synchronized (this) {
            s = server;
            p = process;
        }
        if (s != null) {
            s.destroyForcibly();
        }
        if (p != null) {
            p.destroyForcibly();
        }
    }

    /** The command line for a port of a server without TLS; package-private for tests. */
    List<String> command(int port) {
        return command(port, -1);
    }

    /** The command line; package-private for tests. */
    List<String> command(int port, int plainPort) {
        return ProcessCommandLine.of(binary, host, extraArgs, tls, port, plainPort);
    }

    /**
     * Starts memcached on {@code port} (and {@code plainPort} for TLS) and waits until that very process answers on
     * its plain-text port.
     */
    private void launch(int port, int plainPort) throws StartFailure {
        List<String> command = command(port, plainPort);
        String commandLine = String.join(" ", command);
        Path log = logDir.resolve("memcached-" + port + ".log");
        long offset;
        try {
            Files.createDirectories(logDir);
            Files.writeString(log, "### " + Instant.now() + " " + commandLine + System.lineSeparator(),
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            offset = Files.size(log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write memcached log " + log, e);
        }
        Process started;
        try {
            started = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new StartFailure("cannot execute `" + commandLine + "`: " + e.getMessage(), false);
        }
        closeQuietly(started.getOutputStream());
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!started.isAlive()) {
                String tail = tail(log, offset);
                throw new StartFailure(failure(commandLine, "exited with code " + exitCode(started), tail, log),
                        tail.contains("Address already in use") || tail.contains("failed to listen"));
            }
            long pid = probe(host, tls == null ? port : plainPort);
            if (pid >= 0) {
                Optional<ProcessHandle> answering = ownProcess(started, pid);
                if (answering.isPresent()) {
                    process = started;
                    server = answering.get();
                    paused = false;
                    registerAlive();
                    return;
                }
                started.destroyForcibly();
                waitForQuietly(started);
                throw new StartFailure(failure(commandLine, "port " + (tls == null ? port : plainPort)
                        + " is answered by another memcached (pid "
                        + pid + "); exit code " + exitCode(started), tail(log, offset), log), true);
            }
            if (System.nanoTime() > deadline) {
                started.destroyForcibly();
                waitForQuietly(started);
                throw new StartFailure(failure(commandLine, "did not answer `version` within "
                        + START_TIMEOUT.toSeconds() + " s; killed, exit code " + exitCode(started),
                        tail(log, offset), log), true);
            }
            sleep(POLL_MILLIS);
        }
    }

    private static Optional<ProcessHandle> ownProcess(Process started, long pid) {
        if (started.pid() == pid) {
            return Optional.of(started.toHandle());
        }
        return started.descendants().filter(h -> h.pid() == pid).findFirst();
    }

    private static String failure(String commandLine, String what, String tail, Path log) {
        return "`" + commandLine + "` " + what + "; output (" + log + "):"
                + (tail.isEmpty() ? " (none)" : System.lineSeparator() + tail);
    }

    /** Waits (bounded) for the server and the child to be gone, then forgets them. */
    private void reap() {
        boolean exited = awaitExit(EXIT_TIMEOUT);
        if (exited && process != null && process.isAlive()) {
            // A wrapper script whose memcached child is gone.
            process.destroyForcibly();
            waitForQuietly(process);
        }
        paused = false;
        if (!exited || (process != null && process.isAlive())) {
            throw new IllegalStateException(this + " (pid " + server.pid() + ") did not exit within "
                    + EXIT_TIMEOUT.toSeconds() + " s");
        }
        unregisterAlive();
    }

    private boolean awaitExit(Duration timeout) {
        try {
            if (server.pid() == process.pid()) {
                return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            server.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + this + " to exit", e);
        } catch (ExecutionException | TimeoutException e) {
            return !server.isAlive();
        }
    }

    private static String tail(Path log, long offset) {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long from = Math.max(offset, file.length() - TAIL_BYTES);
            byte[] bytes = new byte[(int) (file.length() - from)];
            file.seek(from);
            file.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private static String exitCode(Process p) {
        return p.isAlive() ? "(still running)" : String.valueOf(p.exitValue());
    }

    private static void waitForQuietly(Process p) {
        try {
            p.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    /** Why one start attempt failed, and whether another port might help. */
    static final class StartFailure extends Exception {
        final boolean portProblem;

        StartFailure(String message, boolean portProblem) {
            super(message, null, false, false);
            this.portProblem = portProblem;
        }
    }
}
