package io.msm.discovery;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a configuration endpoint's answer to {@link #COMMAND}, the Auto Discovery command of AWS ElastiCache and
 * Google Memorystore for Memcached. As documented by AWS ("Adding Auto Discovery to your Memcached client library",
 * section Output Format) the answer is framed like a memcached {@code get} hit (the node line cut here):
 * <pre>
 * CONFIG cluster 0 136\r\n
 * 12\n
 * myCluster.pc4ldq.0001.use1.cache.amazonaws.com|10.82.235.120|11211 myCluster.pc4ldq.0002.use1...|11211\n
 * \r\n
 * END\r\n
 * </pre>
 * The first line is {@code CONFIG cluster <flags> <bytes>}; the data block that follows is exactly {@code <bytes>}
 * bytes (136 above: the version line and the node line, each with its LF), then come {@code \r\n} and
 * {@code END\r\n}. The version counts the changes of the node list; each node is {@code hostname|ip|port}, the IP
 * left empty (its pipes kept) when the endpoint does not know it. Engines older than 1.4.14 answer
 * {@link #LEGACY_COMMAND} instead, with the same data under {@code VALUE AmazonElastiCache:cluster <flags> <bytes>};
 * both first lines are accepted.
 *
 * <p>Every length is checked before anything is allocated or read: at most 256 bytes for the first line, at most
 * {@link #MAX_DATA_BYTES} for the data, 7 for the end. Reading stops at the first byte that breaks the format, so an
 * endpoint sending endless garbage costs a bounded read; no byte past the answer's {@code END\r\n} is consumed. Line
 * ends inside the data may be LF or CRLF (AWS writes LF, some clients' tests CRLF); anything else is strict. Host
 * names and IPs are checked by their text and never resolved.
 */
public final class ConfigAnswer {
    /** The Auto Discovery command (engine 1.4.14 and later). */
    public static final String COMMAND = "config get cluster\r\n";
    /** The same question to engines before 1.4.14. */
    public static final String LEGACY_COMMAND = "get AmazonElastiCache:cluster\r\n";
    /**
     * The most data bytes msm accepts in one answer, 64 KiB. A node takes at most 253 (host name) + 45 (IPv6) + 5
     * (port) + 3 (separators) = 306 bytes, an ElastiCache node typically about 70: room for 214 nodes of the longest
     * possible names and for about 900 typical ones, where ElastiCache allows 60 nodes per cluster (and Memorystore
     * 20 per instance).
     */
    public static final int MAX_DATA_BYTES = 64 * 1024;
    /** The longest first line read: {@code CONFIG cluster 4294967295 65536} is 31 bytes, an error line more. */
    static final int MAX_FIRST_LINE = 256;
    private static final int MAX_QUOTED = 60;
    private static final byte[] END = "\r\nEND\r\n".getBytes(StandardCharsets.US_ASCII);

    private ConfigAnswer() {
    }

    /**
     * Reads one answer from {@code in}, which is left just past its {@code END\r\n}. Reads byte by byte up to the
     * data block, so an unbuffered socket stream is fine (and a buffered one reads no more than it buffers). The
     * bytes read are bounded, the time is not: give a socket's stream a read timeout.
     *
     * @throws ConfigAnswerException the answer is not a cluster configuration (the message says why)
     * @throws IOException {@code in} failed (a socket timeout, a reset)
     */
    public static ClusterConfig read(InputStream in) throws IOException {
        String first = firstLine(in);
        int size = dataSize(first);
        byte[] data = in.readNBytes(size);
        if (data.length < size) {
            throw bad("the answer ends after " + data.length + " of the " + size
                    + " data bytes its first line declares");
        }
        byte[] end = in.readNBytes(END.length);
        if (!Arrays.equals(end, END)) {
            throw bad(end.length < END.length && isPrefix(end)
                    ? "the answer ends before its END"
                    : "the " + size + " data bytes are not followed by \\r\\nEND\\r\\n but by \"" + quote(end)
                            + "\": the byte count does not match the data");
        }
        return parseData(data);
    }

    /**
     * Reads a whole answer held in {@code answer}: {@link #read} with nothing allowed after {@code END\r\n}.
     *
     * @throws ConfigAnswerException the answer is not a cluster configuration (the message says why)
     */
    public static ClusterConfig parse(byte[] answer) throws ConfigAnswerException {
        ByteArrayInputStream in = new ByteArrayInputStream(answer);
        ClusterConfig config;
        try {
            config = read(in);
        } catch (ConfigAnswerException e) {
            throw e;
        } catch (IOException e) { // a ByteArrayInputStream does not fail
            throw new IllegalStateException(e);
        }
        if (in.available() > 0) {
            throw bad(in.available() + " bytes follow the END");
        }
        return config;
    }

    /** The first line without its line end, at most {@code MAX_FIRST_LINE} (256) bytes read. */
    private static String firstLine(InputStream in) throws IOException {
        byte[] line = new byte[MAX_FIRST_LINE];
        int n = 0;
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw bad(n == 0 ? "the endpoint closed the connection without answering"
                        : "the answer ends after " + n + " bytes, within its first line \"" + quote(line, n) + "\"");
            }
            if (n == MAX_FIRST_LINE) {
                throw bad("the first line is longer than " + MAX_FIRST_LINE + " bytes (\"" + quote(line, MAX_QUOTED)
                        + "\"): not an answer to config get cluster");
            }
            line[n++] = (byte) b;
        }
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        return new String(line, 0, n, StandardCharsets.ISO_8859_1);
    }

    /** The data size the first line declares, or why the first line is not a configuration's. */
    private static int dataSize(String line) throws ConfigAnswerException {
        if (line.equals("ERROR")) {
            throw bad("the endpoint does not know the command (ERROR): not an ElastiCache or Memorystore"
                    + " configuration endpoint, or an engine older than 1.4.14");
        }
        if (line.equals("END")) {
            throw bad("the endpoint has no cluster configuration (END without data)");
        }
        if (line.startsWith("SERVER_ERROR") || line.startsWith("CLIENT_ERROR")) {
            throw bad("the endpoint answered \"" + quote(line) + "\"");
        }
        String[] t = line.split(" ", -1);
        boolean config = t.length == 4 && t[0].equals("CONFIG") && t[1].equals("cluster");
        boolean legacy = t.length == 4 && t[0].equals("VALUE") && t[1].equals("AmazonElastiCache:cluster");
        if (!config && !legacy) {
            throw bad("the first line \"" + quote(line) + "\" is not CONFIG cluster <flags> <bytes>");
        }
        if (!digits(t[2], 10) || Long.parseLong(t[2]) > 0xFFFF_FFFFL) {
            throw bad("the first line \"" + quote(line) + "\" has flags that are not a number in 0..4294967295");
        }
        if (!digits(t[3], 9)) {
            throw bad("the first line \"" + quote(line) + "\" has a byte count that is not a number in 0.."
                    + MAX_DATA_BYTES);
        }
        int size = Integer.parseInt(t[3]);
        if (size > MAX_DATA_BYTES) {
            throw bad("the first line declares " + size + " data bytes, more than the " + MAX_DATA_BYTES
                    + " msm reads");
        }
        return size;
    }

    /** The data block: {@code <version>\n<nodes>\n}. */
    private static ClusterConfig parseData(byte[] data) throws ConfigAnswerException {
        for (int i = 0; i < data.length; i++) {
            int b = data[i] & 0xFF;
            if ((b < 0x20 || b > 0x7E) && b != '\r' && b != '\n') {
                throw bad(String.format("the data holds the byte 0x%02x at offset %d: not text", b, i));
            }
        }
        String text = new String(data, StandardCharsets.US_ASCII);
        int firstEnd = text.indexOf('\n');
        if (firstEnd < 0) {
            throw bad("the data (\"" + quote(text) + "\") has no version line");
        }
        long version = version(stripCr(text.substring(0, firstEnd)));
        int secondEnd = text.indexOf('\n', firstEnd + 1);
        String nodeLine = stripCr(text.substring(firstEnd + 1, secondEnd < 0 ? text.length() : secondEnd));
        if (secondEnd >= 0 && secondEnd + 1 < text.length()) {
            throw bad("the data has more than two lines (\"" + quote(text.substring(secondEnd + 1)) + "\" follows"
                    + " the node list)");
        }
        return new ClusterConfig(version, nodes(nodeLine));
    }

    private static long version(String line) throws ConfigAnswerException {
        if (!digits(line, 19)) {
            throw bad("the version \"" + quote(line) + "\" is not a number in 0.." + Long.MAX_VALUE);
        }
        try {
            return Long.parseLong(line);
        } catch (NumberFormatException e) { // 19 digits above Long.MAX_VALUE
            throw bad("the version \"" + quote(line) + "\" is not a number in 0.." + Long.MAX_VALUE);
        }
    }

    private static List<DiscoveredNode> nodes(String line) throws ConfigAnswerException {
        List<DiscoveredNode> nodes = new ArrayList<>();
        Map<String, DiscoveredNode> byKey = new HashMap<>();
        Map<String, DiscoveredNode> byIp = new HashMap<>();
        for (String entry : line.split(" ")) {
            if (entry.isEmpty()) {
                continue;
            }
            DiscoveredNode n = node(entry, nodes.size() + 1);
            DiscoveredNode before = byKey.putIfAbsent(n.key(), n);
            if (before == null && !n.ip().isEmpty()) {
                before = byIp.putIfAbsent(n.ip() + "|" + n.port(), n);
            }
            if (before != null) {
                throw bad("the node list names one node twice: " + quote(before.toString()) + " and "
                        + quote(n.toString()));
            }
            nodes.add(n);
        }
        if (nodes.isEmpty()) {
            throw bad("the node list is empty");
        }
        return nodes;
    }

    /** One {@code hostname|ip|port}, the {@code index}th of the list (from 1). */
    private static DiscoveredNode node(String entry, int index) throws ConfigAnswerException {
        int a = entry.indexOf('|');
        int b = a < 0 ? -1 : entry.indexOf('|', a + 1);
        if (b < 0 || entry.indexOf('|', b + 1) >= 0) {
            throw bad("node " + index + " \"" + quote(entry) + "\" is not hostname|ip|port");
        }
        String host = entry.substring(0, a);
        String ip = entry.substring(a + 1, b);
        String port = entry.substring(b + 1);
        String problem = NodeAddresses.hostProblem(host);
        if (problem != null) {
            throw bad("node " + index + " host \"" + quote(host) + "\": " + problem);
        }
        if (!ip.isEmpty() && !NodeAddresses.isIpLiteral(ip)) {
            throw bad("node " + index + " " + quote(host) + ": ip \"" + quote(ip) + "\" is not an IP address");
        }
        if (!digits(port, 5) || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            throw bad("node " + index + " " + quote(host) + ": port \"" + quote(port) + "\" is not in 1..65535");
        }
        return new DiscoveredNode(host, ip, Integer.parseInt(port));
    }

    /** Whether {@code s} is 1 to {@code max} ASCII digits. */
    private static boolean digits(String s, int max) {
        if (s.isEmpty() || s.length() > max) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static String stripCr(String line) {
        return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    }

    private static boolean isPrefix(byte[] b) {
        return Arrays.equals(b, Arrays.copyOf(END, b.length));
    }

    /** At most {@link #MAX_QUOTED} characters of {@code s}, anything but printable ASCII shown as {@code ?}. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), MAX_QUOTED) + 3);
        for (int i = 0; i < s.length() && i < MAX_QUOTED; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c <= 0x7E ? c : '?');
        }
        return s.length() > MAX_QUOTED ? sb.append("...").toString() : sb.toString();
    }

    private static String quote(byte[] b) {
        return quote(b, b.length);
    }

    private static String quote(byte[] b, int n) {
        return quote(new String(b, 0, Math.min(n, b.length), StandardCharsets.ISO_8859_1));
    }

    private static ConfigAnswerException bad(String reason) {
        return new ConfigAnswerException("bad configuration endpoint answer: " + reason);
    }
}
