package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The binary lookup order and the Docker fallback decision, with a fake environment (no Docker needed). */
class MemcachedBackendSelectionTest {

    /** A controllable environment that records whether Docker was asked. */
    private static final class FakeEnvironment implements MemcachedBackend.Environment {
        final Map<String, String> properties = new HashMap<>();
        final Map<String, String> env = new HashMap<>();
        final Set<Path> executables = new HashSet<>();
        boolean docker;
        int dockerQueries;

        FakeEnvironment executable(String... paths) {
            for (String path : paths) {
                executables.add(Path.of(path));
            }
            return this;
        }

        @Override
        public String systemProperty(String name) {
            return properties.get(name);
        }

        @Override
        public String env(String name) {
            return env.get(name);
        }

        @Override
        public boolean isExecutableFile(Path file) {
            return executables.contains(file);
        }

        @Override
        public boolean dockerAvailable() {
            dockerQueries++;
            return docker;
        }
    }

    private static Path binaryOf(FakeEnvironment environment) {
        MemcachedBackend backend = MemcachedBackend.select(environment);
        assertFalse(backend.isDocker(), "expected the process backend, got " + backend);
        assertEquals(0, environment.dockerQueries, "Docker must not be consulted when a binary is found");
        return backend.binary();
    }

    private static FakeEnvironment everythingConfigured() {
        FakeEnvironment environment = new FakeEnvironment().executable("/opt/prop/memcached", "/opt/env/memcached",
                "/opt/path/memcached", "/usr/bin/memcached", "/usr/local/bin/memcached", "/usr/sbin/memcached");
        environment.properties.put("memcached.bin", "/opt/prop/memcached");
        environment.env.put("MEMCACHED_BIN", "/opt/env/memcached");
        environment.env.put("PATH", "/opt/path");
        environment.docker = true;
        return environment;
    }

    @Test
    void systemPropertyComesFirst() {
        assertEquals(Path.of("/opt/prop/memcached"), binaryOf(everythingConfigured()));
    }

    @Test
    void environmentVariableComesSecond() {
        FakeEnvironment environment = everythingConfigured();
        environment.properties.remove("memcached.bin");
        assertEquals(Path.of("/opt/env/memcached"), binaryOf(environment));
    }

    @Test
    void blankSettingsCountAsUnset() {
        FakeEnvironment environment = everythingConfigured();
        environment.properties.put("memcached.bin", "  ");
        environment.env.put("MEMCACHED_BIN", "");
        assertEquals(Path.of("/opt/path/memcached"), binaryOf(environment));
    }

    @Test
    void pathComesThirdAndIsSearchedInOrder() {
        FakeEnvironment environment = everythingConfigured();
        environment.properties.remove("memcached.bin");
        environment.env.remove("MEMCACHED_BIN");
        environment.executable("/second/memcached", "/first/memcached");
        environment.env.put("PATH", "/not-there:/first::/second:/opt/path");
        assertEquals(Path.of("/first/memcached"), binaryOf(environment));
    }

    @Test
    void nonExecutableFilesOnPathAreSkipped() {
        FakeEnvironment environment = new FakeEnvironment().executable("/b/memcached");
        environment.env.put("PATH", "/a:/b");
        assertEquals(Path.of("/b/memcached"), binaryOf(environment));
    }

    @Test
    void wellKnownLocationsComeLastInOrder() {
        FakeEnvironment environment = new FakeEnvironment()
                .executable("/usr/sbin/memcached", "/usr/local/bin/memcached", "/usr/bin/memcached");
        environment.env.put("PATH", "/nowhere");
        assertEquals(Path.of("/usr/bin/memcached"), binaryOf(environment));

        environment.executables.remove(Path.of("/usr/bin/memcached"));
        assertEquals(Path.of("/usr/local/bin/memcached"), binaryOf(environment));

        environment.executables.remove(Path.of("/usr/local/bin/memcached"));
        assertEquals(Path.of("/usr/sbin/memcached"), binaryOf(environment));
    }

    @Test
    void missingPathVariableIsTolerated() {
        FakeEnvironment environment = new FakeEnvironment().executable("/usr/local/bin/memcached");
        assertEquals(Path.of("/usr/local/bin/memcached"), binaryOf(environment));
    }

    @Test
    void bareCommandNameInSettingIsLookedUpOnPath() {
        FakeEnvironment environment = new FakeEnvironment().executable("/opt/mc/memcached-1.6");
        environment.env.put("PATH", "/usr/bin:/opt/mc");
        environment.env.put("MEMCACHED_BIN", "memcached-1.6");
        assertEquals(Path.of("/opt/mc/memcached-1.6"), binaryOf(environment));
    }

    @Test
    void settingThatNamesNoExecutableIsAnErrorNotAFallback() {
        FakeEnvironment environment = everythingConfigured();
        environment.properties.put("memcached.bin", "/wrong/memcached");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemcachedBackend.select(environment));
        assertTrue(e.getMessage().contains("system property memcached.bin"), e.getMessage());
        assertTrue(e.getMessage().contains("/wrong/memcached"), e.getMessage());
        assertEquals(0, environment.dockerQueries);

        environment.properties.remove("memcached.bin");
        environment.env.put("MEMCACHED_BIN", "/also/wrong");
        e = assertThrows(IllegalStateException.class, () -> MemcachedBackend.select(environment));
        assertTrue(e.getMessage().contains("environment variable MEMCACHED_BIN"), e.getMessage());
        assertTrue(e.getMessage().contains("/also/wrong"), e.getMessage());
    }

    @Test
    void dockerIsTheFallbackWhenNoBinaryIsFound() {
        FakeEnvironment environment = new FakeEnvironment();
        environment.env.put("PATH", "/usr/bin:/bin");
        environment.docker = true;
        MemcachedBackend backend = MemcachedBackend.select(environment);
        assertTrue(backend.isDocker());
        assertEquals(1, environment.dockerQueries);
        assertTrue(backend.toString().contains("memcached:1.6-alpine"), backend.toString());
    }

    @Test
    void neitherBinaryNorDockerGivesOneClearMessage() {
        FakeEnvironment environment = new FakeEnvironment();
        environment.env.put("PATH", "/usr/bin:/bin");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemcachedBackend.select(environment));
        assertEquals(MemcachedBackend.NOTHING_AVAILABLE, e.getMessage());
        assertTrue(e.getMessage().startsWith("No memcached available for tests"), e.getMessage());
        for (String hint : new String[] {"apt-get install -y memcached", "MEMCACHED_BIN", "-Dmemcached.bin=",
            "Docker", "Testcontainers"}) {
            assertTrue(e.getMessage().contains(hint), "message should mention " + hint + ": " + e.getMessage());
        }
        assertEquals(1, environment.dockerQueries);
    }

    @Test
    void backendPropertyForcesDockerEvenWithABinary() {
        FakeEnvironment environment = everythingConfigured();
        environment.properties.put("memcached.backend", "Docker");
        assertTrue(MemcachedBackend.select(environment).isDocker());

        environment.docker = false;
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemcachedBackend.select(environment));
        assertTrue(e.getMessage().contains("memcached.backend=Docker"), e.getMessage());
        assertTrue(e.getMessage().contains("Docker is not available"), e.getMessage());
    }

    @Test
    void backendPropertyProcessNeverFallsBackToDocker() {
        FakeEnvironment environment = new FakeEnvironment();
        environment.docker = true;
        environment.properties.put("memcached.backend", "process");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemcachedBackend.select(environment));
        assertTrue(e.getMessage().contains(MemcachedBackend.NOTHING_AVAILABLE), e.getMessage());
        assertEquals(0, environment.dockerQueries);

        environment.executable("/usr/bin/memcached");
        assertEquals(Path.of("/usr/bin/memcached"), binaryOf(environment));
    }

    @Test
    void unknownBackendValueIsRejected() {
        FakeEnvironment environment = everythingConfigured();
        environment.properties.put("memcached.backend", "podman");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemcachedBackend.select(environment));
        assertTrue(e.getMessage().contains("podman"), e.getMessage());
    }

    @Test
    void realEnvironmentAnswersWithoutThrowingForBinaryLookups() {
        MemcachedBackend.Environment system = MemcachedBackend.Environment.system();
        assertFalse(system.isExecutableFile(Path.of("/definitely/not/here/memcached")));
        assertEquals(System.getProperty("java.home"), system.systemProperty("java.home"));
    }
}
