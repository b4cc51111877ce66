package io.msm.store;

import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Puts a deadline on socket writes, which Java's blocking sockets do not have (their timeout applies to reads only):
 * a write larger than the socket buffers to a memcached that stopped reading (a frozen process, a partition that
 * drops packets without a reset) would block until the peer reads again, however long. A guarded write whose
 * deadline passes has its socket closed from a timer thread, which ends the write with an exception.
 *
 * <p>Only writes that can block are guarded (see {@link TextConnection#writeValue}); the timer thread is
 * started by the first of them and ends with {@link #close()}.
 */
final class WriteDeadline implements AutoCloseable {
    private final String threadName;
    private ScheduledThreadPoolExecutor timer;
    private boolean closed;

    WriteDeadline(String threadName) {
        this.threadName = threadName;
    }

    /** A write in progress: {@link #end()} it when the write returns or fails. */
    static final class Guard {
        private static final int ARMED = 0;
        private static final int ENDED = 1;
        private static final int FIRED = 2;
        private final AtomicInteger state = new AtomicInteger(ARMED);
        private final Socket socket;
        private volatile ScheduledFuture<?> timeout;

        private Guard(Socket socket) {
            this.socket = socket;
        }

        private void fire() {
            if (state.compareAndSet(ARMED, FIRED)) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // closed anyway
                }
            }
        }

        /** @return {@code false} if the deadline passed first (the socket is closed) */
        boolean end() {
            ScheduledFuture<?> t = timeout;
            if (t != null) {
                t.cancel(false);
            }
            return state.compareAndSet(ARMED, ENDED);
        }
    }

    /** Closes {@code socket} at {@code deadlineNanos} ({@link System#nanoTime()}) unless the guard ended before. */
    Guard guard(Socket socket, long deadlineNanos) {
        Guard g = new Guard(socket);
        ScheduledThreadPoolExecutor t = timer();
        if (t == null) { // closing: the socket is closed with the store
            return g;
        }
        g.timeout = t.schedule(g::fire, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        return g;
    }

    private synchronized ScheduledThreadPoolExecutor timer() {
        if (timer == null && !closed) {
            ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
                Thread thread = new Thread(r, threadName);
                thread.setDaemon(true);
                // not the webapp's loader of the request that happened to start it
                thread.setContextClassLoader(WriteDeadline.class.getClassLoader());
                return thread;
            });
            t.setRemoveOnCancelPolicy(true);
            timer = t;
        }
        return timer;
    }

    @Override
    public void close() {
        ScheduledThreadPoolExecutor t;
        synchronized (this) {
            closed = true;
            t = timer;
            timer = null;
        }
        if (t != null) {
            t.shutdownNow();
            try {
                t.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
