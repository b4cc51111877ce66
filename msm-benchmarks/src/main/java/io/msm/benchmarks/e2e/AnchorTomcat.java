package io.msm.benchmarks.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.catalina.Context;
import org.apache.catalina.Manager;
import org.apache.catalina.startup.Tomcat;

/**
 * A Tomcat 9 in a JVM of its own, serving the benchmark's servlet with a given Manager class and attributes: for the
 * anchor's rows, memcached-session-manager 2.3.2 from its published jars (Java serialization: its Kryo serializer
 * does not run on Java 17), and for the rows that compare with it under the same conditions (StandardManager and msm
 * in their own JVMs too). With the anchor the forked class path is this benchmark's jar plus the anchor's two jars;
 * its classes and msm's never meet in one class loader.
 */
final class AnchorTomcat implements AutoCloseable {
    static final List<String> JARS = List.of("memcached-session-manager.jar", "memcached-session-manager-tc9.jar");
    /** memcached-session-manager 2.3.2's Tomcat 9 manager. */
    static final String ANCHOR_MANAGER = "de.javakaffee.web.msm.MemcachedBackupSessionManager";

    final Process process;
    final int port;

    private AnchorTomcat(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts a Tomcat whose context has a {@code managerClass} with {@code attributes} ({@code name=value}, set
     * through its setters); returns once it serves.
     */
    static AnchorTomcat fork(String managerClass, List<String> attributes) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("msm-anchor-tc");
        StringBuilder cp = new StringBuilder(System.getProperty("java.class.path"));
        for (String jar : managerClass.equals(ANCHOR_MANAGER) ? JARS : List.<String>of()) {
            Path file = dir.resolve(jar);
            try (InputStream in = AnchorTomcat.class.getClassLoader().getResourceAsStream("anchor-lib/" + jar)) {
                if (in == null) {
                    throw new IllegalStateException("anchor-lib/" + jar + " is missing: build msm-benchmarks with Maven");
                }
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
            cp.append(java.io.File.pathSeparatorChar).append(file);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-cp", cp.toString(), AnchorTomcat.class.getName(),
                managerClass));
        command.addAll(attributes);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        List<String> seen = new ArrayList<>();
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("PORT ")) {
                Thread drain = new Thread(() -> {
                    try {
                        while (out.readLine() != null) {
                            // keep the pipe from filling
                        }
                    } catch (IOException ignored) {
                        // the process ended
                    }
                }, "anchor-output");
                drain.setDaemon(true);
                drain.start();
                return new AnchorTomcat(p, Integer.parseInt(line.substring(5).trim()));
            }
            seen.add(line);
        }
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException("the anchor's Tomcat did not start:\n" + String.join("\n", seen));
    }

    /** CPU time the anchor's JVM used so far, in nanoseconds. */
    long cpuNanos() {
        return process.toHandle().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    @Override
    public void close() {
        try {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** In the forked JVM: {@code <managerClass> [<attribute>=<value>...]}. */
    public static void main(String[] args) throws Exception {
        for (String name : List.of("org.apache", "de.javakaffee", "net.spy")) {
            Logger.getLogger(name).setLevel(Level.WARNING);
        }
        Tomcat tomcat = EndToEndBenchmark.newTomcat("tc1");
        Context context = (Context) tomcat.getHost().findChild("");
        Class<?> type = Class.forName(args[0]);
        Manager manager = (Manager) type.getConstructor().newInstance();
        for (int i = 1; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            set(manager, kv[0], kv[1]);
        }
        context.setManager(manager);
        Tomcat.addServlet(context, "session", new EndToEndBenchmark.SessionServlet()).addMapping("/");
        tomcat.start();
        System.out.println("PORT " + tomcat.getConnector().getLocalPort());
        System.out.flush();
        tomcat.getServer().await();
    }

    /** Calls the one-argument setter of {@code name}, converting the value to its parameter type. */
    private static void set(Object target, String name, String value) throws ReflectiveOperationException {
        String setter = "set" + Character.toUpperCase(name.charAt(0)) + name.substring(1);
        for (java.lang.reflect.Method m : target.getClass().getMethods()) {
            if (!m.getName().equals(setter) || m.getParameterCount() != 1) {
                continue;
            }
            Class<?> t = m.getParameterTypes()[0];
            Object v = t == String.class ? value : t == boolean.class ? (Object) Boolean.parseBoolean(value)
                    : t == int.class ? (Object) Integer.parseInt(value) : t == long.class ? (Object) Long.parseLong(value)
                    : null;
            if (v != null) {
                m.invoke(target, v);
                return;
            }
        }
        throw new NoSuchMethodException(target.getClass().getName() + "." + setter + "(String|boolean|int|long)");
    }
}
