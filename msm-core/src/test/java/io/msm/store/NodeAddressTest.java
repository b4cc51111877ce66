package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** What {@link NodeAddress} resolves again and what it keeps (moving names: NodeNameDnsIT). */
class NodeAddressTest {

    @Test
    void ipLiteralsAreNotNames() {
        assertTrue(NodeAddress.isIpLiteral("127.0.0.1"));
        assertTrue(NodeAddress.isIpLiteral("10.1.2.3"));
        assertTrue(NodeAddress.isIpLiteral("::1"));
        assertTrue(NodeAddress.isIpLiteral("fe80::1%lo"));
        assertFalse(NodeAddress.isIpLiteral("localhost"));
        assertFalse(NodeAddress.isIpLiteral("mc-1.abc123.0001.use1.cache.amazonaws.com"));
        assertFalse(NodeAddress.isIpLiteral("1.2.3.example"));
    }

    @Test
    void anIpLiteralIsNeverResolvedAgain() {
        NodeAddress a = NodeAddress.of("127.0.0.1", 11211, "test");
        InetSocketAddress first = a.now();
        assertFalse(a.resolve());
        assertSame(first, a.now());
    }

    @Test
    void aFixedAddressIsNeverResolvedAgain() {
        InetSocketAddress fixed = InetSocketAddress.createUnresolved("localhost", 11211);
        NodeAddress a = NodeAddress.fixed(fixed);
        assertFalse(a.resolve());
        assertSame(fixed, a.now());
    }

    @Test
    void aNameResolvedAgainKeepsItsHostStringForTls() {
        NodeAddress a = NodeAddress.of("localhost", 11211, "test");
        assertFalse(a.resolve(), "the same address");
        assertEquals("localhost", a.now().getHostString());
        assertEquals(11211, a.now().getPort());
        assertFalse(a.now().isUnresolved());
    }
}
