package io.msm.codec;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.SessionProtection;
import io.msm.test.fuzz.Fuzzer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated bytes against the blob parser and the sealer in every mode: the only outcome for bad input is
 * {@link UnreadableBlobException}; no input allocates beyond a bound proportional to its size, none hangs. Fixed seed,
 * bounded budget (count and time), so it runs in every build.
 */
class BlobFuzzTest {
    private static final long SEED = 20261121L;
    private static final int INPUTS = 20_000;
    private static final Duration BUDGET = Duration.ofSeconds(15);
    private static final List<byte[]> KEYS = List.of(key(3), key(4));

    private static byte[] key(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return k;
    }

    private static List<byte[]> plainBlobs() {
        List<byte[]> blobs = new ArrayList<>();
        blobs.add(BlobCodec.encode(SessionData.builder("ABC-n1.tc1").build()));
        blobs.add(BlobCodec.encode(SessionData.builder("0123456789ABCDEF-n2.tc2").times(1, 2, 3)
                .maxInactiveInterval(1800).state(true, true).authType("FORM")
                .principal("bob".getBytes(StandardCharsets.UTF_8)).note("a", new byte[] {1}).note("b", new byte[40])
                .attributes("cart=3 items; user=bob".repeat(20).getBytes(StandardCharsets.UTF_8)).build()));
        blobs.add(BlobCodec.encode(SessionData.builder("0123456789ABCDEF-n2").maxInactiveInterval(1800)
                .attributeChunks(List.of("user=bob".repeat(10).getBytes(StandardCharsets.UTF_8),
                        PlainValues.encode(java.util.Map.of("csrfToken", "5a1b2c3d", "counter", 3))),
                        java.util.Arrays.asList(null, null), 1).build()));
        return blobs;
    }

    private static List<byte[]> corpus() {
        List<byte[]> corpus = new ArrayList<>(plainBlobs());
        for (SessionProtection mode : SessionProtection.values()) {
            BlobSealer s = BlobSealer.create(mode, mode == SessionProtection.NONE ? List.of() : KEYS, 64);
            for (byte[] b : plainBlobs()) {
                corpus.add(s.seal(b));
            }
        }
        return corpus;
    }

    private static Fuzzer fuzzer() {
        return Fuzzer.of(SEED, corpus()).bounded(INPUTS, BUDGET).allocationLimit(16, 1 << 20);
    }

    @Test
    void blobParser() {
        Fuzzer.Report r = fuzzer().run("BlobCodec.decode", UnreadableBlobException.class, BlobCodec::decode);
        System.out.println("BlobCodec.decode: " + r);
        assertTrue(r.refused > 0, r.toString());
    }

    @Test
    void sealerInEveryMode() {
        for (SessionProtection mode : SessionProtection.values()) {
            BlobSealer s = BlobSealer.create(mode, mode == SessionProtection.NONE ? List.of() : KEYS, 64);
            Fuzzer.Report r = fuzzer().run("BlobSealer " + mode, UnreadableBlobException.class,
                    in -> BlobCodec.decode(s.open(in)));
            System.out.println("BlobSealer " + mode + ": " + r);
            assertTrue(r.refused > 0, mode + ": " + r);
        }
    }
}
