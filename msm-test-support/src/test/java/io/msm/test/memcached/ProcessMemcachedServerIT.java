package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start failures of the process backend are reported with the command line, exit code and output. */
class ProcessMemcachedServerIT {

    private static Path binary;

    @TempDir
    Path logs;

    @BeforeAll
    static void findBinary() {
        MemcachedBackend backend = MemcachedBackend.select(MemcachedBackend.Environment.system());
        assumeFalse(backend.isDocker(), "needs a memcached binary");
        binary = backend.binary();
    }

    @Test
    void badArgumentFailsOnceWithCommandLineExitCodeAndOutput() {
        ProcessMemcachedServer server = new ProcessMemcachedServer(0, binary, List.of("--no-such-option"), logs);
        long start = System.nanoTime();
        IllegalStateException e = assertThrows(IllegalStateException.class, server::startOnFreePort);
        String message = e.getMessage();
        assertTrue(message.contains(binary + " -l 127.0.0.1 -p "), message);
        assertTrue(message.contains("--no-such-option"), message);
        assertTrue(message.contains("exited with code "), message);
        assertTrue(message.contains("unrecognized option"), message);
        assertTrue(message.contains("(1 attempt)"), "a configuration error is not retried: " + message);
        assertTrue(System.nanoTime() - start < 4_000_000_000L, "fails fast");
    }

    @Test
    void restartOnAnOccupiedPortFailsClearlyAndSucceedsOnceTheBlockerIsGone() throws IOException {
        ProcessMemcachedServer server = new ProcessMemcachedServer(0, binary, List.of(), logs);
        server.startOnFreePort();
        int port = server.port();
        try {
            server.kill();
            try (ServerSocket blocker = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
                IllegalStateException e = assertThrows(IllegalStateException.class, server::start);
                assertTrue(e.getMessage().contains("Address already in use"), e.getMessage());
                assertTrue(e.getMessage().contains("exited with code 71"), e.getMessage());
                assertTrue(e.getMessage().contains("-p " + port), e.getMessage());
                assertTrue(blocker.isBound());
            }
            server.start();
            assertEquals(port, server.port());
            assertTrue(server.version().startsWith("1."));
        } finally {
            server.kill();
        }
    }

    @Test
    void firstStartMovesToAnotherPortWhenTheChosenOneIsTaken() throws IOException {
        // A wrapper that makes the first attempt fail like a lost port race, then behaves like memcached.
        Path marker = logs.resolve("first-attempt-done");
        Path wrapper = logs.resolve("flaky-memcached");
        java.nio.file.Files.writeString(wrapper, "#!/bin/sh\n"
                + "if [ ! -e '" + marker + "' ]; then touch '" + marker + "';"
                + " echo 'failed to listen on one of interface(s) 127.0.0.1: Address already in use' >&2; exit 71; fi\n"
                + "exec '" + binary + "' \"$@\"\n");
        assertTrue(wrapper.toFile().setExecutable(true));
        ProcessMemcachedServer server = new ProcessMemcachedServer(0, wrapper, List.of(), logs);
        try {
            String description = server.startOnFreePort();
            assertTrue(description.contains("127.0.0.1:" + server.port()), description);
            assertTrue(java.nio.file.Files.exists(marker));
            assertTrue(server.version().startsWith("1."));
        } finally {
            server.kill();
        }
    }

    @Test
    void wrapperScriptThatDoesNotExecIsControlledThroughItsMemcachedChild() throws IOException {
        Path wrapper = logs.resolve("wrapping-memcached");
        java.nio.file.Files.writeString(wrapper, "#!/bin/sh\n'" + binary + "' \"$@\"\necho wrapper-done\n");
        assertTrue(wrapper.toFile().setExecutable(true));
        ProcessMemcachedServer server = new ProcessMemcachedServer(0, wrapper, List.of(), logs);
        try {
            server.startOnFreePort();
            server.set("k", new byte[] {1}, 0);
            server.pause();
            assertTrue(server.isPaused());
            server.resume();
            assertEquals(1, server.get("k")[0]);
            server.kill();
            assertFalse(server.isRunning());
            server.start();
            assertNull(server.get("k"));
            server.stop();
            assertFalse(server.isRunning());
        } finally {
            server.kill();
        }
    }

    @Test
    void commandLineListensOnLoopbackOnly() {
        ProcessMemcachedServer server = new ProcessMemcachedServer(0, binary, List.of("-vv"), logs);
        List<String> command = server.command(12345);
        assertEquals(List.of(binary.toString(), "-l", "127.0.0.1", "-p", "12345", "-U", "0", "-m", "64", "-t", "1",
                "-c", "1024"), command.subList(0, 13));
        assertEquals("-vv", command.get(command.size() - 1));
    }
}
