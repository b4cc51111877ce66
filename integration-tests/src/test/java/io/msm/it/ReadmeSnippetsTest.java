package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's code examples are tested code: each block preceded by {@code <!-- snippet: PATH -->} must equal the
 * part of the file PATH (relative to the repository root) between its {@code snippet:begin} and
 * {@code snippet:end} lines. {@code <!-- snippet: PATH jakarta -->} compares with the javax.servlet imports
 * rewritten to jakarta.servlet, which is all that differs between Tomcat 9 and Tomcat 10.1/11 code.
 */
class ReadmeSnippetsTest {
    private static final Path ROOT = Paths.get("..").toAbsolutePath().normalize();
    private static final Pattern SNIPPET =
            Pattern.compile("<!-- snippet: (\\S+)( jakarta)? -->\\s*\\n```[a-z]*\\n(.*?)```", Pattern.DOTALL);

    @Test
    void everyReadmeSnippetIsTheTestedSource() throws IOException {
        String readme = read(ROOT.resolve("README.md"));
        Matcher m = SNIPPET.matcher(readme);
        List<String> checked = new ArrayList<>();
        while (m.find()) {
            String path = m.group(1);
            String expected = tagged(read(ROOT.resolve(path)), path);
            if (m.group(2) != null) {
                expected = expected.replace("import javax.servlet.", "import jakarta.servlet.");
                checked.add(path + " (jakarta)");
            } else {
                checked.add(path);
            }
            assertEquals(expected, m.group(3), "README.md's snippet of " + path + " differs from the file");
        }
        // The README must keep its tested examples: Tomcat 9, Tomcat 10.1/11, Spring Boot 3.
        assertTrue(checked.contains("integration-tests/src/test/java/io/msm/it/EmbeddedTomcatExample.java"), checked::toString);
        assertTrue(checked.contains("integration-tests/src/test/java/io/msm/it/EmbeddedTomcatExample.java (jakarta)"),
                checked::toString);
        assertTrue(checked.stream().anyMatch(c -> c.startsWith("integration-tests-spring-boot/")), checked::toString);
    }

    @Test
    void everyAttributeHasARowInTheConfigurationReference() throws IOException {
        assertEquals(List.of(), attributesWithoutRow(attribute -> "\n| `" + attribute + "` |"),
                "attributes without a row in README.md's configuration reference");
    }

    /** Each row's default column is the default msm-core declares for the attribute. */
    @Test
    void everyRowShowsTheDeclaredDefault() throws IOException {
        List<String> wrong = attributesWithoutRow(
                attribute -> "\n| `" + attribute + "` | " + MsmConfig.documentedDefault(attribute) + " |");
        wrong.replaceAll(attribute -> attribute + " (declared default: " + MsmConfig.documentedDefault(attribute) + ")");
        assertEquals(List.of(), wrong, "README.md's configuration reference shows another default");
    }

    /** The attributes whose {@code row} README.md's configuration reference lacks. */
    private static List<String> attributesWithoutRow(Function<String, String> row) throws IOException {
        String readme = read(ROOT.resolve("README.md"));
        String reference = readme.substring(readme.indexOf("## Configuration"), readme.indexOf("## Choosing a serializer"));
        List<String> missing = new ArrayList<>();
        for (String attribute : MsmConfig.ATTRIBUTES) {
            if (!reference.contains(row.apply(attribute))) {
                missing.add(attribute);
            }
        }
        return missing;
    }

    /** The lines strictly between the "snippet:begin" and "snippet:end" lines. */
    private static String tagged(String source, String path) {
        int begin = source.indexOf("snippet:begin");
        int end = source.indexOf("snippet:end");
        assertTrue(begin >= 0 && end > begin, path + " has no snippet:begin ... snippet:end");
        int from = source.indexOf('\n', begin) + 1;
        int to = source.lastIndexOf('\n', end) + 1;
        return source.substring(from, to);
    }

    private static String read(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    }
}
