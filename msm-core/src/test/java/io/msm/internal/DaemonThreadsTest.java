package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DaemonThreadsTest {

    @Test
    void awaitEndReturnsOnceEveryThreadOfAShutDownPoolHasEnded() throws Exception {
        DaemonThreads threads = new DaemonThreads("test-pool");
        ExecutorService pool = Executors.newFixedThreadPool(2, threads);
        CountDownLatch started = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> seen = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            pool.execute(() -> {
                synchronized (seen) {
                    seen.add(Thread.currentThread());
                }
                started.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertTrue(started.await(5, TimeUnit.SECONDS));
        pool.shutdown();
        assertFalse(threads.awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20)), "still running: bounded");

        release.countDown();
        assertTrue(threads.awaitEnd(System.nanoTime() + TimeUnit.SECONDS.toNanos(5)));
        for (Thread t : seen) {
            assertEquals(Thread.State.TERMINATED, t.getState(), t.getName());
            assertTrue(t.isDaemon());
            assertTrue(t.getName().startsWith("test-pool-"), t.getName());
        }
    }

    @Test
    void neverWaitsForTheCallingThreadItself() {
        assertFalse(DaemonThreads.awaitEnd(Thread.currentThread(), System.nanoTime() + TimeUnit.SECONDS.toNanos(5)));
    }
}
