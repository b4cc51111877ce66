package io.msm.test.memcached;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the process and the Docker backends share: the address, the text-protocol accessors, the per-test reset and
 * the JVM-wide registry of live servers that one shutdown hook kills.
 */
abstract class AbstractMemcachedServer implements MemcachedServer {

    /** The address servers listen on unless {@link MemcachedExtension#onLoopbackAddresses} says otherwise. */
    static final String HOST = "127.0.0.1";
    /** How many times {@link #freePorts} draws new ports when one is taken on another address. */
    private static final int SHARED_PORT_DRAWS = 20;
    /** Connect and read timeout of the accessor methods. */
    static final int IO_TIMEOUT_MILLIS = 2_000;
    /** How long a starting server may take to answer {@code version}. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(5);
    /** How long to wait for a stopped or killed server to exit. */
    static final Duration EXIT_TIMEOUT = Duration.ofSeconds(5);
    /** Poll interval of every wait. */
    static final long POLL_MILLIS = 20;
    /** How long the per-test reset waits for flushed items to be reclaimed. */
    static final Duration RECLAIM_TIMEOUT = Duration.ofSeconds(1);
    /** How many fresh ports the first start tries. */
    static final int PORT_ATTEMPTS = 5;

    /** Connect and read timeout of one readiness probe. */
    private static final int PROBE_TIMEOUT_MILLIS = 500;

    private static final Set<AbstractMemcachedServer> ALIVE = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean HOOK_REGISTERED = new AtomicBoolean();

    /** Position of this server in its extension, for messages. */
    final int index;
    /** The loopback address the server listens on (both listeners of a TLS server). */
    final String host;
    /** Extra memcached arguments. */
    final List<String> extraArgs;
    /** How the server does TLS, or {@code null} for plain text only. */
    final MemcachedTls tls;
    /** The port, or -1 before the first start; never changes afterwards. */
    volatile int port = -1;
    /**
     * The plain-text port of a TLS server, or -1 (not TLS, or before the first start); never changes afterwards.
     */
    volatile int plainPort = -1;

    AbstractMemcachedServer(int index, List<String> extraArgs, MemcachedTls tls) {
        this(index, HOST, extraArgs, tls);
    }

    AbstractMemcachedServer(int index, String host, List<String> extraArgs, MemcachedTls tls) {
        this.index = index;
        this.host = host;
        this.extraArgs = List.copyOf(extraArgs);
        this.tls = tls;
    }

    /**
     * Starts the server for the first time on a fresh free port, trying up to {@link #PORT_ATTEMPTS} ports.
     *
     * @return a one-line description for the log, e.g. {@code "memcached #0 on 127.0.0.1:40000 (pid 1234)"}
     */
    abstract String startOnFreePort();

    /** Kills the server without waiting and without throwing; used by the shutdown hook. */
    abstract void destroyNow();

    @Override
    public final String host() {
        return host;
    }

    @Override
    public final int port() {
        int p = port;
        if (p < 0) {
            throw new IllegalStateException("memcached #" + index + " has not been started yet");
        }
        return p;
    }

    @Override
    public final InetSocketAddress address() {
        return new InetSocketAddress(host, port());
    }

    @Override
    public final boolean isTls() {
        return tls != null;
    }

    @Override
    public final int plainPort() {
        int p = port();
        return tls == null ? p : plainPort;
    }

    @Override
    public String toString() {
        int p = port;
        return "memcached #" + index + " on " + host + ":" + (p < 0 ? "(not started)" : String.valueOf(p))
                + (tls == null || p < 0 ? "" : " (TLS; plain text on " + plainPort + ")");
    }

    /**
     * Brings the server into the state every test starts from: running, not paused, empty, statistics reset.
     */
    final synchronized void prepareForTest() {
        if (isPaused()) {
            resume();
        }
        if (!isRunning()) {
            start();
        }
        call("flush_all and stats reset", client -> {
            client.flushAll();
            client.resetStats();
            client.request("stats detail on");
            awaitNoItems(client);
            return null;
        });
    }

    /**
     * {@code flush_all} only invalidates items; {@code curr_items} keeps counting them until they are reclaimed.
     * Asks the LRU crawler to reclaim them and waits (at most {@link #RECLAIM_TIMEOUT}) so that tests may assert
     * on {@code curr_items}. Gives up quietly if the crawler is disabled or slow.
     */
    private static void awaitNoItems(TextProtocolClient client) throws IOException {
        long deadline = System.nanoTime() + RECLAIM_TIMEOUT.toNanos();
        while (!"0".equals(client.stats(null).get("curr_items")) && System.nanoTime() < deadline) {
            String answer = client.request("lru_crawler crawl all");
            if (!answer.equals("OK") && !answer.startsWith("BUSY")) {
                return; // e.g. started with -o no_lru_crawler
            }
            sleep(POLL_MILLIS / 4);
        }
    }

    @Override
    public Map<String, String> stats() {
        return Collections.unmodifiableMap(call("stats", client -> client.stats(null)));
    }

    @Override
    public long prefixGets(String prefix) {
        return call("stats detail", client -> {
            String on = client.request("stats detail on");
            if (!on.equals("OK")) {
                throw new IOException("stats detail on: " + on);
            }
            for (String line : client.lines("stats detail dump")) {
                // PREFIX <prefix> get <n> hit <n> set <n> del <n>
                String[] f = line.split(" ");
                if (f.length >= 4 && f[0].equals("PREFIX") && f[1].equals(prefix) && f[2].equals("get")) {
                    return Long.parseLong(f[3]);
                }
            }
            return 0L;
        });
    }

    @Override
    public long stat(String name) {
        String value = stats().get(name);
        if (value == null) {
            throw new IllegalArgumentException(this + " has no stat named " + name);
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("stat " + name + " of " + this + " is not an integer: " + value, e);
        }
    }

    @Override
    public long currentConnections() {
        // the plain-text listener of a TLS server is counted like a connection
        return stat("curr_connections") - (tls == null ? 0 : 1);
    }

    @Override
    public String version() {
        return call("version", TextProtocolClient::version);
    }

    @Override
    public void flushAll() {
        call("flush_all", client -> {
            client.flushAll();
            return null;
        });
    }

    @Override
    public byte[] get(String key) {
        TextProtocolClient.checkKey(key);
        return call("get " + key, client -> client.get(key));
    }

    @Override
    public void set(String key, byte[] value, int exptimeSeconds) {
        TextProtocolClient.checkKey(key);
        if (value == null) {
            throw new IllegalArgumentException("value must not be null");
        }
        call("set " + key, client -> {
            client.set(key, value, exptimeSeconds);
            return null;
        });
    }

    @Override
    public Set<String> keys() {
        long deadline = System.nanoTime() + Duration.ofMillis(IO_TIMEOUT_MILLIS).toNanos();
        while (true) {
            try {
                return Collections.unmodifiableSet(call("lru_crawler metadump all",
                        TextProtocolClient::metadumpKeys));
            } catch (UncheckedIOException e) {
                // The crawler answers BUSY while a previous crawl is still running; that clears quickly.
                if (!String.valueOf(e.getMessage()).contains("BUSY") || System.nanoTime() > deadline) {
                    throw e;
                }
                sleep(POLL_MILLIS);
            }
        }
    }

    /** A text-protocol exchange that may fail with an {@link IOException}. */
    @FunctionalInterface
    interface Exchange<T> {
        T run(TextProtocolClient client) throws IOException;
    }

    /**
     * Runs one exchange on a fresh plain-text connection (to the {@link #plainPort() plain-text port} of a TLS
     * server) with {@link #IO_TIMEOUT_MILLIS} timeouts.
     *
     * @throws IllegalStateException if the server is not running or paused
     * @throws UncheckedIOException  on I/O failure or an unexpected response
     */
    final <T> T call(String what, Exchange<T> exchange) {
        if (!isRunning()) {
            throw new IllegalStateException(this + " is not running; cannot " + what);
        }
        if (isPaused()) {
            throw new IllegalStateException(this + " is paused; cannot " + what);
        }
        InetSocketAddress control = new InetSocketAddress(host, plainPort());
        try (TextProtocolClient client = TextProtocolClient.connect(control, IO_TIMEOUT_MILLIS)) {
            return exchange.run(client);
        } catch (IOException e) {
            throw new UncheckedIOException(this + ": " + what + " failed: " + e, e);
        }
    }

    /**
     * One readiness probe: connects, sends {@code version}, then {@code stats} to learn which process answered.
     *
     * @param host the address to probe
     * @param port the port to probe
     * @return the answering server's {@code stats pid} (as seen in its own PID namespace), or -1 if nothing
     *         answered
     */
    static long probe(String host, int port) {
        try (TextProtocolClient client = TextProtocolClient.connect(new InetSocketAddress(host, port),
                PROBE_TIMEOUT_MILLIS)) {
            client.version();
            // per-prefix statistics from the start, so prefixGets counts every get of a prefix
            client.request("stats detail on");
            String pid = client.stats(null).get("pid");
            return pid == null ? 0 : Long.parseLong(pid);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Asks the kernel for a currently free port on {@link #HOST}. The port is released before memcached binds it,
     * so another process may take it in between; callers retry with a new port when the start fails.
     */
    static int freePort() {
        return freePorts(List.of(HOST), 1)[0];
    }

    /**
     * {@code count} different ports, each free on every one of {@code hosts} right now: the kernel picks them on the
     * first address, and they are held there while bound on the others; a port taken on another address is drawn
     * again (at most {@link #SHARED_PORT_DRAWS} times). Released before memcached binds them: callers retry with new
     * ports when a start fails.
     *
     * @param hosts loopback addresses
     * @param count how many ports
     * @return the ports
     */
    static int[] freePorts(List<String> hosts, int count) {
        IOException last = null;
        for (int draw = 0; draw < SHARED_PORT_DRAWS; draw++) {
            List<ServerSocket> held = new ArrayList<>();
            try {
                int[] ports = new int[count];
                for (int i = 0; i < count; i++) {
                    ServerSocket first = bind(held, hosts.get(0), 0);
                    ports[i] = first.getLocalPort();
                    for (String other : hosts.subList(1, hosts.size())) {
                        bind(held, other, ports[i]);
                    }
                }
                return ports;
            } catch (IOException e) {
                last = e; // taken on another address: draw again
            } finally {
                for (ServerSocket socket : held) {
                    closeQuietly(socket);
                }
            }
        }
        throw new UncheckedIOException("cannot find " + count + " port(s) free on all of " + hosts + " in "
                + SHARED_PORT_DRAWS + " draws", last);
    }

    private static ServerSocket bind(List<ServerSocket> held, String host, int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        held.add(socket);
        socket.bind(new InetSocketAddress(InetAddress.getByName(host), port), 1);
        return socket;
    }

    private static void closeQuietly(ServerSocket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // released anyway
        }
    }

    /** Records a live server for the shutdown hook, registering the hook on first use. */
    final void registerAlive() {
        if (HOOK_REGISTERED.compareAndSet(false, true)) {
            Thread hook = new Thread(AbstractMemcachedServer::destroyAllAlive, "memcached-test-servers-killer");
            Runtime.getRuntime().addShutdownHook(hook);
        }
        ALIVE.add(this);
    }

    /** Forgets a server that has exited. */
    final void unregisterAlive() {
        ALIVE.remove(this);
    }

    private static void destroyAllAlive() {
        for (AbstractMemcachedServer server : new ArrayList<>(ALIVE)) {
            server.destroyNow();
        }
    }

    /**
     * Sleeps for a poll interval.
     *
     * @param millis how long
     */
    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for memcached", e);
        }
    }
}
