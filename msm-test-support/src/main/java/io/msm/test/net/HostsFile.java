package io.msm.test.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The test JVM's own DNS: writes the hosts file the JDK resolves every name from when started with
 * {@code -Djdk.net.hosts.file=<file>}, so a test can point a host name at one local memcached and then another, or
 * at nothing, as DNS does when a node is replaced.
 *
 * <pre>{@code
 * HostsFile.set(Map.of("mc.test", List.of("127.0.0.2")));  // mc.test -> 127.0.0.2
 * HostsFile.set(Map.of("mc.test", List.of("127.0.0.3")));  // moved
 * HostsFile.set(Map.of());                                 // mc.test does not resolve (localhost still does)
 * }</pre>
 *
 * <p>With that property the JDK asks no DNS server at all: a name not in the file does not resolve. The JDK reads
 * the file at each lookup, but keeps answers in its own cache: for a rewrite to be seen at the next lookup the JVM
 * also needs the security properties {@code networkaddress.cache.ttl=0} and {@code networkaddress.cache.negative.ttl=0}
 * (in a file named by {@code -Djava.security.properties}: the JDK's own {@code java.security} sets the negative one to
 * 10 s, which {@code -Dsun.net.inetaddr.negative.ttl=0} does not override, so a name that did not resolve would stay
 * unresolved for 10 s). The JDK reads all of them once, when it first resolves a name: command-line options. Every
 * file written names {@code localhost} too (127.0.0.1), unless the map does.
 *
 * <p>Each write goes to a temporary file in the same directory that is then moved over the hosts file, so a lookup
 * never reads a half-written file.
 */
public final class HostsFile {
    /** The system property that names the file. */
    public static final String PROPERTY = "jdk.net.hosts.file";

    private HostsFile() {
    }

    /**
     * Replaces the hosts file's contents.
     *
     * @param names each host name and the addresses it resolves to (IP literals), in order
     * @throws IllegalStateException the JVM was not started with {@code -Djdk.net.hosts.file}
     * @throws IllegalArgumentException a name or address is empty or contains whitespace or {@code #}
     * @throws UncheckedIOException the file could not be written
     */
    public static void set(Map<String, List<String>> names) {
        Path file = file();
        StringBuilder text = new StringBuilder("# written by io.msm.test.net.HostsFile\n");
        Map<String, List<String>> sorted = new TreeMap<>(names);
        if (!sorted.containsKey("localhost")) {
            text.append("127.0.0.1 localhost\n");
        }
        for (Map.Entry<String, List<String>> e : sorted.entrySet()) {
            check("host name", e.getKey());
            for (String address : e.getValue()) {
                check("address of " + e.getKey(), address);
                text.append(address).append(' ').append(e.getKey()).append('\n');
            }
        }
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path temp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            try {
                Files.writeString(temp, text, StandardCharsets.UTF_8);
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(temp); // only if the move failed
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the hosts file " + file + " (" + PROPERTY + ")", e);
        }
    }

    /**
     * The file {@code -Djdk.net.hosts.file} names.
     *
     * @throws IllegalStateException the property is not set
     */
    public static Path file() {
        String name = System.getProperty(PROPERTY);
        if (name == null || name.isBlank()) {
            throw new IllegalStateException("system property " + PROPERTY + " is not set: start the JVM with -D"
                    + PROPERTY + "=<file> and no DNS cache (as msm-core's failsafe execution dns-integration-tests"
                    + " runs *DnsIT)");
        }
        return Path.of(name);
    }

    private static void check(String what, String value) {
        if (value == null || value.isEmpty() || value.chars().anyMatch(c -> c <= ' ' || c == '#')) {
            throw new IllegalArgumentException("invalid " + what + ": '" + value + "'");
        }
    }
}
