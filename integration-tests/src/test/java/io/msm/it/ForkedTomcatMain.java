package io.msm.it;

import java.io.IOException;

/**
 * Runs one {@link EmbeddedTomcat} in its own JVM, so a test can kill it with SIGKILL. Arguments: the jvmRoute, then
 * attribute/value pairs for the manager. Prints {@code PORT=<port>} when serving; stops when stdin closes (the test
 * JVM ended).
 */
public final class ForkedTomcatMain {
    private ForkedTomcatMain() {
    }

    public static void main(String[] args) throws IOException {
        EmbeddedTomcat.Builder b = EmbeddedTomcat.on(args[0]);
        for (int i = 1; i + 1 < args.length; i += 2) {
            b.with(args[i], args[i + 1]);
        }
        EmbeddedTomcat tomcat = b.start();
        System.out.println("PORT=" + tomcat.port());
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the parent goes away
        }
        tomcat.stop();
        System.exit(0);
    }
}
