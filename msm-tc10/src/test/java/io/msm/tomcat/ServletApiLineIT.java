package io.msm.tomcat;

import io.msm.test.jars.ArtifactScan;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

/** The packaged msm-tc10 jar (msm-tc9 migrated) is for Tomcat 10.1 and 11: jakarta.servlet, never javax.servlet. */
class ServletApiLineIT {
    @Test
    void tc10JarRefersToJakartaServletOnly() {
        Path jar = Paths.get(System.getProperty("msm.artifact"));
        ArtifactScan.assertServletApiLine(jar, "jakarta", "javax");
        ArtifactScan.assertOtherMsmArtifactsServletFree(jar);
    }
}
