package io.msm.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A Tomcat with msm in a child JVM ({@link ForkedTomcatMain}), killable with SIGKILL like a crashed server. */
final class ForkedTomcat implements AutoCloseable {
    private static final String EXITED = "(the forked Tomcat exited)";

    private final Process process;
    private final int port;
    /** The child's answers to {@link ForkedTomcatMain#IDLE_QUESTION}; {@link #EXITED} once its output ended. */
    private final BlockingQueue<String> idleAnswers;

    private ForkedTomcat(Process process, int port, BlockingQueue<String> idleAnswers) {
        this.process = process;
        this.port = port;
        this.idleAnswers = idleAnswers;
    }

    static ForkedTomcat start(String route, String... attributes) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path")));
        String logging = System.getProperty("java.util.logging.config.file");
        if (logging != null) {
            cmd.add("-Djava.util.logging.config.file=" + logging);
        }
        String transcoder = System.getProperty(EmbeddedTomcat.TRANSCODER_PROPERTY);
        if (transcoder != null) {
            cmd.add("-D" + EmbeddedTomcat.TRANSCODER_PROPERTY + "=" + transcoder);
        }
        cmd.add(ForkedTomcatMain.class.getName());
        cmd.add(route);
        cmd.addAll(List.of(attributes));
        try {
            Path log = Files.createDirectories(Path.of("target", "forked-tomcats")).resolve(route + ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            CompletableFuture<Integer> port = new CompletableFuture<>();
            BlockingQueue<String> idle = new LinkedBlockingQueue<>();
            Thread drain = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8)); PrintWriter out = new PrintWriter(Files.newBufferedWriter(log))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        out.println(line);
                        out.flush();
                        if (line.startsWith("PORT=")) {
                            port.complete(Integer.parseInt(line.substring(5).trim()));
                        } else if (line.startsWith(ForkedTomcatMain.IDLE_ANSWER)) {
                            idle.add(line.substring(ForkedTomcatMain.IDLE_ANSWER.length()));
                        }
                    }
                } catch (IOException e) {
                    // the process died
                } finally {
                    idle.add(EXITED);
                    port.completeExceptionally(new IllegalStateException("Tomcat " + route + " exited; see " + log));
                }
            }, "forked-" + route + "-output");
            drain.setDaemon(true);
            drain.start();
            try {
                return new ForkedTomcat(p, port.get(60, TimeUnit.SECONDS), idle);
            } catch (Exception e) {
                p.destroyForcibly();
                throw new IllegalStateException("forked Tomcat " + route + " did not start; see " + log, e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /**
     * Waits until the child's backups are done: none queued or running (delayed ones included), as
     * {@code SessionEngine.awaitIdle} counts them.
     *
     * @throws IllegalStateException if they are not done within {@link ForkedTomcatMain#IDLE_WAIT_MILLIS}
     */
    void awaitBackupsIdle() throws IOException, InterruptedException {
        OutputStream in = process.getOutputStream();
        in.write((ForkedTomcatMain.IDLE_QUESTION + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
        String idle = idleAnswers.poll(ForkedTomcatMain.IDLE_WAIT_MILLIS + 10_000, TimeUnit.MILLISECONDS);
        if (!"true".equals(idle)) {
            throw new IllegalStateException("the forked Tomcat's backups are not done: " + idle);
        }
    }

    /** SIGKILL: no shutdown hook, no flush, nothing. */
    void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("forked Tomcat survived SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
