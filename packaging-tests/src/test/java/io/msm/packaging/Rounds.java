package io.msm.packaging;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Rounds of cart requests in a thread of their own, while the test stops, switches, starts and kills Tomcats: in each
 * round every user makes one request ({@link ShopUser#next()}). The first unexpected answer ends the rounds and is
 * kept, with the phase it happened in. Bounded: at most {@code maxRounds} rounds and {@code maxTime}; a round starts
 * at most every {@code pace} (a rate, not an ordering: the test waits for rounds, never for time).
 */
final class Rounds implements AutoCloseable {
    private final List<ShopUser> users;
    private final int maxRounds;
    private final long deadline;
    private final long paceMillis;
    private final Thread thread;
    private int completed; // guarded by this
    private boolean pauseRequested; // guarded by this
    private boolean paused; // guarded by this
    private boolean stopRequested; // guarded by this
    private String failure; // guarded by this
    private volatile String phase = "start";

    Rounds(List<ShopUser> users, int maxRounds, Duration maxTime, Duration pace) {
        this.users = users;
        this.maxRounds = maxRounds;
        this.deadline = System.nanoTime() + maxTime.toNanos();
        this.paceMillis = pace.toMillis();
        this.thread = new Thread(this::run, "migration-rounds");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            for (int round = 1; round <= maxRounds; round++) {
                synchronized (this) {
                    while (pauseRequested && !stopRequested) {
                        paused = true;
                        notifyAll();
                        wait();
                    }
                    paused = false;
                    if (stopRequested) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    fail("the rounds' time bound ran out in phase '" + phase + "'");
                    return;
                }
                for (ShopUser u : users) {
                    String problem = u.next();
                    if (problem != null) {
                        fail(u.name + ", round " + round + ", phase '" + phase + "': " + problem);
                        return;
                    }
                }
                synchronized (this) {
                    completed++;
                    notifyAll();
                }
                Thread.sleep(paceMillis); // pacing of the bounded rounds (count and time bounds above)
            }
            fail("the rounds' count bound (" + maxRounds + ") ran out in phase '" + phase + "'");
        } catch (InterruptedException e) {
            fail("interrupted");
        } catch (RuntimeException e) {
            fail("phase '" + phase + "': " + e);
        }
    }

    private synchronized void fail(String what) {
        if (failure == null) {
            failure = what;
        }
        stopRequested = true;
        notifyAll();
    }

    /** Names the phase the next requests belong to (for the failure message). */
    void phase(String name) {
        phase = name;
    }

    /** Waits until {@code more} further rounds have completed; fails with the rounds' failure if there is one. */
    synchronized void await(int more, Duration max) throws InterruptedException {
        int target = completed + more;
        long end = System.nanoTime() + max.toNanos();
        while (completed < target && failure == null) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError(more + " rounds not done within " + max + " in phase '" + phase + "'");
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        check();
    }

    /** Waits until the thread is between two rounds and holds it there (no request in flight). */
    synchronized void pause() throws InterruptedException {
        pauseRequested = true;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!paused && failure == null) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("the rounds did not pause within 60 s in phase '" + phase + "'");
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        check();
    }

    synchronized void resume() {
        pauseRequested = false;
        notifyAll();
    }

    /** Fails with the first unexpected answer, if any. */
    synchronized void check() {
        if (failure != null) {
            throw new AssertionError(failure);
        }
    }

    synchronized int completed() {
        return completed;
    }

    @Override
    public void close() {
        synchronized (this) {
            stopRequested = true;
            notifyAll();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(40));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
