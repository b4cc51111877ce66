package io.msm.packaging;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * An Apache httpd (Debian's apache2 package) in the foreground with a configuration of our own on a free loopback
 * port: the modules mod_proxy_balancer needs, then the balancer configuration under test.
 */
final class Httpd extends Balancer {
    private static final Path MODULES = Paths.get("/usr/lib/apache2/modules");
    private static final List<String> MODULE_NAMES = List.of("mpm_event", "authz_core", "slotmem_shm", "proxy",
            "proxy_http", "proxy_balancer", "lbmethod_byrequests");

    private Httpd(int port, Path dir, Process process) {
        super(port, dir, process);
    }

    /** The httpd binary (apache2 on Debian, httpd elsewhere) on PATH or in /usr/sbin, or null. */
    static Path binary() {
        if (!Files.isDirectory(MODULES)) {
            return null;
        }
        return onPath("apache2", "httpd");
    }

    /** Starts httpd with {@code balancer} (a {@code <Proxy balancer://...>} block and its ProxyPass lines). */
    static Httpd start(Path dir, String balancer) throws IOException, InterruptedException {
        TomcatInstance.deleteRecursively(dir);
        Files.createDirectories(dir.resolve("logs"));
        int port = TomcatInstance.freePort();
        boolean root = "root".equals(System.getProperty("user.name"));
        StringBuilder conf = new StringBuilder()
                .append("ServerRoot \"").append(dir).append("\"\n")
                .append("ServerName 127.0.0.1\n")
                .append("Listen 127.0.0.1:").append(port).append('\n')
                .append("PidFile ").append(dir.resolve("httpd.pid")).append('\n')
                .append("DefaultRuntimeDir ").append(dir).append('\n')
                .append("ErrorLog ").append(dir.resolve("logs/error.log")).append('\n')
                .append("LogLevel warn\n");
        if (root) {
            // httpd refuses to serve as root: its children run as Debian's www-data (the work dir is readable)
            conf.append("User www-data\nGroup www-data\n");
        }
        for (String m : MODULE_NAMES) {
            conf.append("LoadModule ").append(m).append("_module ").append(MODULES.resolve("mod_" + m + ".so"))
                    .append('\n');
        }
        conf.append(balancer);
        Path file = dir.resolve("httpd.conf");
        Files.writeString(file, conf, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder(binary().toString(), "-f", file.toString(), "-DFOREGROUND")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("logs/console.log").toFile())
                .start();
        Httpd httpd = new Httpd(port, dir, p);
        httpd.awaitListening(conf.toString());
        return httpd;
    }
}
