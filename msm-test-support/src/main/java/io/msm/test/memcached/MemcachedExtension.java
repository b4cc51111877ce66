package io.msm.test.memcached;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension that runs real memcached servers for integration tests.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final MemcachedExtension memcached = MemcachedExtension.servers(2);
 *
 * @Test
 * void failover() {
 *     String nodes = memcached.nodesAttribute("n1", "n2"); // "n1:127.0.0.1:41231,n2:127.0.0.1:39017"
 *     ...
 *     memcached.server(0).kill();
 * }
 * }</pre>
 *
 * <p><b>Lifecycle.</b> Registered on a {@code static} field, the servers start before all tests of the class
 * (ports are fixed from then on) and are killed after all of them. Registered on an instance field, fresh servers
 * start before and are killed after each test. Before each test every server that a previous test left stopped,
 * killed or paused is restarted or resumed, and every server gets {@code flush_all} and {@code stats reset}, so
 * tests start from empty servers with zeroed counters and do not depend on each other. One JVM shutdown hook kills
 * any server still alive when the JVM exits. Tests of one class must not run concurrently.
 *
 * <p><b>Backends.</b> Servers run as local processes
 * {@code memcached -l 127.0.0.1 -p <port> -U 0 -m 64 -t 1 -c 1024 [-u root] <extra args>} (the binary is looked
 * up as described in the module README: {@code -Dmemcached.bin}, {@code MEMCACHED_BIN}, {@code PATH},
 * {@code /usr/bin}, {@code /usr/local/bin}, {@code /usr/sbin}). Only when no binary is found and Docker is
 * available do they run as Testcontainers containers of {@code memcached:1.6-alpine}, published on
 * {@code 127.0.0.1} only. Otherwise the first test fails with a message naming both ways.
 *
 * <p><b>Other loopback addresses.</b> {@link #onLoopbackAddresses} runs the servers on {@code 127.0.0.2},
 * {@code 127.0.0.3}, ... all on one port, for tests of a host name that moves from one server to another.
 *
 * <p><b>TLS.</b> {@link #withTls} starts the servers with TLS on their port and a plain-text second port for the
 * extension's own use (process backend only).
 *
 * <p>A server's output goes to {@code target/memcached-logs/memcached-<port>.log} when the working directory has
 * a {@code target} directory (as under Maven), else to {@code msm-memcached-logs} in {@code java.io.tmpdir}. Each
 * initial server start prints one line to {@code System.err}.
 */
public final class MemcachedExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback {

    /** Options the extension sets itself; passing them again would break the port and address guarantees. */
    private static final List<String> MANAGED_OPTIONS =
            List.of("-l", "--listen", "-p", "--port", "-U", "--udp-port", "-d", "--daemon", "-s", "--unix-socket");

    /** Options that switch TLS on; {@link #withTls} does that, with both listeners. */
    private static final List<String> TLS_OPTIONS = List.of("-Z", "--enable-ssl");

    private final int count;
    private final List<String> extraArgs;
    private final MemcachedBackend.Environment environment;
    /** TLS of every server, or {@code null} for plain text. */
    private final MemcachedTls tls;
    /** The address of each server, all on one port ({@link #onLoopbackAddresses}); {@code null}: 127.0.0.1. */
    private final List<String> loopbacks;

    private List<AbstractMemcachedServer> servers;
    /** How many class-level scopes (a class and its {@code @Nested} classes) currently use the servers. */
    private int classScopes;
    /** Whether the servers were started for one test only (instance-field registration). */
    private boolean perTest;

    private MemcachedExtension(int count, List<String> extraArgs, MemcachedBackend.Environment environment,
            MemcachedTls tls, List<String> loopbacks) {
        this.count = count;
        this.extraArgs = List.copyOf(extraArgs);
        this.environment = environment;
        this.tls = tls;
        this.loopbacks = loopbacks;
    }

    /**
     * Creates an extension running {@code count} servers.
     *
     * @param count how many servers, at least 1
     * @return the extension, to be registered with {@code @RegisterExtension}
     */
    public static MemcachedExtension servers(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1: " + count);
        }
        return new MemcachedExtension(count, List.of(), MemcachedBackend.Environment.system(), null, null);
    }

    /**
     * Returns a copy of this extension that passes extra arguments to every memcached, e.g. {@code "-vv"} or
     * {@code "-S"} (SASL). In Docker mode they are passed to the container's memcached. The listen address, ports,
     * UNIX socket and daemon mode are managed by the extension and rejected here.
     *
     * @param extraMemcachedArgs the arguments, appended after the extension's own
     * @return a new, not yet started extension
     * @throws IllegalArgumentException if an argument is managed by the extension
     */
    public MemcachedExtension withArgs(String... extraMemcachedArgs) {
        List<String> args = new ArrayList<>(extraArgs);
        for (String arg : extraMemcachedArgs) {
            if (arg == null) {
                throw new IllegalArgumentException("null memcached argument");
            }
            if (TLS_OPTIONS.contains(arg)) {
                throw new IllegalArgumentException("memcached option " + arg + " is managed by MemcachedExtension:"
                        + " use withTls(MemcachedTls.serverCertificate()), which also keeps a plain-text port for"
                        + " the extension's own checks");
            }
            for (String managed : MANAGED_OPTIONS) {
                boolean longOption = managed.startsWith("--");
                if (arg.equals(managed) || (longOption && arg.startsWith(managed + "="))
                        || (!longOption && arg.startsWith(managed) && arg.length() > managed.length())) {
                    throw new IllegalArgumentException("memcached option " + arg
                            + " is managed by MemcachedExtension (servers listen on 127.0.0.1 only, on ports it"
                            + " chooses)");
                }
            }
            args.add(arg);
        }
        return new MemcachedExtension(count, args, environment, tls, loopbacks);
    }

    /**
     * Returns a copy of this extension whose servers speak TLS on their {@link MemcachedServer#port() port}, the one
     * {@link #nodesAttribute}, {@link MemcachedServer#address()} and {@link MemcachedServer#port()} give, with the
     * certificates of {@link io.msm.test.tls.TestCertificates}. Each server also listens in plain text on a second
     * loopback port, {@link MemcachedServer#plainPort()}, which the extension's own readiness probe, per-test reset,
     * {@link #assertNoClientConnections} and the server's accessors ({@code stats}, {@code get}, ...) use; both ports
     * stay the same across restarts. Only the process backend does TLS: with the Docker fallback the servers fail to
     * start with a message saying so. Extra {@code -o ssl_...} options (e.g. {@code ssl_min_version}) may be added
     * with {@link #withArgs}.
     *
     * @param serverTls e.g. {@code MemcachedTls.serverCertificate()}, {@code MemcachedTls.wrongHost()} or
     *                  {@code MemcachedTls.serverCertificate().requireClientCertificate()}
     * @return a new, not yet started extension
     */
    public MemcachedExtension withTls(MemcachedTls serverTls) {
        if (serverTls == null) {
            throw new IllegalArgumentException("serverTls must not be null");
        }
        return new MemcachedExtension(count, extraArgs, environment, serverTls, loopbacks);
    }

    /**
     * Returns a copy of this extension whose i-th server listens on the i-th of {@code addresses} instead of
     * {@code 127.0.0.1}, all servers on the same port (and, with {@link #withTls}, on the same plain-text port). So one
     * host name can be pointed at one server and then another ({@link io.msm.test.net.HostsFile}), and a client that
     * resolves the name again finds the other server at the same port, as when a DNS name moves to a new node. Linux
     * routes all of {@code 127.0.0.0/8} to the loopback interface, so no setup is needed there. Process backend only:
     * with the Docker fallback the servers fail to start with a message saying so.
     *
     * @param addresses one IPv4 loopback literal per server, e.g. {@code "127.0.0.2", "127.0.0.3"}, all different
     * @return a new, not yet started extension
     * @throws IllegalArgumentException if there are not as many addresses as servers, or one is not an IPv4 loopback
     *                                  literal, or two are the same
     */
    public MemcachedExtension onLoopbackAddresses(String... addresses) {
        SharedPortStart.check(count, addresses);
        return new MemcachedExtension(count, extraArgs, environment, tls, List.of(addresses));
    }

    /**
     * Returns a copy of this extension that selects its backend from the given environment; for tests of the
     * backends themselves (e.g. forcing Docker with {@code memcached.backend=docker}).
     *
     * @param backendEnvironment where the backend selection looks
     * @return a new, not yet started extension
     */
    MemcachedExtension withBackendEnvironment(MemcachedBackend.Environment backendEnvironment) {
        return new MemcachedExtension(count, extraArgs, backendEnvironment, tls, loopbacks);
    }

    /**
     * Returns one server.
     *
     * @param index 0-based
     * @return the server
     * @throws IllegalStateException     if the servers are not started (outside a test, or the extension is not
     *                                   registered)
     * @throws IndexOutOfBoundsException if there is no such server
     */
    public synchronized MemcachedServer server(int index) {
        return started().get(index);
    }

    /**
     * Returns all servers, in index order.
     *
     * @return an unmodifiable list
     * @throws IllegalStateException if the servers are not started
     */
    public synchronized List<MemcachedServer> servers() {
        return Collections.unmodifiableList(new ArrayList<>(started()));
    }

    /**
     * Formats the servers as an msm {@code memcachedNodes} attribute: {@code id:host:port} pairs separated by
     * commas, e.g. {@code nodesAttribute("n1", "n2")} gives {@code "n1:127.0.0.1:41231,n2:127.0.0.1:39017"}.
     * The i-th id names {@code server(i)}; with fewer ids than servers only the first servers are listed; without
     * ids all servers are listed as {@code n1}, {@code n2}, ...
     *
     * @param ids the node ids
     * @return the attribute value
     * @throws IllegalArgumentException if there are more ids than servers, or an id is empty or contains
     *                                  {@code :}, {@code ,} or whitespace
     */
    public synchronized String nodesAttribute(String... ids) {
        List<AbstractMemcachedServer> all = started();
        String[] names = ids;
        if (names.length == 0) {
            names = new String[all.size()];
            for (int i = 0; i < names.length; i++) {
                names[i] = "n" + (i + 1);
            }
        }
        if (names.length > all.size()) {
            throw new IllegalArgumentException(names.length + " node ids for " + all.size() + " servers: "
                    + Arrays.toString(names));
        }
        StringBuilder attribute = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            String id = names[i];
            if (id == null || id.isEmpty() || !id.chars().noneMatch(c -> c == ':' || c == ',' || c <= ' ')) {
                throw new IllegalArgumentException("invalid node id: '" + id + "'");
            }
            if (i > 0) {
                attribute.append(',');
            }
            MemcachedServer server = all.get(i);
            attribute.append(id).append(':').append(server.host()).append(':').append(server.port());
        }
        return attribute.toString();
    }

    /**
     * Waits until no client is connected to any running, unpaused server: each must report
     * {@code curr_connections} of at most {@link MemcachedServer#IDLE_CONNECTIONS} (1 with memcached 1.6: the
     * probe's own connection; memcached does not count its listening socket there). Use it after closing clients
     * to detect leaked connections; closes are noticed by memcached asynchronously, hence the wait.
     *
     * @param within how long to wait at most
     * @throws AssertionError if some server still has client connections after {@code within}
     */
    public void assertNoClientConnections(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            List<String> busy = new ArrayList<>();
            for (MemcachedServer server : servers()) {
                if (server.isRunning() && !server.isPaused()) {
                    long connections = server.currentConnections();
                    if (connections > MemcachedServer.IDLE_CONNECTIONS) {
                        busy.add(server + " has curr_connections=" + connections);
                    }
                }
            }
            if (busy.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("Client connections still open after " + within.toMillis() + " ms (an idle"
                        + " server reports curr_connections=" + MemcachedServer.IDLE_CONNECTIONS
                        + ", the probe itself): " + String.join("; ", busy));
            }
            AbstractMemcachedServer.sleep(AbstractMemcachedServer.POLL_MILLIS);
        }
    }

    @Override
    public synchronized void beforeAll(ExtensionContext context) {
        if (servers == null) {
            startAll();
        }
        classScopes++;
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) {
        if (classScopes > 0 && --classScopes == 0) {
            shutdownAll();
        }
    }

    @Override
    public synchronized void beforeEach(ExtensionContext context) {
        if (servers == null) {
            // Instance-field registration: JUnit does not call beforeAll on it.
            startAll();
            perTest = true;
            return;
        }
        for (AbstractMemcachedServer server : servers) {
            server.prepareForTest();
        }
    }

    @Override
    public synchronized void afterEach(ExtensionContext context) {
        if (perTest) {
            shutdownAll();
        }
    }

    /**
     * Starts the servers outside JUnit (benchmarks, tools); {@link #stopServers()} ends them. Inside JUnit the
     * extension's callbacks do this.
     */
    public synchronized void startServers() {
        startAll();
    }

    /** Stops servers started with {@link #startServers()}. */
    public synchronized void stopServers() {
        shutdownAll();
    }

    /** Starts all servers; on failure kills those already started. Package-private for tests. */
    synchronized void startAll() {
        if (servers != null) {
            throw new IllegalStateException("memcached servers already started");
        }
        MemcachedBackend backend = MemcachedBackend.select(environment);
        if (tls != null && backend.isDocker()) {
            throw new IllegalStateException(DockerMemcachedServer.TLS_UNSUPPORTED);
        }
        if (loopbacks != null) {
            if (backend.isDocker()) {
                throw new IllegalStateException("onLoopbackAddresses needs the process backend (a local memcached"
                        + " binary); the Docker fallback publishes on 127.0.0.1 only");
            }
            servers = SharedPortStart.start(loopbacks, backend.binary(), extraArgs, tls, logDir());
            return;
        }
        List<AbstractMemcachedServer> started = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                AbstractMemcachedServer server = backend.isDocker()
                        ? DockerMemcachedServer.create(i, extraArgs)
                        : new ProcessMemcachedServer(i, backend.binary(), extraArgs, tls, logDir());
                String description = server.startOnFreePort();
                started.add(server);
                System.err.println(description);
            }
        } catch (RuntimeException | Error e) {
            for (AbstractMemcachedServer server : started) {
                try {
                    server.kill();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        servers = started;
    }

    /** Kills all servers and waits for them. Package-private for tests. */
    synchronized void shutdownAll() {
        List<AbstractMemcachedServer> all = servers;
        servers = null;
        perTest = false;
        classScopes = 0;
        if (all == null) {
            return;
        }
        RuntimeException failure = null;
        for (AbstractMemcachedServer server : all) {
            try {
                server.kill();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private List<AbstractMemcachedServer> started() {
        if (servers == null) {
            throw new IllegalStateException("memcached servers are not running: register the extension with"
                    + " @RegisterExtension (preferably on a static field) and use it from tests or callbacks");
        }
        return servers;
    }

    private static Path logDir() {
        Path target = Path.of("target");
        if (Files.isDirectory(target)) {
            return target.resolve("memcached-logs");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "msm-memcached-logs");
    }
}
