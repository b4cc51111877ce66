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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A server that does not answer {@code stats} (it closes the connection, as some proxies do on a command they do not
 * know) is up as long as it accepts, and the watch stops asking it after a few tries rather than reconnect in a loop.
 * A plain ServerSocket double: it accepts, closes a connection on its first line, and closes idle ones now and then.
 */
class NodeWatchWithoutStatsIT {
    /** Its idle timeout: longer than the watch's check that a connection stays open ({@link NodeWatch#RETRY_MILLIS}). */
    private static final long IDLE_TIMEOUT = 2 * NodeWatch.RETRY_MILLIS;

    @Test
    void aServerThatClosesOnStatsIsUpAndNotAskedForever() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger statsAsked = new AtomicInteger();
        AtomicInteger closedIdle = new AtomicInteger();
        List<Socket> open = new CopyOnWriteArrayList<>();
        Map<Socket, Long> acceptedAt = new ConcurrentHashMap<>();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        accepted.incrementAndGet();
                        open.add(s);
                        acceptedAt.put(s, System.nanoTime());
                        Thread reader = new Thread(() -> closeOnFirstLine(s, statsAsked), "no-stats-reader");
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
                // it also closes a connection open for longer than IDLE_TIMEOUT, the oldest, every 100 ms (as
                // memcached's idle_timeout): each close is a moment the watch would ask again, were it not to stop
                for (int i = 0; i < 20; i++) {
                    Thread.sleep(100); // real time is the subject: a watch that kept asking would reconnect meanwhile
                    for (Socket s : open) {
                        if (!s.isClosed() && System.nanoTime() - acceptedAt.get(s) > IDLE_TIMEOUT * 1_000_000) {
                            s.close();
                            closedIdle.incrementAndGet();
                            break;
                        }
                    }
                }
                assertEquals(List.of("n1 up"), events);
                assertTrue(statsAsked.get() <= NodeWatch.UNANSWERED_MAX, "stats asked " + statsAsked.get() + " times");
                // each close is replaced by one connection, each try asks on one and checks one stays open
                int bound = closedIdle.get() + NodeWatch.MIN_OPEN + 2 * NodeWatch.UNANSWERED_MAX;
                assertTrue(accepted.get() <= bound, accepted.get() + " connections for " + closedIdle.get()
                        + " closed");
                assertTrue(closedIdle.get() > NodeWatch.UNANSWERED_MAX, "only " + closedIdle.get() + " closed");
            }
        } finally {
            for (Socket s : open) {
                s.close();
            }
        }
    }

    private static void closeOnFirstLine(Socket s, AtomicInteger statsAsked) {
        try (s) {
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int b; (b = in.read()) >= 0; ) {
                if (b == '\n') {
                    if (line.toString().startsWith("stats")) {
                        statsAsked.incrementAndGet();
                    }
                    return; // not a command it knows
                }
                line.append((char) b);
            }
        } catch (IOException e) {
            // closed
        }
    }
}
