package io.msm.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server (a Tomcat) in a JVM of its own, so it can be killed with SIGKILL or measured apart from the load
 * generator. The forked main prints {@code PORT <n>} ({@link #announce(int)}) once it serves; its further output is
 * drained and dropped.
 */
public final class ForkedJvm implements AutoCloseable {
    private static final long START_TIMEOUT_SECONDS = 60;

    public final Process process;
    public final int port;

    private ForkedJvm(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Runs {@code mainClass} with this JVM's class path plus {@code extraClasspath}; returns once it announced its
     * port.
     *
     * @param jvmOptions e.g. {@code -Xmx256m}
     * @throws IllegalStateException with the process's output if it ends or stays silent for a minute
     */
    public static ForkedJvm start(String mainClass, List<Path> extraClasspath, List<String> jvmOptions,
            List<String> args) throws IOException, InterruptedException {
        StringBuilder cp = new StringBuilder(System.getProperty("java.class.path"));
        extraClasspath.forEach(p -> cp.append(java.io.File.pathSeparatorChar).append(p));
        return startOn(cp.toString(), mainClass, jvmOptions, args);
    }

    /**
     * Runs {@code mainClass} on {@code classpath} alone (not this JVM's: e.g. an earlier build's benchmark jar);
     * returns once it announced its port.
     */
    public static ForkedJvm startOn(String classpath, String mainClass, List<String> jvmOptions, List<String> args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", classpath, mainClass));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
        List<String> seen = new ArrayList<>();
        String line;
        while ((line = out.readLine()) != null && System.nanoTime() < deadline) {
            if (line.startsWith("PORT ")) {
                Thread drain = new Thread(() -> {
                    try {
                        while (out.readLine() != null) {
                            // keep the pipe from filling; the server's log is not part of any result
                        }
                    } catch (IOException ignored) {
                        // the process ended
                    }
                }, "drain-" + mainClass);
                drain.setDaemon(true);
                drain.start();
                return new ForkedJvm(p, Integer.parseInt(line.substring(5).trim()));
            }
            seen.add(line);
        }
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException(mainClass + " " + args + " did not start:\n" + String.join("\n", seen));
    }

    /** In the forked JVM: tells {@link #start} which port it serves on. */
    public static void announce(int port) {
        System.out.println("PORT " + port);
        System.out.flush();
    }

    /** CPU time the forked JVM used so far, in nanoseconds. */
    public long cpuNanos() {
        return process.toHandle().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    /** Kills it (SIGKILL) and waits (bounded) until it is gone. */
    @Override
    public void close() {
        try {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Calls {@code target}'s one-argument setter of {@code name}, converting {@code value} to its parameter type
     * ({@code String}, {@code boolean}, {@code int} or {@code long}): how a Manager's attributes are set from text.
     */
    public static void setProperty(Object target, String name, String value) throws ReflectiveOperationException {
        String setter = "set" + Character.toUpperCase(name.charAt(0)) + name.substring(1);
        for (Method m : target.getClass().getMethods()) {
            if (!m.getName().equals(setter) || m.getParameterCount() != 1) {
                continue;
            }
            Class<?> t = m.getParameterTypes()[0];
            Object v = t == String.class ? value
                    : t == boolean.class ? (Object) Boolean.parseBoolean(value)
                    : t == int.class ? (Object) Integer.parseInt(value)
                    : t == long.class ? (Object) Long.parseLong(value)
                    : null;
            if (v != null) {
                m.invoke(target, v);
                return;
            }
        }
        throw new NoSuchMethodException(target.getClass().getName() + "." + setter + "(String|boolean|int|long)");
    }
}
