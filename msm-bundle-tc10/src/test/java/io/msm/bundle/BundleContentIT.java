package io.msm.bundle;

import io.msm.test.jars.ArtifactScan;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

/** What msm-bundle-tc10.jar holds: all of msm for Tomcat's lib/, relocated, for the jakarta.servlet line only. */
class BundleContentIT {
    private final Path jar = Paths.get(System.getProperty("msm.artifact"));

    @Test
    void everythingIsInsideAndRelocated() {
        ArtifactScan.assertBundle(jar, "net.spy", "com.esotericsoftware", "org.objenesis");
    }

    @Test
    void refersToJakartaServletOnly() {
        ArtifactScan.assertServletApiLine(jar, "jakarta", "javax");
    }
}
