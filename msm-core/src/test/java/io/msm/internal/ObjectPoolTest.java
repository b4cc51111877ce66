package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.Collections;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ObjectPoolTest {

    @Test
    void anEmptyPoolGivesNothingAndAnObjectGivenBackIsTakenAgain() {
        ObjectPool<Object> pool = new ObjectPool<>(4);
        assertNull(pool.take());
        Object o = new Object();
        pool.give(o);
        assertSame(o, pool.take());
        assertNull(pool.take(), "taken once, not twice");
    }

    @Test
    void keepsAtMostItsCapacityAndEachObjectOnce() {
        ObjectPool<Object> pool = new ObjectPool<>(3);
        List<Object> given = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Object o = new Object();
            given.add(o);
            pool.give(o);
        }
        assertEquals(3, pool.size());
        Set<Object> taken = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Object o; (o = pool.take()) != null; ) {
            assertTrue(taken.add(o), "handed out twice");
            assertTrue(given.contains(o));
        }
        assertEquals(3, taken.size());
    }

    @Test
    void refusesAZeroCapacityAndANullObject() {
        assertThrows(IllegalArgumentException.class, () -> new ObjectPool<>(0));
        assertThrows(IllegalArgumentException.class, () -> new ObjectPool<>(1).give(null));
        assertTrue(ObjectPool.defaultCapacity() >= 8);
    }

    /** Threads taking and giving back the same few objects: no object is ever held by two threads at once. */
    @Test
    void noObjectIsHeldByTwoThreadsAtOnce() throws Exception {
        ObjectPool<AtomicBoolean> pool = new ObjectPool<>(2);
        int threads = 4;
        int rounds = 20_000;
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger made = new AtomicInteger();
        AtomicReference<String> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < rounds && failure.get() == null; i++) {
                        AtomicBoolean inUse = pool.take();
                        if (inUse == null) {
                            inUse = new AtomicBoolean();
                            made.incrementAndGet();
                        }
                        if (!inUse.compareAndSet(false, true)) {
                            failure.set("an object was handed to a second thread while in use");
                        }
                        for (int k = 0; k < 100; k++) { // held a while: a second taker would find it in use
                            Thread.onSpinWait();
                        }
                        inUse.set(false);
                        pool.give(inUse);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            w.start();
            workers.add(w);
        }
        start.countDown();
        for (Thread w : workers) {
            w.join(TimeUnit.SECONDS.toMillis(30));
            assertTrue(!w.isAlive(), "worker still running");
        }
        assertNull(failure.get(), failure.get());
        assertTrue(pool.size() <= 2);
        assertTrue(made.get() >= 1 && made.get() < rounds, "objects were reused: " + made.get() + " made for "
                + threads * rounds + " uses");
    }
}
