package io.msm.tomcat;

import io.msm.test.jars.ArtifactScan;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

/** The packaged msm-tc9 jar is for Tomcat 9 only: javax.servlet, never jakarta.servlet. */
class ServletApiLineIT {
    @Test
    void tc9JarRefersToJavaxServletOnly() {
        Path jar = Paths.get(System.getProperty("msm.artifact"));
        ArtifactScan.assertServletApiLine(jar, "javax", "jakarta");
        ArtifactScan.assertOtherMsmArtifactsServletFree(jar);
    }
}
