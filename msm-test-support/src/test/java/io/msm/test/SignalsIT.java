package io.msm.test;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Signals} against a JVM with more busy threads than the machine has cores: {@code kill -STOP} returns while
 * some of them still run (about every other time on a 2-core machine), {@link Signals#stop} only once none does.
 */
class SignalsIT {
    private static final String BUSY = "public class Busy {\n"
            + "    public static void main(String[] a) throws Exception {\n"
            + "        for (int i = 0; i < 2 * Runtime.getRuntime().availableProcessors() + 2; i++) {\n"
            + "            Thread t = new Thread(() -> { long x = 0; while (x != -1) { x += System.nanoTime() & 7; } });\n"
            + "            t.setDaemon(true);\n"
            + "            t.start();\n"
            + "        }\n"
            + "        System.out.println(\"busy\");\n"
            + "        Thread.sleep(120_000);\n"
            + "    }\n"
            + "}\n";

    @TempDir
    Path dir;

    @Test
    void stopReturnsOnceEveryThreadIsStoppedAndContOnceNoneIs() throws Exception {
        assumeTrue(Signals.threadStates(ProcessHandle.current().pid()) != null, "needs /proc");
        Files.writeString(dir.resolve("Busy.java"), BUSY);
        String launcher = ProcessHandle.current().info().command().orElseThrow();
        Process busy = new ProcessBuilder(launcher, "-Xmx32m", dir.resolve("Busy.java").toString())
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(busy.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder said = new StringBuilder();
            for (String line = out.readLine(); line != null && !line.equals("busy"); line = out.readLine()) {
                said.append(line).append('\n'); // "Picked up JAVA_TOOL_OPTIONS" and the like
            }
            assertTrue(busy.isAlive(), "the busy JVM did not start: " + said);
            for (int i = 0; i < 20; i++) {
                Signals.stop(busy.pid(), Duration.ofSeconds(5));
                String states = Signals.threadStates(busy.pid());
                assertTrue(states.chars().allMatch(c -> "TtZX".indexOf(c) >= 0), "round " + i + ": " + states);
                Signals.cont(busy.pid(), Duration.ofSeconds(5));
                String after = Signals.threadStates(busy.pid());
                assertTrue(after.chars().noneMatch(c -> c == 'T'), "round " + i + ": " + after);
            }
        } finally {
            busy.destroyForcibly();
            busy.waitFor();
        }
    }
}
