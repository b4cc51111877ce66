package io.msm.test.memcached;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * Decides how test servers are run: a local memcached binary, or (only when none is found) Docker through
 * Testcontainers.
 *
 * <p>Binary lookup order:
 * <ol>
 * <li>system property {@value #BIN_PROPERTY},</li>
 * <li>environment variable {@value #BIN_ENV},</li>
 * <li>{@code memcached} in a directory of {@code PATH},</li>
 * <li>{@code /usr/bin/memcached}, {@code /usr/local/bin/memcached}, {@code /usr/sbin/memcached}.</li>
 * </ol>
 * A value of the property or variable is a path, or a bare command name looked up on {@code PATH}; a value that
 * names no executable file is an error rather than silently ignored. The system property {@value #BACKEND_PROPERTY}
 * ({@code auto}, {@code process} or {@code docker}; default {@code auto}) forces one backend.
 */
final class MemcachedBackend {

    /** System property naming the memcached binary. */
    static final String BIN_PROPERTY = "memcached.bin";
    /** Environment variable naming the memcached binary. */
    static final String BIN_ENV = "MEMCACHED_BIN";
    /** System property forcing a backend: {@code auto}, {@code process} or {@code docker}. */
    static final String BACKEND_PROPERTY = "memcached.backend";
    /** Where a binary is looked for when it is not on {@code PATH}. */
    static final List<String> WELL_KNOWN_LOCATIONS =
            List.of("/usr/bin/memcached", "/usr/local/bin/memcached", "/usr/sbin/memcached");

    /** The one message for "neither a binary nor Docker". */
    static final String NOTHING_AVAILABLE = "No memcached available for tests: install the memcached binary"
            + " (apt-get install -y memcached) or set MEMCACHED_BIN / -Dmemcached.bin=/path/to/memcached,"
            + " or run where Docker is available for the Testcontainers fallback (image "
            + "memcached:1.6-alpine).";

    /** What the selection reads from the outside world; replaced by a fake in unit tests. */
    interface Environment {

        /**
         * Reads a system property.
         *
         * @param name the property
         * @return its value or {@code null}
         */
        String systemProperty(String name);

        /**
         * Reads an environment variable.
         *
         * @param name the variable
         * @return its value or {@code null}
         */
        String env(String name);

        /**
         * Tells whether a path is an executable regular file.
         *
         * @param file the path
         * @return {@code true} if it can be executed
         */
        boolean isExecutableFile(Path file);

        /**
         * Tells whether Docker is usable; called only when no binary was found.
         *
         * @return {@code true} if containers can be started
         */
        boolean dockerAvailable();

        /**
         * The real environment. The Docker check loads Testcontainers lazily, and reports {@code false} when
         * Testcontainers is not on the class path.
         *
         * @return the environment of this JVM
         */
        static Environment system() {
            return of(System::getProperty, System::getenv, MemcachedBackend::executableFile,
                    MemcachedBackend::dockerAvailableViaTestcontainers);
        }

        /**
         * Assembles an environment from functions.
         *
         * @param properties system property lookup
         * @param env        environment variable lookup
         * @param executable executable-file test
         * @param docker     Docker availability
         * @return the environment
         */
        static Environment of(java.util.function.Function<String, String> properties,
                java.util.function.Function<String, String> env,
                java.util.function.Predicate<Path> executable, BooleanSupplier docker) {
            return new Environment() {
                @Override
                public String systemProperty(String name) {
                    return properties.apply(name);
                }

                @Override
                public String env(String name) {
                    return env.apply(name);
                }

                @Override
                public boolean isExecutableFile(Path file) {
                    return executable.test(file);
                }

                @Override
                public boolean dockerAvailable() {
                    return docker.getAsBoolean();
                }
            };
        }
    }

    private final Path binary;
    private final String source;

    private MemcachedBackend(Path binary, String source) {
        this.binary = binary;
        this.source = source;
    }

    /**
     * Selects the backend.
     *
     * @param environment where to look
     * @return the binary backend, or the Docker backend when no binary is found and Docker is available
     * @throws IllegalStateException with {@link #NOTHING_AVAILABLE} when neither is available, or a specific
     *                               message when {@value #BIN_PROPERTY} / {@value #BIN_ENV} name no executable,
     *                               or when a forced backend is unavailable
     */
    static MemcachedBackend select(Environment environment) {
        String forced = trimToNull(environment.systemProperty(BACKEND_PROPERTY));
        String mode = forced == null ? "auto" : forced.toLowerCase(Locale.ROOT);
        switch (mode) {
            case "auto":
            case "process":
            case "docker":
                break;
            default:
                throw new IllegalStateException("-D" + BACKEND_PROPERTY + "=" + forced
                        + " is not one of auto, process, docker");
        }
        if (!mode.equals("docker")) {
            MemcachedBackend found = findBinary(environment);
            if (found != null) {
                return found;
            }
        }
        if (mode.equals("process")) {
            throw new IllegalStateException("-D" + BACKEND_PROPERTY + "=" + forced + ", but " + NOTHING_AVAILABLE);
        }
        if (environment.dockerAvailable()) {
            return new MemcachedBackend(null, "Docker (Testcontainers, " + DockerMemcachedServer.IMAGE + ")");
        }
        if (mode.equals("docker")) {
            throw new IllegalStateException("-D" + BACKEND_PROPERTY + "=" + forced + ", but Docker is not available. "
                    + NOTHING_AVAILABLE);
        }
        throw new IllegalStateException(NOTHING_AVAILABLE);
    }

    private static MemcachedBackend findBinary(Environment environment) {
        String property = trimToNull(environment.systemProperty(BIN_PROPERTY));
        if (property != null) {
            return configured(environment, property, "system property " + BIN_PROPERTY);
        }
        String env = trimToNull(environment.env(BIN_ENV));
        if (env != null) {
            return configured(environment, env, "environment variable " + BIN_ENV);
        }
        Path onPath = searchPath(environment, "memcached");
        if (onPath != null) {
            return new MemcachedBackend(onPath, "PATH");
        }
        for (String location : WELL_KNOWN_LOCATIONS) {
            Path candidate = Path.of(location);
            if (environment.isExecutableFile(candidate)) {
                return new MemcachedBackend(candidate, location);
            }
        }
        return null;
    }

    private static MemcachedBackend configured(Environment environment, String value, String source) {
        Path binary = null;
        if (value.indexOf('/') < 0 && value.indexOf(File.separatorChar) < 0) {
            binary = searchPath(environment, value);
        } else {
            try {
                Path candidate = Path.of(value);
                if (environment.isExecutableFile(candidate)) {
                    binary = candidate;
                }
            } catch (InvalidPathException e) {
                // reported below
            }
        }
        if (binary == null) {
            throw new IllegalStateException(source + " is set to '" + value
                    + "', which is not an executable memcached binary. Fix or unset it.");
        }
        return new MemcachedBackend(binary, source);
    }

    private static Path searchPath(Environment environment, String command) {
        String path = environment.env("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            try {
                Path candidate = Path.of(dir, command);
                if (environment.isExecutableFile(candidate)) {
                    return candidate;
                }
            } catch (InvalidPathException e) {
                // skip malformed PATH entries
            }
        }
        return null;
    }

    private static String trimToNull(String s) {
        if (s == null) {
            return null;
        }
        String trimmed = s.trim();
        return trimmed.isEmpty() ? null : trimmed;
    }

    private static boolean executableFile(Path file) {
        return Files.isRegularFile(file) && Files.isExecutable(file);
    }

    private static boolean dockerAvailableViaTestcontainers() {
        try {
            return DockerMemcachedServer.isDockerAvailable();
        } catch (LinkageError e) {
            return false; // Testcontainers excluded from the class path
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Tells whether servers run in Docker.
     *
     * @return {@code true} for the Testcontainers fallback
     */
    boolean isDocker() {
        return binary == null;
    }

    /**
     * Returns the memcached binary.
     *
     * @return the binary, or {@code null} for Docker
     */
    Path binary() {
        return binary;
    }

    /**
     * Describes where the backend came from, for messages.
     *
     * @return e.g. {@code "PATH"} or {@code "environment variable MEMCACHED_BIN"}
     */
    String source() {
        return source;
    }

    @Override
    public String toString() {
        return isDocker() ? source : binary + " (from " + source + ")";
    }
}
