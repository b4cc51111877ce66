package io.msm.discovery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.ConfigEndpointServer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link ConfigAnswer} reading the answers of msm-test-support's configuration endpoint over a real socket. */
class ConfigEndpointTest {
    private final ConfigEndpointServer endpoint = ConfigEndpointServer.start();
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        endpoint.close();
    }

    /** A connection to the endpoint whose reads time out after 5 s (or {@code timeoutMillis}). */
    private Socket connect(int timeoutMillis) throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), endpoint.port()), 5000);
        s.setSoTimeout(timeoutMillis);
        return s;
    }

    private static ClusterConfig ask(Socket s, String command) throws IOException {
        s.getOutputStream().write(command.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return ConfigAnswer.read(s.getInputStream());
    }

    private static List<String> addresses(ClusterConfig c) {
        List<String> a = new ArrayList<>();
        c.nodes().forEach(n -> a.add(n.host() + "/" + n.ip() + ":" + n.port()));
        return a;
    }

    @Test
    void answersTheNodeListItIsGivenWithARisingVersion() throws IOException {
        assertEquals(1, endpoint.nodesAt(11311, 11312));
        Socket s = connect(5000);
        ClusterConfig first = ask(s, ConfigAnswer.COMMAND);
        assertEquals(1, first.version());
        assertEquals(List.of("localhost/127.0.0.1:11311", "localhost/127.0.0.1:11312"), addresses(first));
        assertEquals(first, ask(s, ConfigAnswer.COMMAND), "asked again on the same connection");

        assertEquals(2, endpoint.nodes("b.example|10.0.0.2|11211", "c.example||11211"));
        ClusterConfig second = ask(s, ConfigAnswer.COMMAND);
        assertEquals(2, second.version());
        assertEquals(List.of("b.example/10.0.0.2:11211", "c.example/:11211"), addresses(second));
        assertEquals(second, ask(s, ConfigAnswer.LEGACY_COMMAND), "the legacy get has the same data");
        assertEquals(4, endpoint.questions());
        assertEquals(1, endpoint.connections());
    }

    @Test
    void theReplyIsTheOneAwsDocuments() {
        byte[] reply = ConfigEndpointServer.reply("CONFIG cluster", 12, ConfigAnswerTest.NODE1, ConfigAnswerTest.NODE2);
        assertArrayEquals(ConfigAnswerTest.ascii(ConfigAnswerTest.AWS_EXAMPLE), reply);
    }

    @Test
    void severalConnectionsAreServedAtOnce() throws IOException {
        endpoint.nodesAt(11311);
        Socket[] open = {connect(5000), connect(5000), connect(5000)};
        for (int round = 0; round < 2; round++) {
            for (Socket s : open) {
                assertEquals(1, ask(s, ConfigAnswer.COMMAND).version());
            }
        }
        assertEquals(6, endpoint.questions());
        assertEquals(3, endpoint.connections());
    }

    @Test
    void theEndpointGoesAwayAndReturnsOnTheSamePort() throws IOException {
        endpoint.nodesAt(11311);
        Socket before = connect(5000);
        assertEquals(1, ask(before, ConfigAnswer.COMMAND).version());
        endpoint.stop();
        assertEquals(-1, before.getInputStream().read(), "its connections are closed");
        assertThrows(ConnectException.class, () -> connect(5000));

        endpoint.nodesAt(11311, 11312); // changed while away
        endpoint.restart();
        ClusterConfig after = ask(connect(5000), ConfigAnswer.COMMAND);
        assertEquals(2, after.version());
        assertEquals(2, after.nodes().size());
        assertEquals(2, endpoint.questions());
    }

    @Test
    void rawAnswersAreRefusedWithTheirReason() throws IOException {
        endpoint.answerRaw("CONFIG cluster 0 136\r\n12\n".getBytes(StandardCharsets.US_ASCII));
        ConfigAnswerException cut = assertThrows(ConfigAnswerException.class,
                () -> ask(connect(5000), ConfigAnswer.COMMAND));
        assertTrue(cut.getMessage().contains("ends after 3 of the 136 data bytes"), cut.getMessage());

        endpoint.answerRaw("ERROR\r\n".getBytes(StandardCharsets.US_ASCII));
        ConfigAnswerException error = assertThrows(ConfigAnswerException.class,
                () -> ask(connect(5000), ConfigAnswer.COMMAND));
        assertTrue(error.getMessage().contains("does not know the command"), error.getMessage());

        byte[] garbage = new byte[1 << 20];
        Arrays.fill(garbage, (byte) '#');
        endpoint.answerRaw(garbage);
        Socket s = connect(5000);
        s.getOutputStream().write(ConfigAnswer.COMMAND.getBytes(StandardCharsets.US_ASCII));
        InputStream in = new BufferedInputStream(s.getInputStream(), 512);
        ConfigAnswerException longLine = assertThrows(ConfigAnswerException.class, () -> ConfigAnswer.read(in));
        assertTrue(longLine.getMessage().contains("longer than 256 bytes"), longLine.getMessage());
        assertEquals(3, endpoint.questions());
    }

    @Test
    void aSilentEndpointEndsInTheReadTimeout() throws IOException {
        endpoint.nodesAt(11311);
        endpoint.answerNothing();
        Socket s = connect(200);
        assertThrows(SocketTimeoutException.class, () -> ask(s, ConfigAnswer.COMMAND));
        assertEquals(1, endpoint.questions());
    }
}
