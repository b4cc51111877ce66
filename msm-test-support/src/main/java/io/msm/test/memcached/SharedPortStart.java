package io.msm.test.memcached;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

/**
 * Starts the servers of {@link MemcachedExtension#onLoopbackAddresses}: one per loopback address, all on one port
 * (and one plain-text port with TLS) that was free on every address when drawn. If one server cannot bind its port
 * (taken meanwhile), all started so far are killed and all start again on new ports, at most
 * {@link AbstractMemcachedServer#PORT_ATTEMPTS} times.
 */
final class SharedPortStart {

    private SharedPortStart() {
    }

    /**
     * Checks the addresses of {@link MemcachedExtension#onLoopbackAddresses}.
     *
     * @throws IllegalArgumentException not one per server, one not an IPv4 loopback literal, or two the same
     */
    static void check(int count, String... addresses) {
        if (addresses.length != count) {
            throw new IllegalArgumentException(addresses.length + " loopback addresses for " + count + " servers: "
                    + Arrays.toString(addresses));
        }
        for (String address : addresses) {
            if (address == null || !address.matches("127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}")) {
                throw new IllegalArgumentException("not an IPv4 loopback address (127.x.y.z): '" + address + "'");
            }
        }
        if (new HashSet<>(Arrays.asList(addresses)).size() != addresses.length) {
            throw new IllegalArgumentException("loopback addresses must differ: " + Arrays.toString(addresses));
        }
    }

    /**
     * Starts one process server per address, in order, each printing its start line to {@code System.err}.
     *
     * @return the started servers
     * @throws IllegalStateException no attempt started them all
     */
    static List<AbstractMemcachedServer> start(List<String> addresses, Path binary, List<String> extraArgs,
            MemcachedTls tls, Path logDir) {
        String lastFailure = null;
        int attempts = 0;
        while (attempts < AbstractMemcachedServer.PORT_ATTEMPTS) {
            attempts++;
            int[] ports = AbstractMemcachedServer.freePorts(addresses, tls == null ? 1 : 2);
            int plainPort = tls == null ? -1 : ports[1];
            List<AbstractMemcachedServer> started = new ArrayList<>(addresses.size());
            try {
                for (int i = 0; i < addresses.size(); i++) {
                    ProcessMemcachedServer server =
                            new ProcessMemcachedServer(i, addresses.get(i), binary, extraArgs, tls, logDir);
                    String description = server.startOnPorts(ports[0], plainPort);
                    started.add(server);
                    System.err.println(description);
                }
                return started;
            } catch (ProcessMemcachedServer.StartFailure failure) {
                killAll(started, null);
                lastFailure = failure.getMessage();
                if (!failure.portProblem) {
                    break;
                }
            } catch (RuntimeException | Error e) {
                killAll(started, e);
                throw e;
            }
        }
        throw new IllegalStateException("Could not start memcached on " + addresses + " (" + attempts
                + (attempts == 1 ? " attempt" : " attempts, each on a new port") + "): " + lastFailure);
    }

    private static void killAll(List<AbstractMemcachedServer> servers, Throwable failure) {
        for (AbstractMemcachedServer server : servers) {
            try {
                server.kill();
            } catch (RuntimeException suppressed) {
                if (failure != null) {
                    failure.addSuppressed(suppressed);
                }
            }
        }
    }
}
