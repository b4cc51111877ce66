package io.msm.packaging;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

/** A balancer (nginx, httpd) run in the foreground on a loopback port, its logs under its directory. */
abstract class Balancer implements AutoCloseable {
    final int port;
    private final Path dir;
    private final Process process;

    Balancer(int port, Path dir, Process process) {
        this.port = port;
        this.dir = dir;
        this.process = process;
    }

    /** The first executable of these names on PATH, /usr/sbin or /usr/local/sbin, or null. */
    static Path onPath(String... names) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/usr/local/sbin";
        for (String name : names) {
            for (String d : path.split(File.pathSeparator)) {
                Path candidate = Paths.get(d, name);
                if (!d.isEmpty() && Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /** Waits (10 s at most) until the balancer listens; fails with its logs and configuration if it does not. */
    void awaitListening(String conf) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError(getClass().getSimpleName() + " exited:\n" + log() + "\n" + conf);
            }
            try {
                new Socket("127.0.0.1", port).close();
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    close();
                    throw new AssertionError(getClass().getSimpleName() + " not listening:\n" + log());
                }
                Thread.sleep(50); // poll interval of a wait bounded by its deadline
            }
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /** Its console output and error log. */
    String log() {
        StringBuilder sb = new StringBuilder();
        for (String f : new String[] {"logs/console.log", "logs/error.log"}) {
            try {
                sb.append(Files.readString(dir.resolve(f)));
            } catch (IOException e) {
                sb.append("(no ").append(f).append(")\n");
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        process.destroy(); // SIGTERM: nginx and httpd stop their workers and exit
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
