package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.testing.TestTranscoderFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A peer that answers one byte at a time (a proxy in front of memcached that trickles) cannot hold a calling thread
 * beyond the call's timeout: each read waiting less than the timeout must not restart the clock.
 */
class ReadDeadlineIT {
    private static final long TIMEOUT = 300;
    /** One byte of the answer per this many ms: each read waits far less than {@link #TIMEOUT}. */
    private static final long TRICKLE_MILLIS = 60;

    private TricklingServer server;
    private SessionStore store;

    /** Answers every command with a whole answer, trickled: {@code mg} a hit, {@code set} STORED, touch TOUCHED. */
    private static final class TricklingServer implements AutoCloseable {
        final ServerSocket listener;
        final List<Socket> sockets = new CopyOnWriteArrayList<>();

        TricklingServer() throws IOException {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread accept = new Thread(this::accept, "trickling-server");
            accept.setDaemon(true);
            accept.start();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket s = listener.accept();
                    sockets.add(s);
                    Thread t = new Thread(() -> serve(s), "trickling-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.ISO_8859_1)); OutputStream out = s.getOutputStream()) {
                for (String line; (line = in.readLine()) != null; ) {
                    String answer;
                    if (line.startsWith("mg ")) {
                        answer = "VA 20 t100\r\n" + "v".repeat(20) + "\r\n";
                    } else if (line.startsWith("set ")) {
                        in.readLine(); // the value
                        answer = "STORED\r\n";
                    } else if (line.startsWith("touch ")) {
                        answer = "TOUCHED\r\n";
                    } else {
                        continue;
                    }
                    for (byte b : answer.getBytes(StandardCharsets.ISO_8859_1)) {
                        out.write(b);
                        out.flush();
                        Thread.sleep(TRICKLE_MILLIS);
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the client closed the connection
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @BeforeEach
    void start() throws Exception {
        server = new TricklingServer();
        MsmConfig config = MsmConfig.builder()
                .set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:" + server.listener.getLocalPort())
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(ReadDeadlineIT.class.getClassLoader());
        store = MemcachedSessionStore.open(config, MemcachedSessionStore.ConnectionListener.NONE);
    }

    @AfterEach
    void stop() throws Exception {
        store.close();
        server.close();
    }

    /** The call fails as a timeout, close to its timeout, not when the trickled answer is complete. */
    private static void timesOutInTime(String what, Executable call) {
        long start = System.nanoTime();
        StoreException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(StoreException.class, call, what + " returned after the whole trickled answer"));
        long waited = (System.nanoTime() - start) / 1_000_000;
        assertTrue(e.isTimeout(), e::toString);
        assertTrue(waited >= TIMEOUT - 10 && waited < TIMEOUT + 250, what + " waited " + waited + " ms");
    }

    @Test
    void aTrickledAnswerToAMetaGetEndsTheCallAtItsTimeout() {
        timesOutInTime("mg", () -> store.getWithTtl("n1", "k", SessionStore.KEEP_EXPIRATION, TIMEOUT));
    }

    @Test
    void aTrickledAnswerToASetEndsTheCallAtItsTimeout() {
        timesOutInTime("set", () -> store.set("n1", "k", 100, new byte[] {1}, TIMEOUT));
    }

    @Test
    void aTrickledAnswerToATouchEndsTheCallAtItsTimeout() {
        timesOutInTime("touch", () -> store.touch("n1", "k", 100, TIMEOUT));
    }
}
