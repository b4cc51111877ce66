package io.msm.demo;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A memcached child process on a loopback port, killable with SIGKILL and restartable on the same port. */
final class MemcachedProcess {
    final String id;
    final int port;
    private final Path binary;
    private Process process;

    private MemcachedProcess(String id, int port, Path binary) {
        this.id = id;
        this.port = port;
        this.binary = binary;
    }

    /** The memcached binary on PATH (or /usr/bin, /usr/local/bin), or null. */
    static Path findBinary() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin:/usr/local/bin";
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Paths.get(dir.isEmpty() ? "." : dir, "memcached");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    static MemcachedProcess start(String id, Path binary) throws IOException, InterruptedException {
        MemcachedProcess m = new MemcachedProcess(id, freePort(), binary);
        m.start();
        return m;
    }

    void start() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "-l", "127.0.0.1", "-p", String.valueOf(port),
                "-U", "0", "-m", "64"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.addAll(List.of("-u", "root")); // memcached refuses to run as root without it
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try {
                new Socket("127.0.0.1", port).close();
                return;
            } catch (IOException notYet) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("memcached " + id + " did not start on 127.0.0.1:" + port);
                }
                Thread.sleep(20);
            }
        }
    }

    long pid() {
        return process.pid();
    }

    /** kill -9. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
    }

    void stop() {
        if (process != null) {
            process.destroyForcibly();
        }
    }

    String node() {
        return id + ":127.0.0.1:" + port;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
