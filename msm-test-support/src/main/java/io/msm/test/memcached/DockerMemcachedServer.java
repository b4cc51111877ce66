package io.msm.test.memcached;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.utility.DockerImageName;

/**
 * A memcached server run as a Testcontainers {@link GenericContainer} of {@value #IMAGE}, used only when no
 * memcached binary is installed. This is the only class that touches Testcontainers, so the process backend never
 * loads it.
 *
 * <p>Inside the container memcached listens on all interfaces of the container's own network namespace (port
 * 11211); Docker publishes it only on {@code 127.0.0.1:<port>} of the host, with a fixed host port chosen like the
 * process backend does, so a restarted server (a new, empty container) comes back on the same port. Stop, kill,
 * pause and resume are {@code docker stop -t 5}, {@code docker kill}, {@code docker pause} and
 * {@code docker unpause}; a stopped or killed container is removed. TLS is not supported here:
 * {@link MemcachedExtension#withTls} refuses the Docker backend (see {@link #TLS_UNSUPPORTED}).
 */
final class DockerMemcachedServer extends AbstractMemcachedServer {

    /** The image every server runs. */
    static final String IMAGE = "memcached:1.6-alpine";

    /**
     * Why {@link MemcachedExtension#withTls} fails on this backend: the container would need the certificate files
     * copied in and a second published port, which this fallback does not do.
     */
    static final String TLS_UNSUPPORTED = "MemcachedExtension.withTls(...) needs a local memcached binary with TLS"
            + " support (memcached -Z, e.g. Debian's memcached 1.6); the Docker fallback (" + IMAGE + ") does not"
            + " run TLS servers. Install memcached (apt-get install -y memcached) or set MEMCACHED_BIN /"
            + " -Dmemcached.bin=/path/to/memcached.";

    private static final int CONTAINER_PORT = 11211;
    private static final int TAIL_CHARS = 2_000;

    private GenericContainer<?> container;
    private boolean paused;

    DockerMemcachedServer(int index, List<String> extraArgs) {
        super(index, extraArgs, null);
    }

    /**
     * Creates a not yet started server. Callers use this factory rather than the constructor so that their own
     * bytecode verification never needs this class, and with it Testcontainers.
     *
     * @param index     position in the extension
     * @param extraArgs extra memcached arguments
     * @return the server
     */
    static AbstractMemcachedServer create(int index, List<String> extraArgs) {
        return new DockerMemcachedServer(index, extraArgs);
    }

    /**
     * Asks Testcontainers whether a Docker engine is usable.
     *
     * @return {@code true} if containers can be started
     */
    static boolean isDockerAvailable() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    @Override
    synchronized String startOnFreePort() {
        if (port >= 0) {
            throw new IllegalStateException(this + " was already started once");
        }
        RuntimeException last = null;
        for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
            int candidate = freePort();
            try {
                launch(candidate);
                port = candidate;
                return this + " (container " + shortId() + ", image " + IMAGE + ")";
            } catch (RuntimeException failure) {
                last = failure;
            }
        }
        throw new IllegalStateException("Could not start memcached #" + index + " in Docker (" + PORT_ATTEMPTS
                + " attempts, each on a new port): " + last.getMessage(), last);
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
            launch(port);
        } catch (RuntimeException failure) {
            throw new IllegalStateException("Could not restart memcached #" + index + " in Docker: "
                    + failure.getMessage(), failure);
        }
    }

    @Override
    public synchronized void stop() {
        if (container == null) {
            return;
        }
        unpauseIfPaused();
        try {
            client().stopContainerCmd(container.getContainerId()).withTimeout((int) EXIT_TIMEOUT.toSeconds()).exec();
        } finally {
            remove();
        }
    }

    @Override
    public synchronized void kill() {
        if (container == null) {
            return;
        }
        unpauseIfPaused();
        try {
            client().killContainerCmd(container.getContainerId()).exec();
        } finally {
            remove();
        }
    }

    @Override
    public synchronized void pause() {
        if (!isRunning()) {
            throw new IllegalStateException(this + " is not running; cannot pause it");
        }
        if (!paused) {
            client().pauseContainerCmd(container.getContainerId()).exec();
            paused = true;
        }
    }

    @Override
    public synchronized void resume() {
        if (container != null) {
            unpauseIfPaused();
        }
        paused = false;
    }

    @Override
    public synchronized boolean isRunning() {
        return container != null && container.isRunning();
    }

    @Override
    public synchronized boolean isPaused() {
        return paused && container != null;
    }

    @Override
    void destroyNow() {
        GenericContainer<?> c;
        synchronized (this) {
            c = container;
        }
        if (c != null) {
            try {
                c.stop();
            } catch (RuntimeException e) {
                // the JVM is exiting; Testcontainers' reaper removes what is left
            }
        }
    }

    /** The container command; package-private for tests. */
    List<String> command() {
        List<String> command = new ArrayList<>(List.of("memcached", "-l", "0.0.0.0", "-p",
                String.valueOf(CONTAINER_PORT), "-U", "0", "-m", "64", "-t", "1", "-c", "1024"));
        command.addAll(extraArgs);
        return command;
    }

    private void launch(int hostPort) {
        List<String> command = command();
        ExposedPort exposed = ExposedPort.tcp(CONTAINER_PORT);
        GenericContainer<?> candidate = new GenericContainer<>(DockerImageName.parse(IMAGE))
                .withCommand(command.toArray(new String[0]))
                .withCreateContainerCmdModifier(create -> {
                    HostConfig hostConfig = create.getHostConfig() == null
                            ? HostConfig.newHostConfig() : create.getHostConfig();
                    create.withExposedPorts(exposed);
                    create.withHostConfig(hostConfig.withPortBindings(
                            new PortBinding(Ports.Binding.bindIpAndPort(HOST, hostPort), exposed)));
                })
                .waitingFor(new ReadinessCheckedByCaller());
        String description = "docker run -p " + HOST + ":" + hostPort + ":" + CONTAINER_PORT + " " + IMAGE + " "
                + String.join(" ", command);
        try {
            candidate.start();
        } catch (RuntimeException e) {
            String logs = logsOf(candidate);
            stopQuietly(candidate);
            throw new IllegalStateException("`" + description + "` failed: " + e.getMessage() + "; output:" + logs, e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (probe(HOST, hostPort) < 0) {
            if (!candidate.isRunning() || System.nanoTime() > deadline) {
                Long exitCode = exitCodeOf(candidate);
                String logs = logsOf(candidate);
                stopQuietly(candidate);
                throw new IllegalStateException("`" + description + "` did not answer `version` within "
                        + START_TIMEOUT.toSeconds() + " s; exit code " + (exitCode == null ? "(running)" : exitCode)
                        + "; output:" + logs);
            }
            sleep(POLL_MILLIS);
        }
        container = candidate;
        paused = false;
        registerAlive();
    }

    private void unpauseIfPaused() {
        if (paused) {
            client().unpauseContainerCmd(container.getContainerId()).exec();
            paused = false;
        }
    }

    /** Removes the (stopped or killed) container and forgets it. */
    private void remove() {
        GenericContainer<?> c = container;
        container = null;
        paused = false;
        unregisterAlive();
        c.stop();
    }

    private String shortId() {
        String id = container.getContainerId();
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    private static DockerClient client() {
        return DockerClientFactory.instance().client();
    }

    private static Long exitCodeOf(GenericContainer<?> c) {
        try {
            if (c.getContainerId() == null) {
                return null;
            }
            return client().inspectContainerCmd(c.getContainerId()).exec().getState().getExitCodeLong();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String logsOf(GenericContainer<?> c) {
        try {
            String logs = c.getContainerId() == null ? "" : c.getLogs().strip();
            if (logs.isEmpty()) {
                return " (none)";
            }
            return System.lineSeparator()
                    + (logs.length() > TAIL_CHARS ? logs.substring(logs.length() - TAIL_CHARS) : logs);
        } catch (RuntimeException e) {
            return " (unavailable: " + e.getMessage() + ")";
        }
    }

    private static void stopQuietly(GenericContainer<?> c) {
        try {
            c.stop();
        } catch (RuntimeException e) {
            // best effort
        }
    }

    /** Lets Testcontainers return as soon as the container runs; {@link #launch} probes {@code version} itself. */
    private static final class ReadinessCheckedByCaller extends AbstractWaitStrategy {
        @Override
        protected void waitUntilReady() {
            // readiness is probed from the host with the memcached protocol
        }
    }
}
