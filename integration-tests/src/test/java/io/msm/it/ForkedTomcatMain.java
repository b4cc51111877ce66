package io.msm.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Runs one {@link EmbeddedTomcat} in its own JVM, so a test can kill it with SIGKILL. Arguments: the jvmRoute, then
 * attribute/value pairs for the manager. Prints {@code PORT=<port>} when serving; stops when stdin closes (the test
 * JVM ended). A line {@value #IDLE_QUESTION} on stdin is answered with {@code IDLE=true} once no backup is queued or
 * running, {@code IDLE=false} after {@value #IDLE_WAIT_MILLIS} ms, or {@code IDLE=} and what failed.
 */
public final class ForkedTomcatMain {
    static final String IDLE_QUESTION = "idle?";
    static final String IDLE_ANSWER = "IDLE=";
    static final long IDLE_WAIT_MILLIS = 10_000;

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
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) { // until the parent goes away
            if (line.equals(IDLE_QUESTION)) {
                String answer;
                try {
                    answer = String.valueOf(tomcat.manager().engine().awaitIdle(IDLE_WAIT_MILLIS));
                } catch (RuntimeException e) { // the engine is gone (stopped): said, not left unanswered
                    answer = e.toString();
                }
                System.out.println(IDLE_ANSWER + answer);
                System.out.flush();
            }
        }
        tomcat.stop();
        System.exit(0);
    }
}
