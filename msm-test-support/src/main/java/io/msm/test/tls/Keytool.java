package io.msm.test.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the JDK's own {@code keytool} ({@code java.home/bin/keytool}), several invocations at a time: each one is a
 * JVM start of about half a second, so the certificates are made in two parallel rounds rather than one long row.
 * The store password reaches keytool through an environment variable ({@code -storepass:env}), never on the command
 * line, so it appears neither in {@code ps} nor in error messages.
 */
final class Keytool {

    /** How long one round of keytool runs may take; a loaded machine needs a few seconds per JVM start. */
    private static final Duration ROUND_TIMEOUT = Duration.ofSeconds(60);
    private static final String PASSWORD_ENV = "MSM_TEST_STORE_PASSWORD";
    private static final int OUTPUT_CHARS = 2_000;
    /**
     * JVM options that halve keytool's CPU time (measured: 0.9 to 0.45 s of CPU per run on JDK 17): a short-lived
     * tool gains nothing from the optimizing compiler, the parallel collector or the perf data file.
     */
    private static final List<String> FAST_START =
            List.of("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-J-XX:-UsePerfData");

    private final Path executable;
    private final Path workDir;
    private final String password;

    /**
     * @param workDir  where keytool runs and writes its logs
     * @param password the password of every key store keytool writes (a PKCS12 key uses its store's password)
     * @throws IllegalStateException if this JVM has no keytool, or one too old for {@code -genkeypair -signer}
     */
    Keytool(Path workDir, String password) {
        int feature = Runtime.version().feature();
        if (feature < 17) {
            throw new IllegalStateException("TestCertificates needs the keytool of JDK 17 or later (it uses"
                    + " -genkeypair -signer); this JVM is " + Runtime.version() + " (" + System.getProperty("java.home")
                    + ")");
        }
        Path bin = Path.of(System.getProperty("java.home"), "bin");
        Path candidate = bin.resolve("keytool");
        if (!Files.isExecutable(candidate)) {
            candidate = bin.resolve("keytool.exe");
        }
        if (!Files.isExecutable(candidate)) {
            throw new IllegalStateException("no keytool in " + bin + " (java.home of this JVM)");
        }
        this.executable = candidate;
        this.workDir = workDir;
        this.password = password;
    }

    /**
     * Arguments of a {@code -genkeypair} of a 256-bit EC key (fast to make, and both OpenSSL and the JDK accept it),
     * valid from yesterday for a week so that clock steps do not matter.
     *
     * @param keyStore the PKCS12 store to add the entry to (created if missing)
     * @param alias    the entry's alias
     * @param dname    the subject, e.g. {@code CN=localhost}
     * @param signer   alias of a key entry in the same store that signs the certificate, or {@code null} for a
     *                 self-signed one
     * @param exts     {@code -ext} values, e.g. {@code bc:c} or {@code san=ip:127.0.0.1}
     * @return the arguments, without the executable
     */
    List<String> genkeypair(Path keyStore, String alias, String dname, String signer, String... exts) {
        List<String> args = new ArrayList<>(List.of("-genkeypair", "-keystore", keyStore.toString(),
                "-storetype", "PKCS12", "-storepass:env", PASSWORD_ENV, "-alias", alias, "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", dname, "-startdate", "-1d", "-validity", "8"));
        if (signer != null) {
            args.add("-signer");
            args.add(signer);
        }
        for (String ext : exts) {
            args.add("-ext");
            args.add(ext);
        }
        return args;
    }

    /**
     * Runs invocations at the same time and waits for all of them.
     *
     * @param invocations each one's arguments
     * @throws IllegalStateException if one fails or does not finish within {@link #ROUND_TIMEOUT}; the message has
     *                               its arguments and output
     */
    void runAll(List<List<String>> invocations) {
        List<Process> processes = new ArrayList<>();
        List<Path> outputs = new ArrayList<>();
        try {
            for (List<String> args : invocations) {
                List<String> command = new ArrayList<>();
                command.add(executable.toString());
                command.addAll(FAST_START);
                command.addAll(args);
                Path output = workDir.resolve("keytool-" + processes.size() + "-" + System.nanoTime() + ".log");
                ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
                        .redirectErrorStream(true).redirectOutput(Redirect.to(output.toFile()));
                builder.environment().put(PASSWORD_ENV, password);
                outputs.add(output);
                processes.add(builder.start());
            }
            long deadline = System.nanoTime() + ROUND_TIMEOUT.toNanos();
            for (int i = 0; i < processes.size(); i++) {
                Process process = processes.get(i);
                long left = Math.max(0, deadline - System.nanoTime());
                if (!process.waitFor(left, TimeUnit.NANOSECONDS)) {
                    throw failure(invocations.get(i), "did not finish within " + ROUND_TIMEOUT.toSeconds() + " s",
                            outputs.get(i));
                }
                if (process.exitValue() != 0) {
                    throw failure(invocations.get(i), "failed with exit code " + process.exitValue(), outputs.get(i));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + executable, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        } finally {
            for (Process process : processes) {
                process.destroyForcibly();
            }
            for (Path output : outputs) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException e) {
                    // a leftover log in a temporary directory
                }
            }
        }
    }

    private IllegalStateException failure(List<String> args, String what, Path output) {
        String text;
        try {
            text = Files.readString(output, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            text = "(cannot read " + output + ": " + e + ")";
        }
        if (text.length() > OUTPUT_CHARS) {
            text = text.substring(text.length() - OUTPUT_CHARS);
        }
        return new IllegalStateException("`" + executable + " " + String.join(" ", args) + "` " + what + "; output: "
                + (text.isEmpty() ? "(none)" : text));
    }
}
