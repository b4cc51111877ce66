package io.msm.test.memcached;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a {@link ProcessMemcachedServer}: loopback listeners on the chosen ports, no UDP, a small
 * memory and thread budget, {@code -u root} when the tests run as root (memcached refuses root otherwise), then the
 * TLS arguments, then the extra ones.
 */
final class ProcessCommandLine {

    private ProcessCommandLine() {
    }

    /**
     * Builds the command line. A server without TLS listens with {@code -l <host> -p <port>}; a TLS server gets a
     * TLS listener on {@code host:port} and a {@code notls:} one on {@code host:plainPort}, and the
     * {@link MemcachedTls#memcachedArgs() TLS arguments} come before the extra ones, so that those may add further
     * {@code -o ssl_...} options.
     *
     * @param binary    the memcached binary
     * @param host      the loopback address it listens on
     * @param extraArgs the extension's extra arguments
     * @param tls       the TLS setting, or {@code null}
     * @param port      the main port
     * @param plainPort the plain-text port of a TLS server, else ignored
     * @return the command line
     */
    static List<String> of(Path binary, String host, List<String> extraArgs, MemcachedTls tls, int port,
            int plainPort) {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        if (tls == null) {
            command.addAll(List.of("-l", host));
        } else {
            command.addAll(List.of("-l", host + ":" + port, "-l", "notls:" + host + ":" + plainPort));
        }
        command.addAll(List.of("-p", String.valueOf(port), "-U", "0", "-m", "64", "-t", "1", "-c", "1024"));
        if (runningAsRoot() && !extraArgs.contains("-u") && extraArgs.stream().noneMatch(a -> a.startsWith("--user"))) {
            // memcached refuses to start as root unless told which user to run as.
            command.add("-u");
            command.add("root");
        }
        if (tls != null) {
            command.addAll(tls.memcachedArgs());
        }
        command.addAll(extraArgs);
        return command;
    }

    private static boolean runningAsRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
                if (line.startsWith("Uid:")) {
                    String[] ids = line.substring(4).trim().split("\\s+");
                    return ids[0].equals("0") || (ids.length > 1 && ids[1].equals("0"));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return "root".equals(System.getProperty("user.name"));
    }
}
