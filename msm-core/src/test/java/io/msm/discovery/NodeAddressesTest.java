package io.msm.discovery;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NodeAddressesTest {
    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "10.82.235.120", "255.255.255.255", "::", "::1", "fd00::a:2", "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "::ffff:10.0.0.1", "1:2:3:4:5:6:10.0.0.1", "::10.0.0.1",
        "FE80::ABCD", "2001:db8::8a2e:370:7334"})
    void ipLiterals(String ip) {
        assertTrue(NodeAddresses.isIpLiteral(ip), ip);
        assertNull(NodeAddresses.hostProblem(ip), ip);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1", "1.2.3", "1.2.3.4.", "1.2.3.04", "1.2.3.256", "1.2.3.-4", "a.b.c.d", ":", ":::",
        "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:", "12345::",
        "::g", "1:2:3:4:5:6:7:10.0.0.1", "::10.0.0.256", "10.0.0.1::", "fe80::1%1", "[::1]", "\u0661.1.1.1",
        "::\u0661"})
    void notIpLiterals(String ip) {
        assertFalse(NodeAddresses.isIpLiteral(ip), ip);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "localhost", "myCluster.pc4ldq.0001.use1.cache.amazonaws.com", "under_score.internal",
        "0001.example", "a-b.c-d", "xn--bcher-kva.example"})
    void hostNames(String host) {
        assertNull(NodeAddresses.hostProblem(host), host);
    }
}
