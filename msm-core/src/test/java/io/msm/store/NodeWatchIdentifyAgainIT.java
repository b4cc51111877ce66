package io.msm.store;

import static io.msm.store.FakeMemcached.ascii;
import static io.msm.store.WatchedStore.awaitMillis;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * After memcached closed a connection, the watch keeps asking which process answers until one answer tells: a first
 * try that fails (here memcached at {@code maxconns}: {@code ERROR Too many open connections}) does not hide a
 * restart. A {@link FakeMemcached} whose {@code stats} says pid 1, then refuses once, then says pid 2.
 */
class NodeWatchIdentifyAgainIT {

    @Test
    void aRestartWhoseFirstIdentificationFailedIsStillReported() throws Exception {
        AtomicInteger stats = new AtomicInteger();
        AtomicBoolean closeOnGet = new AtomicBoolean();
        try (FakeMemcached server = new FakeMemcached()) {
            server.odd = (command, normal, out) -> {
                if (command.equals("stats")) {
                    int n = stats.incrementAndGet();
                    if (n == 2) { // the try right after the close
                        out.write(ascii("ERROR Too many open connections\r\n"));
                        out.flush();
                        throw new IOException("closed after refusing, as memcached at maxconns");
                    }
                    out.write(ascii("STAT pid " + (n == 1 ? 1 : 2) + "\r\nSTAT time 1000\r\nSTAT uptime 10\r\nEND\r\n"));
                    return true;
                }
                if (command.startsWith("get ") && closeOnGet.getAndSet(false)) {
                    throw new IOException("closed before answering, as a memcached that restarted");
                }
                return false;
            };
            List<String> events = new CopyOnWriteArrayList<>();
            try (SessionStore store = WatchedStore.open("identify-test", server.nodes(), 1000, events)) {
                awaitMillis(2000, "n1 up", () -> store.isConnected("n1"));
                assertEquals(1, stats.get(), "identified at start");
                // a call finds its pooled connection closed, and makes the call again on a new one: the watch asks
                closeOnGet.set(true);
                store.get("n1", "k", 1000);
                awaitMillis(3000, "n1 down and up", () -> events.size() >= 3);
                assertEquals(List.of("n1 up", "n1 down", "n1 up"), events, stats.get() + " stats asked");
            }
        }
    }
}
