package io.msm.store;

import static io.msm.store.WatchedStore.awaitMillis;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.net.TcpProxy;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A connect that times out once (a lost SYN, a full accept backlog) while the node's established connections answer
 * is no outage; connects that keep timing out are. A {@link TcpProxy} in front of a real memcached stops accepting
 * with its backlog full: the kernel drops the watch's SYN, the forwarded connections keep working.
 */
class NodeWatchConnectTimeoutIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(1);

    /** Below the kernel's first SYN retry (1 s), so the connect times out rather than succeed late. */
    private static final long OPERATION_TIMEOUT = 800;
    private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

    @Test
    void oneConnectTimeoutWhileTheConnectionsAnswerIsNoOutage() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        try (TcpProxy proxy = TcpProxy.to(MEMCACHED.server(0).port());
                SessionStore store = WatchedStore.open("timeout-test", "n1:127.0.0.1:" + proxy.port(),
                        OPERATION_TIMEOUT, events)) {
            awaitMillis(2000, "n1 up", () -> store.isConnected("n1"));
            store.set("n1", "k", 0, VALUE, 1000);
            proxy.stopAccepting();
            // the first connection the watch opened is the one it watches: closed, the watch connects (SYN dropped)
            proxy.closeFirstForwarded();
            assertArrayEquals(VALUE, store.get("n1", "k", 1000), "the established connection answers");
            // the watch's connect is under way while the backlog is full: its SYN was dropped, and the kernel's
            // retry (1 s) comes after OPERATION_TIMEOUT, so this connect times out whenever accepting resumes
            awaitMillis(2000, "the watch connecting", () -> connecting("msm-watch-timeout-test-n1"));
            long connecting = System.nanoTime();
            proxy.startAccepting(); // the next connect (at once after the timeout) goes through
            // real time is the subject: no event may come until the timeout and the next connect are over
            Thread.sleep(Math.max(0, OPERATION_TIMEOUT + 1200 - (System.nanoTime() - connecting) / 1_000_000));
            assertEquals(List.of("n1 up"), events, "no outage for one timed-out connect");
            assertArrayEquals(VALUE, store.get("n1", "k", 1000));
        }
    }

    /** Whether the thread named {@code name} is blocked in a socket connect now. */
    private static boolean connecting(String name) {
        for (Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
            if (t.getKey().getName().equals(name)) {
                for (StackTraceElement e : t.getValue()) {
                    if (e.getClassName().equals(Socket.class.getName()) && e.getMethodName().equals("connect")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Test
    void connectsThatKeepTimingOutReportTheNodeDown() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        try (TcpProxy proxy = TcpProxy.to(MEMCACHED.server(0).port());
                SessionStore store = WatchedStore.open("timeouts-test", "n1:127.0.0.1:" + proxy.port(),
                        OPERATION_TIMEOUT, events)) {
            awaitMillis(2000, "n1 up", () -> store.isConnected("n1"));
            proxy.stopAccepting();
            proxy.closeFirstForwarded();
            // two connects time out (one may first get into the backlog and go unanswered: not down either)
            // the event, not the state: the listener is told just after the state flips (CI saw the state first)
            long down = awaitMillis(5000, "n1 down", () -> events.contains("n1 down"));
            assertFalse(store.isConnected("n1"));
            System.out.println("NodeWatchConnectTimeoutIT: down after " + down + " ms of connects timing out");
            assertEquals(List.of("n1 up", "n1 down"), events);
        }
    }
}
