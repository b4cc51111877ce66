package io.msm.packaging;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** An nginx in the foreground with a configuration of our own, on a free loopback port. */
final class Nginx extends Balancer {

    private Nginx(int port, Path dir, Process process) {
        super(port, dir, process);
    }

    /** The nginx binary on PATH or in /usr/sbin, or null. */
    static Path binary() {
        return onPath("nginx");
    }

    /** Starts nginx whose http block holds {@code http} (upstreams, maps) and one server proxying to {@code target}. */
    static Nginx start(Path dir, String http, String target) throws IOException, InterruptedException {
        return start(dir, http, target, "");
    }

    /** {@link #start(Path, String, String)} with more directives in the proxying location, e.g. timeouts. */
    static Nginx start(Path dir, String http, String target, String location) throws IOException, InterruptedException {
        TomcatInstance.deleteRecursively(dir);
        Files.createDirectories(dir.resolve("logs"));
        int port = TomcatInstance.freePort();
        boolean root = "root".equals(System.getProperty("user.name"));
        String conf = "daemon off;\n"
                + "worker_processes 1;\n"
                + (root ? "user root;\n" : "") // its workers would otherwise run as nobody, unable to use dir
                + "pid " + dir.resolve("nginx.pid") + ";\n"
                + "error_log " + dir.resolve("logs/error.log") + " warn;\n"
                + "events { worker_connections 64; }\n"
                + "http {\n"
                + "  access_log " + dir.resolve("logs/access.log") + ";\n"
                + "  client_body_temp_path " + dir.resolve("client_body") + ";\n"
                + "  proxy_temp_path " + dir.resolve("proxy") + ";\n"
                + "  fastcgi_temp_path " + dir.resolve("fastcgi") + ";\n"
                + "  uwsgi_temp_path " + dir.resolve("uwsgi") + ";\n"
                + "  scgi_temp_path " + dir.resolve("scgi") + ";\n"
                + http
                + "  server {\n"
                + "    listen 127.0.0.1:" + port + ";\n"
                + "    location / {\n"
                + "      proxy_pass http://" + target + ";\n"
                + "      proxy_connect_timeout 2s;\n"
                + "      proxy_next_upstream error timeout;\n"
                + location
                + "    }\n"
                + "  }\n"
                + "}\n";
        Path file = dir.resolve("nginx.conf");
        Files.writeString(file, conf, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder(binary().toString(), "-p", dir.toString(), "-c", file.toString(),
                "-e", dir.resolve("logs/error.log").toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("logs/console.log").toFile())
                .start();
        Nginx nginx = new Nginx(port, dir, p);
        nginx.awaitListening(conf);
        return nginx;
    }
}
