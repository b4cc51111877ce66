package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A JVM that exits without stopping its servers still leaves no memcached behind. */
class ShutdownHookIT {

    /** Child JVM: starts two servers, prints their ports, and exits without shutting them down. */
    public static void main(String[] args) {
        MemcachedExtension extension = MemcachedExtension.servers(2);
        extension.startAll();
        for (MemcachedServer server : extension.servers()) {
            System.out.println("PORT " + server.port());
        }
        System.out.flush();
        System.exit(0);
    }

    @Test
    void serversDieWithTheJvm() throws Exception {
        assumeFalse(MemcachedBackend.select(MemcachedBackend.Environment.system()).isDocker(),
                "needs a memcached binary");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                ShutdownHookIT.class.getName())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        List<Integer> ports = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("PORT ")) {
                    ports.add(Integer.parseInt(line.substring(5)));
                }
            }
        } finally {
            if (!child.waitFor(30, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
        assertEquals(0, child.exitValue());
        assertEquals(2, ports.size(), "ports printed by the child: " + ports);
        for (int port : ports) {
            awaitRefused(port);
        }
    }

    private static void awaitRefused(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            } catch (ConnectException refused) {
                return;
            } catch (IOException other) {
                // keep polling
            }
            Thread.sleep(20); // poll interval of a wait bounded by its deadline
        }
        assertThrows(ConnectException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            }
        }, "memcached on port " + port + " outlived its JVM");
    }
}
