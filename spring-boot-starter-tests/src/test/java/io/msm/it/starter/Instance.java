package io.msm.it.starter;

import io.msm.spring.boot.MsmSessionManagers;
import io.msm.tomcat.MemcachedSessionManager;
import org.apache.catalina.Context;
import org.apache.catalina.Engine;
import org.apache.catalina.Service;
import org.apache.catalina.connector.Connector;
import java.util.ArrayList;
import java.util.concurrent.Executor;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** One running instance of {@link StarterApplication}, started with Spring Boot's own SpringApplicationBuilder. */
final class Instance implements AutoCloseable {
    final ConfigurableApplicationContext app;
    final String name;
    final int port;

    private Instance(ConfigurableApplicationContext app, String name) {
        this.app = app;
        this.name = name;
        this.port = Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
    }

    /**
     * Starts an instance on a free loopback port with these properties (besides the usual test ones); those written
     * {@code --name=value} are passed as command-line arguments.
     */
    static Instance start(String name, String... properties) {
        List<String> p = new ArrayList<>(List.of("server.port=0", "server.address=127.0.0.1",
                "spring.main.banner-mode=off", "logging.level.root=WARN", "logging.level.io.msm=INFO"));
        List<String> args = new ArrayList<>();
        for (String property : properties) {
            (property.startsWith("--") ? args : p).add(property);
        }
        return new Instance(new SpringApplicationBuilder(StarterApplication.class)
                .properties(p.toArray(new String[0])).run(args.toArray(new String[0])), name);
    }

    String url(String pathAndQuery) {
        return "http://127.0.0.1:" + port + pathAndQuery;
    }

    /** The manager the starter put on this instance's Tomcat. */
    MemcachedSessionManager manager() {
        List<MemcachedSessionManager> m = app.getBean(MsmSessionManagers.class).managers();
        if (m.size() != 1) {
            throw new AssertionError(name + ": expected one msm manager, found " + m);
        }
        return m.get(0);
    }

    /**
     * Waits until memcached holds what the last request changed: its request thread is done (Spring flushes a
     * response before the request ends, and sticky asynchronous mode starts the backup at the end), then the backups.
     */
    void awaitBackups() {
        awaitRequestsDone(manager().getContext());
        if (!manager().engine().awaitIdle(5000)) {
            throw new AssertionError("backups of " + name + " still running");
        }
    }

    /** Waits until no request runs on the connectors of {@code context}'s Tomcat (this test is their only client). */
    static void awaitRequestsDone(Context context) {
        Service service = ((Engine) context.getParent().getParent()).getService();
        for (Connector c : service.findConnectors()) {
            Executor executor = c.getProtocolHandler().getExecutor();
            if (executor instanceof org.apache.tomcat.util.threads.ThreadPoolExecutor) {
                org.apache.tomcat.util.threads.ThreadPoolExecutor pool =
                        (org.apache.tomcat.util.threads.ThreadPoolExecutor) executor;
                await("the requests on " + c + " to end", 5000, () -> pool.getActiveCount() == 0);
            }
        }
    }

    @Override
    public void close() {
        app.close();
    }

    @Override
    public String toString() {
        return name;
    }

    static void await(String what, long maxMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + maxMillis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + maxMillis + " ms waiting for " + what);
            }
            try {
                Thread.sleep(20); // poll interval of a wait bounded by its deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
