package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FreshRunTest {

    @Test
    void callersDuringARunShareTheNextRunWhichStartsAfterIt() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch firstEntered = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        FreshRun run = new FreshRun(deadline -> {
            if (runs.incrementAndGet() == 1) {
                firstEntered.countDown();
                await(releaseFirst);
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Future<Boolean> first = pool.submit(() -> run.await(5000));
            assertTrue(firstEntered.await(5, TimeUnit.SECONDS));
            // three callers arrive while the first run runs: it may have started before they called
            java.util.List<Future<Boolean>> later = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                later.add(pool.submit(() -> run.await(5000)));
            }
            Thread.sleep(50); // (not an ordering: only gives them time to queue; the assertions hold either way)
            assertFalse(later.get(0).isDone(), "not satisfied by the run that started before it");
            releaseFirst.countDown();
            assertTrue(first.get(5, TimeUnit.SECONDS));
            for (Future<Boolean> f : later) {
                assertTrue(f.get(5, TimeUnit.SECONDS));
            }
            assertTrue(runs.get() >= 2 && runs.get() <= 4, "runs: " + runs.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCallerGivesUpAfterItsWait() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        FreshRun run = new FreshRun(deadline -> {
            entered.countDown();
            await(release);
        });
        Thread t = new Thread(() -> run.await(5000));
        t.start();
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        assertFalse(run.await(50), "a run is busy for longer than the caller waits");
        release.countDown();
        t.join(5000);
        assertTrue(run.await(1000));
    }

    @Test
    void aLoneCallerRunsItOnItsOwnThread() {
        AtomicInteger runs = new AtomicInteger();
        String[] thread = new String[1];
        FreshRun run = new FreshRun(deadline -> {
            runs.incrementAndGet();
            thread[0] = Thread.currentThread().getName();
        });
        assertTrue(run.await(100));
        assertTrue(run.await(100));
        assertEquals(2, runs.get(), "each call sees a run that started after it");
        assertEquals(Thread.currentThread().getName(), thread[0]);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
