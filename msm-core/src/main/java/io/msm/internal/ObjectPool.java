package io.msm.internal;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded pool of objects too costly to make for every use (a serializer with its buffers), without a lock: a
 * slot is taken and refilled with one compare-and-set, and a thread starts looking at a slot of its own, so two
 * request threads seldom touch the same slot. {@link #take()} on an empty pool returns {@code null} (the caller
 * makes a new object); an object given back to a full pool is dropped. An object is handed to one taker at a time.
 */
public final class ObjectPool<T> {
    private final AtomicReferenceArray<T> slots;

    /**
     * @throws IllegalArgumentException if {@code capacity} is below 1
     */
    public ObjectPool(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity + ", must be at least 1");
        }
        this.slots = new AtomicReferenceArray<>(capacity);
    }

    /** The usual capacity: four objects per processor, at least 8. */
    public static int defaultCapacity() {
        return Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
    }

    /** An object of the pool, now the caller's alone; {@code null} if the pool is empty. */
    public T take() {
        int n = slots.length();
        int start = firstSlot(n);
        for (int i = 0; i < n; i++) {
            int k = (start + i) % n;
            T t = slots.get(k);
            if (t != null && slots.compareAndSet(k, t, null)) {
                return t;
            }
        }
        return null;
    }

    /** Gives {@code t} (taken from this pool, or new) back for the next taker; dropped if every slot is full. */
    public void give(T t) {
        if (t == null) {
            throw new IllegalArgumentException("null");
        }
        int n = slots.length();
        int start = firstSlot(n);
        for (int i = 0; i < n; i++) {
            int k = (start + i) % n;
            if (slots.get(k) == null && slots.compareAndSet(k, null, t)) {
                return;
            }
        }
    }

    /** How many objects the pool holds now (a moment's count, for tests). */
    int size() {
        int size = 0;
        for (int i = 0; i < slots.length(); i++) {
            if (slots.get(i) != null) {
                size++;
            }
        }
        return size;
    }

    private static int firstSlot(int n) {
        return Math.floorMod(Thread.currentThread().hashCode(), n);
    }
}
