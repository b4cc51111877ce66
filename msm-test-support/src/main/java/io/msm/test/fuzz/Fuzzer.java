package io.msm.test.fuzz;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A small mutation fuzzer for parsers of untrusted bytes. From a fixed seed it derives inputs from a corpus of valid
 * ones (bit flips, random bytes, boundary integers written over length fields, inserted, deleted and repeated ranges,
 * truncation, splices of two corpus entries) plus some pure noise, and feeds each to a target. It fails when the
 * target
 * <ul>
 *   <li>throws anything but the documented exception type,</li>
 *   <li>allocates more than {@code bytesPerInputByte} x the input's length + {@code allocationSlack} bytes for one
 *       input (measured by the JVM's per-thread allocation counter), or</li>
 *   <li>spends more than {@code hangLimit} on one input.</li>
 * </ul>
 * The run is bounded by an input count and a time budget, whichever ends first; a failure names the seed, the input's
 * index and its bytes, so it can be replayed. For a deeper run than the build's, override the seed, count and budget
 * with the system properties {@code msm.fuzz.seed}, {@code msm.fuzz.inputs} and {@code msm.fuzz.seconds}.
 */
public final class Fuzzer {
    private static final int[] BOUNDARY_INTS = {0, 1, -1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF,
        Integer.MIN_VALUE, -2, 1 << 20, 1 << 24, 1 << 30};

    private final long seed;
    private final List<byte[]> corpus;
    private int count = 10_000;
    private Duration budget = Duration.ofSeconds(20);
    private Duration hangLimit = Duration.ofSeconds(5);
    private long bytesPerInputByte = 64;
    private long allocationSlack = 4 << 20;

    private Fuzzer(long seed, List<byte[]> corpus) {
        if (corpus.isEmpty()) {
            throw new IllegalArgumentException("an empty corpus");
        }
        this.seed = seed;
        this.corpus = List.copyOf(corpus);
    }

    /** A fuzzer deriving its inputs from {@code corpus} with the random sequence of {@code seed}. */
    public static Fuzzer of(long seed, List<byte[]> corpus) {
        return new Fuzzer(Long.getLong("msm.fuzz.seed", seed), corpus);
    }

    /** At most this many inputs (default 10,000) and at most this much time (default 20 s). */
    public Fuzzer bounded(int inputs, Duration time) {
        this.count = Integer.getInteger("msm.fuzz.inputs", inputs);
        Long seconds = Long.getLong("msm.fuzz.seconds");
        this.budget = seconds == null ? time : Duration.ofSeconds(seconds);
        return this;
    }

    /** One input may allocate at most {@code perInputByte} x its length + {@code slack} bytes. */
    public Fuzzer allocationLimit(long perInputByte, long slack) {
        this.bytesPerInputByte = perInputByte;
        this.allocationSlack = slack;
        return this;
    }

    /** One input may take at most this long (default 5 s). */
    public Fuzzer hangLimit(Duration limit) {
        this.hangLimit = limit;
        return this;
    }

    /** What a run did. */
    public static final class Report {
        public final int inputs;
        public final int accepted;
        public final int refused;
        public final long maxAllocatedBytes;
        public final long maxNanos;

        Report(int inputs, int accepted, int refused, long maxAllocatedBytes, long maxNanos) {
            this.inputs = inputs;
            this.accepted = accepted;
            this.refused = refused;
            this.maxAllocatedBytes = maxAllocatedBytes;
            this.maxNanos = maxNanos;
        }

        @Override
        public String toString() {
            return inputs + " inputs: " + accepted + " accepted, " + refused + " refused with the documented exception;"
                    + " at most " + maxAllocatedBytes + " bytes allocated and " + maxNanos / 1_000_000 + " ms for one";
        }
    }

    /**
     * Feeds the inputs to {@code target} on a worker thread.
     *
     * @param documented the one exception type the target may throw for bad input
     * @throws AssertionError naming the seed, input index and bytes of the first violation
     */
    public Report run(String name, Class<? extends Throwable> documented, Consumer<byte[]> target) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        AtomicReference<AssertionError> failure = new AtomicReference<>();
        AtomicLong inputStarted = new AtomicLong(System.nanoTime());
        AtomicReference<byte[]> currentInput = new AtomicReference<>(new byte[0]);
        AtomicInteger currentIndex = new AtomicInteger();
        long[] results = new long[5];
        Thread worker = new Thread(() -> {
            Random r = new Random(seed);
            long end = System.nanoTime() + budget.toNanos();
            long tid = Thread.currentThread().getId();
            int i = 0;
            for (; i < count && System.nanoTime() < end; i++) {
                byte[] input = next(r);
                int index = i;
                currentInput.set(input);
                currentIndex.set(index);
                long before = threads.getThreadAllocatedBytes(tid);
                long start = System.nanoTime();
                inputStarted.set(start);
                try {
                    target.accept(input);
                    results[1]++;
                } catch (Throwable t) {
                    if (!documented.isInstance(t)) {
                        failure.set(violation(name, index, input, "threw " + t + " (only " + documented.getName()
                                + " is documented)", t));
                        return;
                    }
                    results[2]++;
                }
                long took = System.nanoTime() - start;
                long allocated = threads.getThreadAllocatedBytes(tid) - before;
                results[3] = Math.max(results[3], allocated);
                results[4] = Math.max(results[4], took);
                long limit = bytesPerInputByte * input.length + allocationSlack;
                if (allocated > limit) {
                    failure.set(violation(name, index, input, "allocated " + allocated + " bytes, more than "
                            + limit + " (" + bytesPerInputByte + " per input byte + " + allocationSlack + ")", null));
                    return;
                }
            }
            results[0] = i;
        }, "fuzz-" + name);
        worker.setDaemon(true);
        worker.start();
        long hangNanos = hangLimit.toNanos();
        try {
            while (worker.isAlive()) {
                worker.join(100);
                if (worker.isAlive() && System.nanoTime() - inputStarted.get() > hangNanos) {
                    StackTraceElement[] stack = worker.getStackTrace();
                    throw violation(name, currentIndex.get(), currentInput.get(), "has run for more than "
                            + hangLimit.toMillis() + " ms (a hang?) at "
                            + Arrays.toString(Arrays.copyOf(stack, Math.min(stack.length, 8))), null);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return new Report((int) results[0], (int) results[1], (int) results[2], results[3], results[4]);
    }

    /** A failure naming the input (replayable: seed, index, bytes, and the saved file). */
    private AssertionError violation(String name, int index, byte[] input, String what, Throwable cause) {
        return new AssertionError(describe(name, index, input) + " " + what + save(name, index, input), cause);
    }

    /** Keeps a failing input for replay: {@code target/fuzz/<name>-<seed>-<index>.bin} (or the temp dir). */
    private String save(String name, int index, byte[] input) {
        try {
            java.nio.file.Path dir = java.nio.file.Files.isDirectory(java.nio.file.Path.of("target"))
                    ? java.nio.file.Path.of("target", "fuzz")
                    : java.nio.file.Path.of(System.getProperty("java.io.tmpdir"));
            java.nio.file.Files.createDirectories(dir);
            java.nio.file.Path file = dir.resolve(name.replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + seed + "-" + index
                    + ".bin");
            java.nio.file.Files.write(file, input);
            return "; saved as " + file.toAbsolutePath();
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
    }

    private String describe(String name, int index, byte[] input) {
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(input.length, 256); i++) {
            hex.append(String.format("%02x", input[i] & 0xFF));
        }
        return name + " input #" + index + " (seed " + seed + ", " + input.length + " bytes: " + hex
                + (input.length > 256 ? "..." : "") + ")";
    }

    /** The next input: mostly mutated corpus entries, one in ten random noise. */
    private byte[] next(Random r) {
        if (r.nextInt(10) == 0) {
            byte[] noise = new byte[r.nextInt(512)];
            r.nextBytes(noise);
            return noise;
        }
        byte[] b = corpus.get(r.nextInt(corpus.size())).clone();
        int mutations = 1 + r.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            b = mutate(b, r);
        }
        return b;
    }

    private byte[] mutate(byte[] b, Random r) {
        if (b.length == 0) {
            byte[] one = new byte[1 + r.nextInt(16)];
            r.nextBytes(one);
            return one;
        }
        int at = r.nextInt(b.length);
        switch (r.nextInt(8)) {
            case 0: // flip a bit
                b[at] ^= (byte) (1 << r.nextInt(8));
                return b;
            case 1: // a random byte
                b[at] = (byte) r.nextInt(256);
                return b;
            case 2: { // a boundary integer, big- or little-endian, over what may be a length
                int v = BOUNDARY_INTS[r.nextInt(BOUNDARY_INTS.length)];
                if (r.nextBoolean()) {
                    v = Integer.reverseBytes(v);
                }
                for (int k = 0; k < 4 && at + k < b.length; k++) {
                    b[at + k] = (byte) (v >>> (24 - 8 * k));
                }
                return b;
            }
            case 3: { // insert random bytes
                byte[] ins = new byte[1 + r.nextInt(32)];
                r.nextBytes(ins);
                byte[] out = new byte[b.length + ins.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(ins, 0, out, at, ins.length);
                System.arraycopy(b, at, out, at + ins.length, b.length - at);
                return out;
            }
            case 4: { // delete a range
                int len = 1 + r.nextInt(Math.min(64, b.length - at));
                byte[] out = new byte[b.length - len];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, at + len, out, at, b.length - at - len);
                return out;
            }
            case 5: { // repeat a range
                int len = 1 + r.nextInt(Math.min(64, b.length - at));
                byte[] out = new byte[b.length + len];
                System.arraycopy(b, 0, out, 0, at + len);
                System.arraycopy(b, at, out, at + len, b.length - at);
                return out;
            }
            case 6: // truncate
                return Arrays.copyOf(b, at);
            default: { // splice: this entry's head, another's tail
                byte[] other = corpus.get(r.nextInt(corpus.size()));
                int from = other.length == 0 ? 0 : r.nextInt(other.length);
                byte[] out = Arrays.copyOf(b, at + other.length - from);
                System.arraycopy(other, from, out, at, other.length - from);
                return out;
            }
        }
    }
}
