package io.msm.store;

import static io.msm.store.WatchedStore.awaitMillis;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A server that does not answer {@code stats} (it closes the connection, as some proxies do on a command they do not
 * know) is up as long as it accepts, and the watch stops asking it after a few tries rather than reconnect in a loop.
 * A plain ServerSocket double: it accepts, and closes a connection on its first line.
 */
class NodeWatchWithoutStatsIT {

    @Test
    void aServerThatClosesOnStatsIsUpAndNotAskedForever() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        List<Socket> open = new CopyOnWriteArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        accepted.incrementAndGet();
                        open.add(s);
                        Thread reader = new Thread(() -> closeOnFirstLine(s), "no-stats-reader");
                        reader.setDaemon(true);
                        reader.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "no-stats-acceptor");
            acceptor.setDaemon(true);
            acceptor.start();
            List<String> events = new CopyOnWriteArrayList<>();
            try (SessionStore store = WatchedStore.open("no-stats-test", "n1:127.0.0.1:" + server.getLocalPort(),
                    1000, events)) {
                awaitMillis(2000, "n1 up", () -> store.isConnected("n1"));
                // real time is the subject: a watch that kept asking would reconnect every 20 ms meanwhile
                Thread.sleep(1000);
                assertEquals(List.of("n1 up"), events);
                assertTrue(accepted.get() <= NodeWatch.MIN_OPEN + NodeWatch.UNANSWERED_MAX,
                        accepted.get() + " connections in 1 s");
            }
        } finally {
            for (Socket s : open) {
                s.close();
            }
        }
    }

    private static void closeOnFirstLine(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            for (int b; (b = in.read()) >= 0; ) {
                if (b == '\n') {
                    return; // not a command it knows
                }
            }
        } catch (IOException e) {
            // closed
        }
    }
}
