package io.msm.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigAnswerTest {
    static final String NODE1 = "myCluster.pc4ldq.0001.use1.cache.amazonaws.com|10.82.235.120|11211";
    static final String NODE2 = "myCluster.pc4ldq.0002.use1.cache.amazonaws.com|10.80.249.27|11211";
    /** The example of AWS's "Adding Auto Discovery to your Memcached client library", Output Format, byte for byte. */
    static final String AWS_EXAMPLE = "CONFIG cluster 0 136\r\n12\n" + NODE1 + " " + NODE2 + "\n\r\nEND\r\n";

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A well-framed answer around {@code data}: the byte count is right, whatever the data. */
    static String framed(String data) {
        return "CONFIG cluster 0 " + ascii(data).length + "\r\n" + data + "\r\nEND\r\n";
    }

    private static String refused(String answer) {
        return refused(ascii(answer));
    }

    private static String refused(byte[] answer) {
        ConfigAnswerException e = assertThrows(ConfigAnswerException.class, () -> ConfigAnswer.parse(answer));
        assertTrue(e.getMessage().startsWith("bad configuration endpoint answer: "), e.getMessage());
        assertTrue(e.getMessage().length() < 300, "one log line: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertRefused(String answer, String reason) {
        String message = refused(answer);
        assertTrue(message.contains(reason), message);
    }

    @Test
    void theAwsExample() throws IOException {
        ClusterConfig c = ConfigAnswer.parse(ascii(AWS_EXAMPLE));
        assertEquals(12, c.version());
        assertEquals(List.of(new DiscoveredNode("myCluster.pc4ldq.0001.use1.cache.amazonaws.com", "10.82.235.120", 11211),
                new DiscoveredNode("myCluster.pc4ldq.0002.use1.cache.amazonaws.com", "10.80.249.27", 11211)), c.nodes());
    }

    @Test
    void theLegacyAnswerOfEnginesBefore1414() throws IOException {
        String data = "1\n" + NODE1 + "\n";
        ClusterConfig c = ConfigAnswer.parse(ascii("VALUE AmazonElastiCache:cluster 0 " + data.length() + "\r\n" + data
                + "\r\nEND\r\n"));
        assertEquals(1, c.version());
        assertEquals(1, c.nodes().size());
    }

    @Test
    void anEmptyIpKeepsItsPipes() throws IOException {
        ClusterConfig c = ConfigAnswer.parse(ascii(framed("3\nhost1||11211 host2|172.31.8.107|11212\n")));
        assertEquals(new DiscoveredNode("host1", "", 11211), c.nodes().get(0));
        assertEquals(new DiscoveredNode("host2", "172.31.8.107", 11212), c.nodes().get(1));
    }

    @Test
    void crlfLineEndsInsideTheDataAreRead() throws IOException {
        ClusterConfig c = ConfigAnswer.parse(ascii(framed("12\r\n" + NODE1 + " " + NODE2 + "\r\n")));
        assertEquals(12, c.version());
        assertEquals(2, c.nodes().size());
    }

    @Test
    void memorystoreNamesNodesByIpAndIpv6IsRead() throws IOException {
        ClusterConfig c = ConfigAnswer.parse(ascii(framed("7\n10.0.0.2|10.0.0.2|11211 fd00::a:2|fd00::a:2|11211\n")));
        assertEquals("10.0.0.2", c.nodes().get(0).host());
        assertEquals("fd00::a:2", c.nodes().get(1).ip());
    }

    @Test
    void extraSpacesBetweenNodesAreSkipped() throws IOException {
        assertEquals(2, ConfigAnswer.parse(ascii(framed("1\n a|1.2.3.4|1   b||2 \n"))).nodes().size());
    }

    @Test
    void readStopsAtTheEndOfOneAnswer() throws IOException {
        String second = framed("13\n" + NODE2 + "\n");
        InputStream in = new ByteArrayInputStream(ascii(AWS_EXAMPLE + second));
        assertEquals(12, ConfigAnswer.read(in).version());
        assertEquals(13, ConfigAnswer.read(in).version());
        assertEquals(-1, in.read());
    }

    @Test
    void theLargestDataAcceptedIsTheCap() throws IOException {
        StringBuilder nodes = new StringBuilder();
        for (int i = 1; nodes.length() < ConfigAnswer.MAX_DATA_BYTES - 100; i++) {
            nodes.append("node").append(i).append(".example.com|10.0.").append(i / 250).append('.').append(i % 250)
                    .append("|11211 ");
        }
        String head = "5\n" + nodes;
        String data = head + " ".repeat(ConfigAnswer.MAX_DATA_BYTES - head.length() - 1) + "\n";
        assertEquals(ConfigAnswer.MAX_DATA_BYTES, data.length());
        ClusterConfig c = ConfigAnswer.parse(ascii(framed(data)));
        assertTrue(c.nodes().size() > 900, c.nodes().size() + " nodes");
        assertRefused(framed(data + " "), "declares 65537 data bytes, more than the 65536 msm reads");
    }

    @Test
    void answersThatAreNoConfiguration() {
        assertRefused("ERROR\r\n", "does not know the command (ERROR)");
        assertRefused("END\r\n", "has no cluster configuration");
        assertRefused("SERVER_ERROR out of memory\r\n", "answered \"SERVER_ERROR out of memory\"");
        assertRefused("", "closed the connection without answering");
    }

    @ParameterizedTest
    @ValueSource(strings = {"CONFIG clusters 0 5", "CONFIG cluster 0", "CONFIG cluster 0 5 7", "CONFIG  cluster 0 5",
        "config cluster 0 5", "VALUE other 0 5", "CONFIG cluster 0 -1", "CONFIG cluster 0 +5", "CONFIG cluster 0 1e3",
        "CONFIG cluster x 5", "CONFIG cluster 4294967296 5", "CONFIG cluster 0 99999999999999999999",
        "CONFIG cluster 0 65537", "CONFIG cluster 0 1000000000", "CONFIG cluster 0 5 "})
    void wrongFirstLines(String first) {
        String message = refused(first + "\r\n1\na||1\n\r\nEND\r\n");
        assertTrue(message.contains("first line"), message);
    }

    @Test
    void theCountMustMatchTheData() {
        // the example the brief quoted: count 147 and a CRLF after the version, neither matching
        assertRefused("CONFIG cluster 0 147\r\n12\r\n" + NODE1 + " " + NODE2 + "\n\r\nEND\r\n", "ends after 144 of the 147");
        assertRefused(AWS_EXAMPLE.replace(" 136", " 135"), "does not match the data");
        assertRefused(AWS_EXAMPLE.replace(" 136", " 137"), "does not match the data");
        assertRefused(AWS_EXAMPLE.replace("\r\nEND\r\n", "\r\nEND\n"), "does not match the data");
    }

    @Test
    void cutAnswers() {
        assertRefused(AWS_EXAMPLE.substring(0, 10), "within its first line \"CONFIG clu\"");
        assertRefused(AWS_EXAMPLE.substring(0, 60), "ends after 38 of the 136 data bytes");
        assertRefused(AWS_EXAMPLE.substring(0, AWS_EXAMPLE.length() - 3), "ends before its END");
        assertRefused(AWS_EXAMPLE + "VERSION", "7 bytes follow the END");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "-1", "1.5", " 12", "12 ", "+12", "9223372036854775808",
        "99999999999999999999"})
    void wrongVersions(String version) {
        assertRefused(framed(version + "\n" + NODE1 + "\n"), "the version \"");
    }

    @Test
    void theLargestVersion() throws IOException {
        assertEquals(Long.MAX_VALUE, ConfigAnswer.parse(ascii(framed(Long.MAX_VALUE + "\n" + NODE1 + "\n"))).version());
    }

    @Test
    void wrongShapes() {
        assertRefused(framed("12"), "has no version line");
        assertRefused(framed("12\n"), "the node list is empty");
        assertRefused(framed("12\n   \n"), "the node list is empty");
        assertRefused(framed("12\n" + NODE1 + "\nmore\n"), "more than two lines");
        assertRefused(framed("12\n" + NODE1 + "\0\n"), "the byte 0x00 at offset");
        assertRefused(framed("12\n" + NODE1 + "\u00ff\n"), "the byte 0xff at offset");
    }

    @ParameterizedTest
    @ValueSource(strings = {"host|1.2.3.4", "host", "a|b|c|d", "host||11211|", "|1.2.3.4|11211"})
    void nodesNotHostIpPort(String node) {
        String message = refused(framed("1\n" + node + "\n"));
        assertTrue(message.contains("node 1"), message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-a.example", "a-.example", "a..example", "a.example.", ".a", "bad_ch@r.example",
        "1.2.3.999", "10.0.0.01", "a.b.1", "host!.example", "1::2::3", "g::1"})
    void badHosts(String host) {
        String message = refused(framed("1\n" + host + "|1.2.3.4|11211\n"));
        assertTrue(message.contains("node 1 host"), message);
    }

    @Test
    void hostLengths() throws IOException {
        String label63 = "a".repeat(63);
        String host253 = String.join(".", label63, label63, label63, "b".repeat(61));
        assertEquals(253, host253.length());
        assertEquals(host253, ConfigAnswer.parse(ascii(framed("1\n" + host253 + "||1\n"))).nodes().get(0).host());
        assertRefused(framed("1\n" + host253 + "b||1\n"), "a host name of 254 characters (at most 253)");
        assertRefused(framed("1\n" + "a".repeat(64) + ".example||1\n"), "a label of 64 characters (at most 63)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"myhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.1.1.1", "::ffff:1.2.3",
        "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "[::1]", "12345::1"})
    void badIps(String ip) {
        assertRefused(framed("1\nhost|" + ip + "|11211\n"), "is not an IP address");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "65536", "", "abc", "123456", "-1", "+80", "080000"})
    void badPorts(String port) {
        assertRefused(framed("1\nhost|1.2.3.4|" + port + "\n"), "is not in 1..65535");
    }

    @Test
    void aNodeListedTwiceIsRefused() {
        assertRefused(framed("1\na.example|1.2.3.4|1 a.example|1.2.3.5|1\n"), "names one node twice");
        assertRefused(framed("1\na.example||1 A.EXAMPLE||1\n"), "names one node twice");
        assertRefused(framed("1\na.example|1.2.3.4|1 b.example|1.2.3.4|1\n"), "names one node twice");
        assertEquals(2, assertAccepted(framed("1\na.example|1.2.3.4|1 a.example|1.2.3.4|2\n")).nodes().size());
    }

    private static ClusterConfig assertAccepted(String answer) {
        try {
            return ConfigAnswer.parse(ascii(answer));
        } catch (ConfigAnswerException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    @Test
    void aMegabyteOfGarbageIsReadOnlyUpToTheFirstLineCap() {
        byte[] garbage = new byte[1 << 20];
        Arrays.fill(garbage, (byte) 'x');
        CountingInput in = new CountingInput(garbage);
        ConfigAnswerException e = assertThrows(ConfigAnswerException.class, () -> ConfigAnswer.read(in));
        assertTrue(e.getMessage().contains("the first line is longer than 256 bytes"), e.getMessage());
        assertTrue(in.count <= ConfigAnswer.MAX_FIRST_LINE + 1, in.count + " bytes read");
        assertTrue(e.getMessage().length() < 200, e.getMessage());
    }

    @Test
    void aMegabyteOfGarbageAfterAGoodFirstLineIsReadOnlyUpToTheDataCap() {
        byte[] head = ascii("CONFIG cluster 0 65536\r\n");
        byte[] answer = Arrays.copyOf(head, 1 << 20);
        Arrays.fill(answer, head.length, answer.length, (byte) 0x9C);
        CountingInput in = new CountingInput(answer);
        ConfigAnswerException e = assertThrows(ConfigAnswerException.class, () -> ConfigAnswer.read(in));
        assertTrue(e.getMessage().contains("does not match the data"), e.getMessage());
        assertEquals(head.length + ConfigAnswer.MAX_DATA_BYTES + 7, in.count);
    }

    /** Counts the bytes read through it. */
    static final class CountingInput extends FilterInputStream {
        long count;

        CountingInput(byte[] bytes) {
            super(new ByteArrayInputStream(bytes));
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            count += b < 0 ? 0 : 1;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            count += Math.max(n, 0);
            return n;
        }
    }
}
