package io.msm.serializer.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.transcoder.CrossJdk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cross-JDK check ({@link CrossJdk}, run by every serializer's contract test against the other JDK) can fail:
 * bytes that do not read back as their case are reported, by this JVM and by another JVM reading them; a serializer
 * that goes wrong on Java 25 only, when it writes or when it reads, fails the check in that direction.
 */
class CrossJdkCheckTest {
    private static final JavaSerializationTranscoderFactory FACTORY = new JavaSerializationTranscoderFactory();
    private static final Set<String> UNSUPPORTED = new JavaTranscoderContractTest().unsupportedCases();

    @Test
    void aCaseThatReadsBackWrongIsReportedHereAndByTheOtherJvm(@TempDir Path dir) throws Exception {
        CrossJdk.write(FACTORY, UNSUPPORTED, dir);
        assertEquals(List.of(), CrossJdk.read(FACTORY, UNSUPPORTED, dir), "untouched, every case reads back");
        // case 0 ("String") now holds the bytes of case 1 ("Integer")
        Files.copy(dir.resolve("1.bin"), dir.resolve("0.bin"), StandardCopyOption.REPLACE_EXISTING);
        List<String> failures = CrossJdk.read(FACTORY, UNSUPPORTED, dir);
        assertEquals(1, failures.size(), failures.toString());
        assertTrue(failures.get(0).contains("Integer") && failures.get(0).contains("String"), failures.get(0));

        Path thisJava = Paths.get(System.getProperty("java.home"), "bin", "java");
        String other = CrossJdk.readWith(thisJava, FACTORY, UNSUPPORTED, dir);
        assertNotNull(other, "the other JVM reports it too (exit 1)");
        assertTrue(other.startsWith("exit 1:") && other.contains("1 case(s) failed"), other);
    }

    @Test
    void aSerializerThatWritesWrongOnJava25FailsOnlyTheDirectionFromJava25(@TempDir Path work) throws Exception {
        List<String> failures = acrossWith(new SkewedOnJava25.Writes(), work);
        assertTrue(!failures.isEmpty() && failures.stream().allMatch(f -> f.startsWith(from25())), failures.toString());
    }

    @Test
    void aSerializerThatReadsWrongOnJava25FailsOnlyTheDirectionToJava25(@TempDir Path work) throws Exception {
        List<String> failures = acrossWith(new SkewedOnJava25.Reads(), work);
        assertTrue(!failures.isEmpty() && failures.stream().noneMatch(f -> f.startsWith(from25())), failures.toString());
    }

    private static List<String> acrossWith(io.msm.spi.TranscoderFactory factory, Path work) throws Exception {
        Path other = CrossJdk.otherJava();
        Assumptions.assumeTrue(other != null, "the other JDK (17 or 25) is not installed");
        return CrossJdk.readAcross(other, factory, UNSUPPORTED, work);
    }

    /** How readAcross starts a failure in the direction Java 25 wrote and Java 17 read. */
    private static String from25() {
        return Runtime.version().feature() == 25 ? "JDK 25 -> " : "/";
    }
}
