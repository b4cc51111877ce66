package io.msm.store;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The connections {@link NodeWatch} opens into a node's pool, each left idle there if it serves: with the question
 * which memcached process answers ({@link MemcachedProcess}), or with none and a wait to see whether the peer keeps
 * it open. {@link #abort} ends those under way at once (a connect or read blocked on a node that does not answer
 * returns when its socket is closed), so the watch's thread ends with the store.
 */
final class WatchConnects {
    private final DirectConnections pool;
    /** The sockets connecting (or asking {@code stats}, or waiting) right now. */
    private final Set<DeadlineSocket> opening = ConcurrentHashMap.newKeySet();
    private volatile boolean aborted;

    WatchConnects(DirectConnections pool) {
        this.pool = pool;
    }

    /** What is done on a connection just opened; it returns whether the connection goes idle into the pool. */
    private interface OnOpen<T> {
        T run(TextConnection c, long deadline) throws IOException;
    }

    /**
     * Opens a connection within {@code timeoutMillis} and leaves it idle in the pool; with {@code identify}, first asks
     * memcached which process answers on it (within the same time).
     *
     * @return the process (equal strings: the same one), or {@code null} if not asked or memcached did not say
     * @throws MemcachedProcess.StatsUnanswered connected, but closed before any answer to {@code stats}
     * @throws IOException could not connect
     */
    String openIdle(long timeoutMillis, boolean identify) throws IOException {
        return open(timeoutMillis, (c, deadline) -> {
            String process;
            try {
                process = identify ? MemcachedProcess.ask(c, deadline) : null;
            } catch (MemcachedProcess.StatsUnanswered e) {
                if (c.unconfirmed) {
                    pool.firstAnswer(c, e); // closed before answering: under TLS, a refused client certificate
                }
                c.close();
                throw e;
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
            if (c.transport.isClosed()) {
                return null; // asked, no usable answer in time: not kept
            }
            if (c.unconfirmed && process != null) {
                pool.firstAnswer(c, null);
            }
            pool.release(c);
            return process;
        });
    }

    /**
     * Opens a connection within {@code timeoutMillis}, asks nothing on it and watches it for {@code holdMillis}: a
     * server keeps it open (it goes idle into the pool), a port forwarder whose memcached is gone closes it at once.
     *
     * @return whether it stayed open
     * @throws IOException could not connect
     */
    boolean openIdleStaysOpen(long timeoutMillis, long holdMillis) throws IOException {
        return open(timeoutMillis, (c, deadline) -> {
            try {
                c.deadline(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(holdMillis));
                c.socket.getInputStream().read();
                c.close(); // closed, or bytes nobody asked for
                return false;
            } catch (SocketTimeoutException quiet) {
                pool.release(c);
                return true;
            } catch (IOException e) {
                c.close();
                return false;
            }
        });
    }

    private <T> T open(long timeoutMillis, OnOpen<T> then) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        DeadlineSocket s = new DeadlineSocket();
        opening.add(s);
        try {
            if (aborted) {
                s.close();
                throw new IOException("the watch is closed");
            }
            return then.run(pool.open(s, deadline), deadline);
        } finally {
            opening.remove(s);
        }
    }

    /** Ends the connects and questions under way and refuses new ones (the watch stops). */
    void abort() {
        aborted = true;
        for (DeadlineSocket s : opening) {
            try {
                s.close(); // wakes a thread blocked in its connect or read
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
