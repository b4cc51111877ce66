package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Argument checks that need no server. */
class MemcachedExtensionTest {

    @Test
    void countMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> MemcachedExtension.servers(0));
    }

    @Test
    void withArgsReturnsANewExtension() {
        MemcachedExtension plain = MemcachedExtension.servers(1);
        assertNotSame(plain, plain.withArgs("-vv"));
    }

    @Test
    void managedOptionsAreRejected() {
        MemcachedExtension extension = MemcachedExtension.servers(1);
        for (String arg : new String[] {"-l", "-l0.0.0.0", "--listen=0.0.0.0", "-p", "--port=11211", "-U", "-d",
            "--daemon", "-s"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> extension.withArgs(arg),
                    arg);
            assertTrue(e.getMessage().contains(arg), e.getMessage());
        }
        assertDoesNotThrow(() -> extension.withArgs("-vv", "-S", "-o", "modern", "-c", "2048", "-u", "nobody"));
    }

    @Test
    void accessBeforeStartExplainsRegistration() {
        MemcachedExtension extension = MemcachedExtension.servers(1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> extension.server(0));
        assertTrue(e.getMessage().contains("@RegisterExtension"), e.getMessage());
        assertThrows(IllegalStateException.class, extension::servers);
        assertThrows(IllegalStateException.class, () -> extension.nodesAttribute("n1"));
    }

    @Test
    void keysThatCouldInjectCommandsAreRejected() {
        for (String key : new String[] {"", "a b", "a\r\nflush_all", "tab\t", "x".repeat(251), "\u007f"}) {
            assertThrows(IllegalArgumentException.class, () -> TextProtocolClient.checkKey(key), key);
        }
        assertDoesNotThrow(() -> TextProtocolClient.checkKey("x".repeat(250)));
        assertDoesNotThrow(() -> TextProtocolClient.checkKey("session:ABC-123/é%+"));
    }
}
