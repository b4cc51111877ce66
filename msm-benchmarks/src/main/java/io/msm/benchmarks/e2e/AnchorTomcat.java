package io.msm.benchmarks.e2e;

import io.msm.benchmarks.ForkedJvm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
final class AnchorTomcat {
    static final List<String> JARS = List.of("memcached-session-manager.jar", "memcached-session-manager-tc9.jar");
    /** memcached-session-manager 2.3.2's Tomcat 9 manager. */
    static final String ANCHOR_MANAGER = "de.javakaffee.web.msm.MemcachedBackupSessionManager";

    private AnchorTomcat() {
    }

    /**
     * Starts a Tomcat whose context has a {@code managerClass} with {@code attributes} ({@code name=value}, set
     * through its setters); returns once it serves.
     */
    static ForkedJvm fork(String managerClass, List<String> attributes) throws IOException, InterruptedException {
        return fork(managerClass, attributes, null);
    }

    /**
     * As {@link #fork(String, List)}; with a {@code baselineJar} (an earlier build's {@code benchmarks.jar}) the
     * Tomcat runs on that jar alone: the msm of that build, for before/after rows in one run.
     */
    static ForkedJvm fork(String managerClass, List<String> attributes, Path baselineJar)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of(managerClass));
        args.addAll(attributes);
        if (baselineJar != null) {
            return ForkedJvm.startOn(baselineJar.toString(), AnchorTomcat.class.getName(), List.of(), args);
        }
        List<Path> extra = new ArrayList<>();
        if (managerClass.equals(ANCHOR_MANAGER)) {
            Path dir = Files.createTempDirectory("msm-anchor-tc");
            for (String jar : JARS) {
                Path file = dir.resolve(jar);
                try (InputStream in = AnchorTomcat.class.getClassLoader().getResourceAsStream("anchor-lib/" + jar)) {
                    if (in == null) {
                        throw new IllegalStateException("anchor-lib/" + jar
                                + " is missing: build msm-benchmarks with Maven");
                    }
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
                extra.add(file);
            }
        }
        return ForkedJvm.start(AnchorTomcat.class.getName(), extra, List.of(), args);
    }

    /** In the forked JVM: {@code <managerClass> [<attribute>=<value>...]}. */
    public static void main(String[] args) throws Exception {
        for (String name : List.of("org.apache", "de.javakaffee", "net.spy")) {
            Logger.getLogger(name).setLevel(Level.WARNING);
        }
        Tomcat tomcat = EndToEndBenchmark.newTomcat("tc1");
        Context context = (Context) tomcat.getHost().findChild("");
        Manager manager = (Manager) Class.forName(args[0]).getConstructor().newInstance();
        Map<String, String> attributes = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            attributes.put(kv[0], kv[1]);
        }
        String floor = attributes.remove(EndToEndBenchmark.FLOOR_ATTRIBUTE);
        if (floor != null) {
            context.getPipeline().addValve(new TrafficFloorValve(attributes.remove("memcachedNodes"),
                    TrafficFloorValve.codec(floor)));
        }
        for (Map.Entry<String, String> a : attributes.entrySet()) {
            ForkedJvm.setProperty(manager, a.getKey(), a.getValue());
        }
        context.setManager(manager);
        Tomcat.addServlet(context, "session", new EndToEndBenchmark.SessionServlet()).addMapping("/");
        Tomcat.addServlet(context, "threads", new ServerThreads.Servlet()).addMapping(ServerThreads.PATH);
        tomcat.start();
        ForkedJvm.announce(tomcat.getConnector().getLocalPort());
        tomcat.getServer().await();
    }
}
