package io.msm.test.memcached;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;

/**
 * One real memcached server managed by {@link MemcachedExtension}, with fault injection.
 *
 * <p>The server always listens on {@code 127.0.0.1}; its {@link #port() port} (and the
 * {@link #plainPort() plain-text port} of a TLS server) is chosen once, when the extension first starts it, and
 * stays the same across {@link #stop()}, {@link #kill()} and {@link #start()}, so a client configured with
 * {@link #address()} reconnects to the restarted server.
 *
 * <p>The data access methods ({@link #get}, {@link #set}, {@link #stats()}, ...) speak the memcached text
 * protocol over a fresh raw socket per call (to the {@link #plainPort() plain-text port}, also of a TLS server),
 * with 2 s connect and read timeouts. They require a running, unpaused server and throw
 * {@link IllegalStateException} otherwise; I/O failures surface as {@link java.io.UncheckedIOException}.
 *
 * <p>Instances are not meant to be shared between concurrently running tests.
 */
public interface MemcachedServer {

    /**
     * Number of connections an idle server reports in {@code curr_connections} while exactly one client (the
     * {@code stats} probe itself) is connected. Measured with memcached 1.6.18 started with
     * {@code -l 127.0.0.1 -U 0 -t 1}: {@code curr_connections} is {@value} (the listening socket is counted in
     * {@code total_connections}, which starts at 2, but not in {@code curr_connections}).
     */
    int IDLE_CONNECTIONS = 1;

    /**
     * Returns the host the server listens on.
     *
     * @return always {@code "127.0.0.1"}
     */
    String host();

    /**
     * Returns the TCP port; it never changes for the lifetime of this object.
     *
     * @return the port on {@code 127.0.0.1}
     */
    int port();

    /**
     * Returns {@code host():port()} as a socket address.
     *
     * @return the server address
     */
    InetSocketAddress address();

    /**
     * Tells whether the server was started with {@link MemcachedExtension#withTls TLS}: then {@link #port()} speaks
     * TLS only, and {@link #plainPort()} is a second listener of the same process that speaks plain text.
     *
     * @return {@code true} for a TLS server
     */
    boolean isTls();

    /**
     * Returns the port that speaks plain text: {@link #port()} for a server without TLS, else a second port of the
     * same process, fixed like {@link #port()}. The data access methods of this interface and the extension's own
     * checks use it, so they work the same with and without TLS.
     *
     * @return a port on {@code 127.0.0.1}
     */
    int plainPort();

    /**
     * Stops the server gracefully (SIGTERM, or {@code docker stop}) and waits until it has exited; after 5 s it is
     * killed. Does nothing if the server is not running. A paused server is continued so it can handle the signal.
     */
    void stop();

    /**
     * Kills the server (SIGKILL, or {@code docker kill}) and waits until it has exited (bounded). Connections are
     * reset and the port refuses new ones. Does nothing if the server is not running.
     */
    void kill();

    /**
     * Freezes the server (SIGSTOP, or {@code docker pause}): the process stays alive, established and new TCP
     * connections stay open (the kernel completes the handshake), but no request is answered until
     * {@link #resume()}. Does nothing if already paused.
     *
     * @throws IllegalStateException if the server is not running
     */
    void pause();

    /**
     * Continues a {@link #pause() paused} server (SIGCONT, or {@code docker unpause}). Does nothing if the server
     * is not paused.
     */
    void resume();

    /**
     * Starts a new, empty memcached on the same port and waits (at most about 5 s) until it answers
     * {@code version}. Statistics start from zero.
     *
     * @throws IllegalStateException if the server is already running (call {@link #kill()} or {@link #stop()}
     *                               first), or if it could not be started; the message then contains the command
     *                               line, the exit code and the tail of the server's output
     */
    void start();

    /**
     * Tells whether the server process (or container) is alive; a paused server is running.
     *
     * @return {@code true} if running, also while paused
     */
    boolean isRunning();

    /**
     * Tells whether the server is currently paused by {@link #pause()}.
     *
     * @return {@code true} if paused
     */
    boolean isPaused();

    /**
     * Returns the output of the text-protocol {@code stats} command.
     *
     * @return stat name to value, in server order
     */
    Map<String, String> stats();

    /**
     * Returns one integer statistic, e.g. {@code stat("cmd_set")} or {@code stat("curr_items")}. Note that
     * {@link MemcachedExtension} issues {@code stats reset} before each test, so counters such as
     * {@code cmd_set}, {@code get_hits} or {@code total_connections} count from the start of the test, and it
     * has the flushed items reclaimed, so {@code curr_items} starts at 0. Within a test, {@link #flushAll()} does
     * not lower {@code curr_items} at once: memcached reclaims flushed items lazily.
     *
     * @param name the stat name
     * @return its value
     * @throws IllegalArgumentException if the server has no such stat, or it is not an integer
     */
    long stat(String name);

    /**
     * Counts of {@code get}s memcached saw for keys that start with {@code prefix} followed by {@code :} (its
     * per-prefix statistics, {@code stats detail}); the first call turns those statistics on, so only later commands
     * count. For telling a client's background calls (e.g. keys {@code msm:...}) from its per-request ones.
     *
     * @param prefix the part of the key before its first {@code :}
     * @return gets for keys of that prefix since the statistics were turned on
     */
    long prefixGets(String prefix);

    /**
     * Returns {@code curr_connections}, which includes the probe connection that asks for it; an idle server
     * without clients reports {@link #IDLE_CONNECTIONS}, with or without TLS. memcached counts every listening
     * socket but the first in {@code curr_connections} (measured with 1.6.18: an idle server with two {@code -l}
     * reports 2), so for a TLS server, which has a second listener for its plain-text port, this is
     * {@code curr_connections} less one; {@link #stats()} has the raw value.
     *
     * @return the number of open connections as memcached counts them, the probe's included
     */
    long currentConnections();

    /**
     * Returns the server's version string, as answered to {@code version}.
     *
     * @return e.g. {@code "1.6.18"}
     */
    String version();

    /** Invalidates all items ({@code flush_all}). */
    void flushAll();

    /**
     * Reads one item with a text-protocol {@code get}.
     *
     * @param key the key (1 to 250 bytes of UTF-8, no whitespace or control characters)
     * @return the value, or {@code null} when the key is missing
     */
    byte[] get(String key);

    /**
     * Stores one item with a text-protocol {@code set} and flags 0.
     *
     * @param key            the key (1 to 250 bytes of UTF-8, no whitespace or control characters)
     * @param value          the value
     * @param exptimeSeconds expiration as memcached understands it; 0 means never
     */
    void set(String key, byte[] value, int exptimeSeconds);

    /**
     * Lists all live keys with {@code lru_crawler metadump all} (memcached 1.4.31 and later; requires the LRU
     * crawler, which is on by default).
     *
     * @return the keys, decoded from the dump's URL encoding
     */
    Set<String> keys();
}
