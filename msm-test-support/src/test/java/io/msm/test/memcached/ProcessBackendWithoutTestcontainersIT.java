package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.platform.commons.util.ReflectionUtils;
import org.opentest4j.AssertionFailedError;

/**
 * The process backend must never need Testcontainers: run it in a class loader that has this module's classes and
 * the JUnit API, but no Testcontainers (nor anything else from the test class path).
 */
class ProcessBackendWithoutTestcontainersIT {

    @Test
    void processBackendRunsWithoutTestcontainersOnTheClassPath() throws Exception {
        assumeFalse(MemcachedBackend.select(MemcachedBackend.Environment.system()).isDocker(),
                "needs a memcached binary");
        URL[] urls = {
            location(MemcachedExtension.class),
            location(BeforeAllCallback.class),
            location(ReflectionUtils.class),
            location(AssertionFailedError.class),
        };
        try (RecordingLoader loader = new RecordingLoader(urls)) {
            Class<?> extensionClass = Class.forName(MemcachedExtension.class.getName(), true, loader);
            assertNotSame(MemcachedExtension.class, extensionClass);
            Object extension = extensionClass.getMethod("servers", int.class).invoke(null, 1);
            Method startAll = extensionClass.getDeclaredMethod("startAll");
            Method shutdownAll = extensionClass.getDeclaredMethod("shutdownAll");
            startAll.setAccessible(true);
            shutdownAll.setAccessible(true);
            startAll.invoke(extension);
            try {
                Object server = extensionClass.getMethod("server", int.class).invoke(extension, 0);
                Class<?> serverInterface = Class.forName(MemcachedServer.class.getName(), false, loader);
                byte[] value = "v".getBytes(StandardCharsets.UTF_8);
                serverInterface.getMethod("set", String.class, byte[].class, int.class).invoke(server, "k", value, 0);
                assertEquals("v", new String((byte[]) serverInterface.getMethod("get", String.class)
                        .invoke(server, "k"), StandardCharsets.UTF_8));
                serverInterface.getMethod("kill").invoke(server);
                assertFalse((Boolean) serverInterface.getMethod("isRunning").invoke(server));
                serverInterface.getMethod("start").invoke(server);
                assertTrue((Boolean) serverInterface.getMethod("isRunning").invoke(server));
            } finally {
                shutdownAll.invoke(extension);
            }
            assertTrue(loader.requested.contains(ProcessMemcachedServer.class.getName()), "sanity: recording works");
            assertFalse(loader.requested.contains(DockerMemcachedServer.class.getName()),
                    "the process backend loaded DockerMemcachedServer");
            List<String> testcontainers = loader.requested.stream()
                    .filter(n -> n.startsWith("org.testcontainers.") || n.startsWith("com.github.dockerjava."))
                    .collect(Collectors.toList());
            assertEquals(List.of(), testcontainers, "the process backend asked for Testcontainers classes");
            assertThrows(ClassNotFoundException.class,
                    () -> Class.forName("org.testcontainers.DockerClientFactory", false, loader),
                    "sanity: Testcontainers is really absent from this loader");
        }
    }

    /** A parent-last loader (its parent is the platform loader) that records every class name asked of it. */
    private static final class RecordingLoader extends URLClassLoader {
        final Set<String> requested = ConcurrentHashMap.newKeySet();

        RecordingLoader(URL[] urls) {
            super(urls, ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            requested.add(name);
            return super.loadClass(name, resolve);
        }
    }

    private static URL location(Class<?> type) {
        return type.getProtectionDomain().getCodeSource().getLocation();
    }
}
