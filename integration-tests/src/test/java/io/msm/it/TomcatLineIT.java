package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.catalina.util.ServerInfo;
import org.junit.jupiter.api.Test;

/**
 * The suite runs on Tomcat 9.0 (module integration-tests) and, migrated to jakarta.*, on 10.1 and 11
 * (module integration-tests-jakarta); each execution names its line in {@code msm.it.tomcatLine}. This test
 * proves the execution really runs on that line, so a classpath mistake cannot pass the suite on the wrong
 * Tomcat.
 */
class TomcatLineIT {
    @Test
    void runsOnTheTomcatLineTheBuildAskedFor() {
        String line = System.getProperty("msm.it.tomcatLine");
        assertNotNull(line, "the failsafe execution must set msm.it.tomcatLine");
        String version = ServerInfo.getServerNumber();
        System.out.println("TomcatLineIT: " + ServerInfo.getServerInfo() + " (" + version + "), servlet API "
                + servletApiPackage());
        assertTrue(version.startsWith(line + "."), "expected Tomcat " + line + ".x, running " + version);
    }

    private static String servletApiPackage() {
        return javax.servlet.http.HttpSession.class.getPackageName();
    }
}
