package io.msm.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The README's demo plays its whole story: six requests, one Tomcat stop, one memcached kill, nothing lost. */
class DemoIT {
    @Test
    void storyRunsAndLosesNothing() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Demo demo = new Demo(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        int status;
        try {
            status = demo.story();
        } finally {
            demo.shutdown();
        }
        String narration = bytes.toString(StandardCharsets.UTF_8);
        System.out.println(narration);
        assertEquals(0, status, narration);
        assertTrue(narration.contains("The counter went 1..6 through a Tomcat failover and a memcached failure"),
                narration);
        assertTrue(narration.contains("Tomcat tc1 stops"), narration);
        assertTrue(narration.contains("(kill -9)"), narration);
    }
}
