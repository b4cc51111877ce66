package io.msm.anchor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.fuzz.Fuzzer;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated bytes against the readers of memcached-session-manager's format (its session blob, its validity
 * record): the only outcome for bad input is {@link AnchorFormatException}; no input allocates beyond a bound
 * proportional to its size, none hangs. The attribute bytes inside are fuzzed against msm's Java serializer
 * ({@code LegacyAttributesFuzzTest} in msm-serializer-java). Fixed seed, bounded budget (count and time).
 */
class AnchorFuzzTest {
    private static final long SEED = 20261203L;
    private static final int INPUTS = 10_000;
    private static final Duration BUDGET = Duration.ofSeconds(8);

    @Test
    void blobParser() throws IOException {
        byte[] vector = AnchorBlobTest.vector();
        Fuzzer.Report r = Fuzzer.of(SEED, List.of(vector, AnchorBlobTest.header())).bounded(INPUTS, BUDGET)
                .allocationLimit(16, 1 << 20).run("AnchorBlob.parse", AnchorFormatException.class, AnchorBlob::parse);
        System.out.println("AnchorBlob.parse: " + r);
        assertTrue(r.refused > 0 && r.accepted > 0, r.toString());
    }

    @Test
    void validityParser() {
        byte[] record = new AnchorValidity(1800, 1700000001000L, 1700000002000L).encode();
        Fuzzer.Report r = Fuzzer.of(SEED, List.of(record)).bounded(INPUTS, BUDGET).allocationLimit(16, 1 << 20)
                .run("AnchorValidity.parse", AnchorFormatException.class, AnchorValidity::parse);
        System.out.println("AnchorValidity.parse: " + r);
        assertTrue(r.refused > 0, r.toString());
    }
}
