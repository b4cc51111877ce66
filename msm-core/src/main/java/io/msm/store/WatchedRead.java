package io.msm.store;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The read a {@link NodeWatch} makes on one idle connection of a {@link DirectConnections} pool, and the two ways it
 * ends early: a call found memcached closed another connection ({@link #cut}: the watch asks which process answers
 * now, without waiting out its read), or the watch ends ({@link #end}). The connection read on, its cut and the
 * read's end are kept under one lock, so a cut closes only the connection being read, never one back in the pool.
 */
final class WatchedRead {
    /** What {@link #read} found. */
    enum Found {
        /** Nothing came in the time: the connection is open and goes back to the pool. */
        QUIET,
        /** The node answers, but the connection is closed (bytes nobody asked for, or cut as its read timed out). */
        ALIVE,
        /** memcached closed the connection (it is closed here too). */
        PEER_CLOSED,
        /** The read was cut, or the watch had ended: the connection is closed; this pass proves nothing. */
        CUT,
        /** A call's news came before the read: not read, the connection goes back to the pool. */
        NEWS_FIRST
    }

    private final Object lock = new Object();
    /** The connection being read, {@code null} while none (guarded by {@link #lock}). */
    private TextConnection reading;
    /** {@link #reading} was closed by {@link #cut}, not by memcached (guarded by the lock). */
    private boolean wasCut;
    /** {@link #end} was called: nothing is read any more (guarded by the lock). */
    private boolean ended;

    /**
     * Reads {@code c} for {@code millis}: memcached never sends unsolicited bytes, so a read that ends before the time
     * is up means memcached closed the connection (killed, stopped, or it closed an idle connection).
     *
     * @param news set by a call that found a connection of the pool closed by memcached (before it cuts the read);
     *     if it is set already the read is skipped, so the news does not wait out the read
     */
    Found read(TextConnection c, long millis, AtomicBoolean news) {
        synchronized (lock) {
            if (ended) {
                c.close();
                return Found.CUT;
            }
            if (news.get()) {
                return Found.NEWS_FIRST;
            }
            reading = c; // from here a call's news cuts the read (it sets the flag, then cuts)
            wasCut = false;
        }
        try {
            c.deadline(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis));
            int b = c.socket.getInputStream().read();
            c.close(); // closed by memcached, or bytes nobody asked for: out of step either way
            return b < 0 ? Found.PEER_CLOSED : Found.ALIVE;
        } catch (SocketTimeoutException quiet) {
            if (finish()) {
                return Found.QUIET;
            }
            c.close(); // cut just as it timed out
            return Found.ALIVE;
        } catch (IOException e) {
            boolean cutHere = !finish();
            c.close();
            return cutHere ? Found.CUT : Found.PEER_CLOSED;
        } catch (RuntimeException e) {
            c.close(); // neither pooled nor left open
            throw e;
        } finally {
            finish();
        }
    }

    /** The read is over; {@code true} if its connection was not cut meanwhile. */
    private boolean finish() {
        synchronized (lock) {
            reading = null;
            return !wasCut;
        }
    }

    /** Ends a read under way at once: its connection is closed, so the read does not wait out its time. */
    void cut() {
        synchronized (lock) {
            if (reading != null && !wasCut) {
                wasCut = true;
                try {
                    reading.transport.close(); // the TCP socket (under TLS too): a read blocked on it ends
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
    }

    /** Ends a read under way at once, and every later one (the watch is closing). */
    void end() {
        synchronized (lock) {
            ended = true;
        }
        cut();
    }
}
