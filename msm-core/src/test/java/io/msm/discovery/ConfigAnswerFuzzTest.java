package io.msm.discovery;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.fuzz.Fuzzer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated bytes against {@link ConfigAnswer#parse}: the only outcome for bad input is
 * {@link ConfigAnswerException}; no input allocates beyond a bound proportional to its size, none hangs. Fixed
 * seed, bounded budget (count and time).
 */
class ConfigAnswerFuzzTest {
    private static final long SEED = 20261204L;

    /** The documented refusal, unchecked so the fuzzer's target can throw it. */
    static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(ConfigAnswerException e) {
            super(e.getMessage());
        }
    }

    @Test
    void parser() {
        List<byte[]> corpus = List.of(ConfigAnswerTest.ascii(ConfigAnswerTest.AWS_EXAMPLE),
                ConfigAnswerTest.ascii(ConfigAnswerTest.framed("3\nhost1||11211 fd00::a:2|10.0.0.2|11212\n")),
                ConfigAnswerTest.ascii("VALUE AmazonElastiCache:cluster 0 22\r\n1\na.example|1.2.3.4|1\n\r\nEND\r\n"));
        Fuzzer.Report r = Fuzzer.of(SEED, corpus).bounded(10_000, Duration.ofSeconds(8)).allocationLimit(64, 1 << 20)
                .run("ConfigAnswer.parse", Refused.class, bytes -> {
                    try {
                        ConfigAnswer.parse(bytes);
                    } catch (ConfigAnswerException e) {
                        throw new Refused(e);
                    }
                });
        System.out.println("ConfigAnswer.parse: " + r);
        assertTrue(r.refused > 0 && r.accepted > 0, r.toString());
    }
}
