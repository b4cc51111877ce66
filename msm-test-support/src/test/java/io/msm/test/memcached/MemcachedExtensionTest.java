package io.msm.test.memcached;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
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
    void tlsIsSwitchedOnWithWithTlsOnly() {
        MemcachedExtension extension = MemcachedExtension.servers(1);
        for (String arg : new String[] {"-Z", "--enable-ssl"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> extension.withArgs(arg),
                    arg);
            assertTrue(e.getMessage().contains(arg) && e.getMessage().contains("withTls"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> extension.withTls(null));
        assertNotSame(extension, extension.withTls(MemcachedTls.serverCertificate()));
        assertDoesNotThrow(() -> extension.withTls(MemcachedTls.wrongHost()).withArgs("-o", "ssl_min_version=3"));
    }

    @Test
    void tlsDescribesItself() {
        assertEquals("MemcachedTls.serverCertificate()", MemcachedTls.serverCertificate().toString());
        assertEquals("MemcachedTls.wrongHost().requireClientCertificate()",
                MemcachedTls.wrongHost().requireClientCertificate().toString());
        assertTrue(MemcachedTls.serverCertificate().requireClientCertificate().requiresClientCertificate());
    }

    @Test
    void theDockerFallbackRefusesTlsBeforeStartingAnything() {
        MemcachedBackend.Environment dockerOnly = MemcachedBackend.Environment.of(
                name -> MemcachedBackend.BACKEND_PROPERTY.equals(name) ? "docker" : null, name -> null,
                file -> false, () -> true);
        MemcachedExtension extension = MemcachedExtension.servers(1).withTls(MemcachedTls.serverCertificate())
                .withBackendEnvironment(dockerOnly);
        IllegalStateException e = assertThrows(IllegalStateException.class, extension::startServers);
        assertEquals(DockerMemcachedServer.TLS_UNSUPPORTED, e.getMessage());
        assertThrows(IllegalStateException.class, () -> extension.server(0), "nothing was started");
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

    @Test
    void loopbackAddressesAreOnePerServerAndDifferent() {
        MemcachedExtension two = MemcachedExtension.servers(2);
        assertDoesNotThrow(() -> two.onLoopbackAddresses("127.0.0.2", "127.0.0.3"));
        for (String[] bad : new String[][] {{"127.0.0.2"}, {"127.0.0.2", "127.0.0.2"}, {"127.0.0.2", "10.0.0.1"},
            {"127.0.0.2", "localhost"}, {"127.0.0.2", "::1"}, {"127.0.0.2", null}}) {
            assertThrows(IllegalArgumentException.class, () -> two.onLoopbackAddresses(bad), Arrays.toString(bad));
        }
    }

    @Test
    void commandLineListensOnTheGivenAddress() {
        assertEquals(List.of("memcached", "-l", "127.0.0.2", "-p", "11211"),
                ProcessCommandLine.of(Path.of("memcached"), "127.0.0.2", List.of(), null, 11211, -1).subList(0, 5));
    }
}
