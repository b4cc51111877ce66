package io.msm.engine;

import io.msm.store.MemcachedSessionStore;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/** An in-memory store that honours TTLs on an injected clock, counts calls, and can be taken down or slowed. */
final class FakeStore implements SessionStore {
    private static final java.util.concurrent.atomic.AtomicLong VERSIONS = new java.util.concurrent.atomic.AtomicLong();

    private static final class Item {
        final byte[] value;
        final long expiresAt;
        final long cas;

        Item(byte[] value, long expiresAt) {
            this(value, expiresAt, VERSIONS.incrementAndGet());
        }

        Item(byte[] value, long expiresAt, long cas) {
            this.value = value;
            this.expiresAt = expiresAt;
            this.cas = cas;
        }
    }

    private final Map<String, Item> items = new ConcurrentHashMap<>();
    private final LongSupplier clock;
    final MemcachedSessionStore.ConnectionListener listener;
    final Set<String> disconnected = ConcurrentHashMap.newKeySet();
    final Set<String> timingOut = ConcurrentHashMap.newKeySet();
    final AtomicInteger gets = new AtomicInteger();
    final AtomicInteger noticeReads = new AtomicInteger();
    final AtomicInteger sets = new AtomicInteger();
    final AtomicInteger touches = new AtomicInteger();
    final AtomicInteger deletes = new AtomicInteger();
    volatile CountDownLatch setGate;
    volatile CountDownLatch setEntered;
    volatile CountDownLatch deleteGate;
    /** Operations that time out once each, then work again. */
    final AtomicInteger timeoutsLeft = new AtomicInteger();
    /** Keys (node/key) whose next operation fails once without a timeout (a connection reset), then works again. */
    final Set<String> failOnce = ConcurrentHashMap.newKeySet();
    /** One permit per probe of a node (a get of the key that tests a node) the store answered. */
    final java.util.concurrent.Semaphore probesAnswered = new java.util.concurrent.Semaphore(0);
    /** Every key any call named. */
    final Set<String> keysSeen = ConcurrentHashMap.newKeySet();
    /** Thread names of touch and delete calls. */
    final java.util.List<String> touchAndDeleteThreads = new java.util.concurrent.CopyOnWriteArrayList<>();

    FakeStore(LongSupplier clock, MemcachedSessionStore.ConnectionListener listener) {
        this.clock = clock;
        this.listener = listener;
    }

    private void check(String op, String node, String key) {
        keysSeen.add(key);
        if (!io.msm.store.MemcachedKeys.isSendable(key)) { // as memcached: CLIENT_ERROR (and a closed connection)
            throw StoreException.failed(op, key, node, 0, "CLIENT_ERROR bad command line format", null);
        }
        if (disconnected.contains(node)) {
            throw StoreException.unavailable(op, key, node);
        }
        if (timingOut.contains(node) || timeoutsLeft.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
            throw StoreException.timeout(op, key, node, 1, "fake timeout");
        }
        if (failOnce.remove(node + "/" + key)) {
            throw StoreException.failed(op, key, node, 0, "fake connection reset", null);
        }
    }

    private long expiry(int exp) {
        return exp == 0 ? Long.MAX_VALUE : clock.getAsLong() + exp * 1000L;
    }

    private Item live(String node, String key) {
        Item i = items.get(node + "/" + key);
        if (i != null && i.expiresAt <= clock.getAsLong()) {
            items.remove(node + "/" + key);
            return null;
        }
        return i;
    }

    /** How long a read of takeover notices takes (a slow node); 0: at once. */
    volatile long noticeReadMillis;

    /** Runs at the start of each get with its key (something landing just before a read, say). */
    volatile java.util.function.Consumer<String> beforeGet;

    @Override
    public byte[] get(String node, String key, long timeoutMillis) {
        java.util.function.Consumer<String> beforeRead = beforeGet;
        if (beforeRead != null) {
            beforeRead.accept(key);
        }
        long slow = noticeReadMillis;
        if (slow > 0 && key.contains(TakeoverNotices.KEY)) {
            try {
                Thread.sleep(Math.min(slow, timeoutMillis)); // the node's latency, not an ordering
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (key.contains(TakeoverNotices.KEY)) {
            noticeReads.incrementAndGet(); // the background reads of takeover notices are not the sessions' calls
        } else {
            gets.incrementAndGet();
        }
        check("get", node, key);
        if (key.endsWith("msm:probe")) {
            probesAnswered.release();
        }
        Item i = live(node, key);
        return i == null ? null : i.value;
    }

    @Override
    public io.msm.store.StoredValue getWithTtl(String node, String key, int refreshExp, long timeoutMillis) {
        byte[] v = get(node, key, timeoutMillis);
        Item i = items.get(node + "/" + key);
        int ttl = v == null || i == null ? io.msm.store.StoredValue.UNKNOWN_TTL
                : i.expiresAt == Long.MAX_VALUE ? io.msm.store.StoredValue.NO_EXPIRY
                : (int) ((i.expiresAt - clock.getAsLong()) / 1000);
        boolean refresh = v != null && i != null && refreshExp != KEEP_EXPIRATION;
        if (refresh) {
            items.put(node + "/" + key, new Item(i.value, expiry(refreshExp), i.cas));
        }
        return new io.msm.store.StoredValue(v, ttl, refresh, v == null || i == null ? 0 : i.cas);
    }

    @Override
    public io.msm.store.StoredValue gets(String node, String key, long timeoutMillis) {
        gets.incrementAndGet();
        check("gets", node, key);
        Item i = live(node, key);
        return i == null ? new io.msm.store.StoredValue(null, io.msm.store.StoredValue.UNKNOWN_TTL)
                : new io.msm.store.StoredValue(i.value, io.msm.store.StoredValue.UNKNOWN_TTL, false, i.cas);
    }

    @Override
    public long storeIf(String node, String key, int exp, byte[] value, long cas, long timeoutMillis) {
        if (cas == ANY) {
            set(node, key, exp, value, timeoutMillis);
            return items.get(node + "/" + key).cas;
        }
        enterWrite(key, false);
        check("set", node, key);
        synchronized (this) {
            Item i = live(node, key);
            if (cas == ADD ? i != null : i == null || i.cas != cas) {
                return i == null ? NOT_FOUND : EXISTS;
            }
            Item stored = new Item(value, expiry(exp));
            items.put(node + "/" + key, stored);
            return stored.cas;
        }
    }

    /** Runs at the start of each set (conditional or not) with its key (a write held up on its way, say). */
    volatile java.util.function.Consumer<String> beforeSet;

    @Override
    public void set(String node, String key, int exp, byte[] value, long timeoutMillis) {
        enterWrite(key, true);
        check("set", node, key);
        items.put(node + "/" + key, new Item(value, expiry(exp)));
    }

    /** A write's start: the {@link #beforeSet} hook, the count, {@link #setEntered} (plain sets), {@link #setGate}. */
    private void enterWrite(String key, boolean signalEntered) {
        java.util.function.Consumer<String> before = beforeSet;
        if (before != null) {
            before.accept(key);
        }
        sets.incrementAndGet();
        CountDownLatch entered = setEntered;
        if (signalEntered && entered != null) {
            entered.countDown();
        }
        CountDownLatch gate = setGate;
        if (gate != null) {
            try {
                gate.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A configuration builder with this store's two nodes, n1 and n2, and the test transcoder. */
    static io.msm.config.MsmConfig.Builder twoNodes() {
        return io.msm.config.MsmConfig.builder()
                .set(io.msm.config.MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:1,n2:127.0.0.1:2")
                .set(io.msm.config.MsmConfig.TRANSCODER_FACTORY_CLASS,
                        io.msm.testing.TestTranscoderFactory.class.getName());
    }

    final AtomicInteger adds = new AtomicInteger();
    final AtomicInteger casDeletes = new AtomicInteger();

    /** How long an add takes to answer: one given less time times out (a node that answers, slowly). */
    volatile long addLatencyMillis;

    @Override
    public synchronized long add(String node, String key, int exp, byte[] value, long timeoutMillis) {
        adds.incrementAndGet();
        check("add", node, key);
        if (timeoutMillis < addLatencyMillis) {
            throw StoreException.timeout("add", key, node, timeoutMillis, "fake timeout: the node answers in "
                    + addLatencyMillis + " ms");
        }
        if (live(node, key) != null) {
            return -1;
        }
        items.put(node + "/" + key, new Item(value, expiry(exp)));
        return 0;
    }

    /** Runs before each compare-and-delete with its key (another Tomcat's call landing in between, say). */
    volatile java.util.function.Consumer<String> beforeCompareAndDelete;

    @Override
    public synchronized boolean compareAndDelete(String node, String key, byte[] expected, long cas,
            long timeoutMillis) {
        casDeletes.incrementAndGet();
        java.util.function.Consumer<String> before = beforeCompareAndDelete;
        if (before != null) {
            before.accept(key);
        }
        check("delete", node, key);
        Item i = live(node, key);
        if (i == null || !java.util.Arrays.equals(i.value, expected)) {
            return false;
        }
        items.remove(node + "/" + key);
        return true;
    }

    /**
     * Holds every {@link #setAsync} until it opens: the set is then made (and answered) on a thread of its own, as a
     * write queued behind a slow one is applied by memcached later.
     */
    volatile CountDownLatch asyncGate;
    /** Counted down as each held {@link #setAsync} is queued. */
    volatile CountDownLatch asyncHeld;

    @Override
    public void setAsync(String node, String key, int exp, byte[] value, java.util.function.Consumer<Boolean> done) {
        CountDownLatch gate = asyncGate;
        if (gate != null) {
            Thread late = new Thread(() -> {
                try {
                    gate.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                setAsyncNow(node, key, exp, value, done);
            }, "fake-late-set");
            late.setDaemon(true);
            late.start();
            CountDownLatch held = asyncHeld;
            if (held != null) {
                held.countDown();
            }
            return;
        }
        setAsyncNow(node, key, exp, value, done);
    }

    private void setAsyncNow(String node, String key, int exp, byte[] value,
            java.util.function.Consumer<Boolean> done) {
        try {
            set(node, key, exp, value, 0);
            done.accept(true);
        } catch (StoreException e) {
            done.accept(false);
        }
    }

    @Override
    public synchronized boolean append(String node, String key, byte[] value, long timeoutMillis) {
        check("append", node, key);
        Item i = live(node, key);
        if (i == null) {
            return false;
        }
        byte[] joined = java.util.Arrays.copyOf(i.value, i.value.length + value.length);
        System.arraycopy(value, 0, joined, i.value.length, value.length);
        items.put(node + "/" + key, new Item(joined, i.expiresAt));
        return true;
    }

    @Override
    public boolean touch(String node, String key, int exp, long timeoutMillis) {
        touches.incrementAndGet();
        touchAndDeleteThreads.add(Thread.currentThread().getName());
        check("touch", node, key);
        Item i = live(node, key);
        if (i == null) {
            return false;
        }
        items.put(node + "/" + key, new Item(i.value, expiry(exp), i.cas));
        return true;
    }

    /** Runs at the start of each delete with its node and key ({@code node + "/" + key}): one held up, say. */
    volatile java.util.function.Consumer<String> beforeDelete;

    /**
     * Holds the {@code attempt}-th delete of {@code nodeAndKey} ({@code node + "/" + key}, counted from now) until
     * {@code gate} opens; replaces {@link #beforeDelete}.
     */
    HeldDelete holdDelete(String nodeAndKey, int attempt, CountDownLatch gate) {
        HeldDelete hold = new HeldDelete(nodeAndKey, attempt, gate);
        beforeDelete = hold;
        return hold;
    }

    @Override
    public boolean delete(String node, String key, long timeoutMillis) {
        java.util.function.Consumer<String> before = beforeDelete;
        if (before != null) {
            before.accept(node + "/" + key);
        }
        deletes.incrementAndGet();
        touchAndDeleteThreads.add(Thread.currentThread().getName());
        CountDownLatch gate = deleteGate;
        if (gate != null) {
            try {
                gate.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        check("delete", node, key);
        return items.remove(node + "/" + key) != null;
    }

    /** Nodes removed while running: unconnected, without a connection event. */
    final Set<String> removed = ConcurrentHashMap.newKeySet();

    @Override
    public void addNode(io.msm.config.MemcachedNode node) {
        removed.remove(node.id());
        disconnected.remove(node.id());
        listener.connected(node.id());
    }

    @Override
    public void removeNode(String node) {
        removed.add(node);
    }

    @Override
    public boolean isConnected(String node) {
        if (removed.contains(node)) {
            return false;
        }
        return !disconnected.contains(node);
    }

    @Override
    public String describe(String node) {
        return isConnected(node) ? "connected" : "disconnected";
    }

    @Override
    public void close() {
    }

    /** The node's connection drops, as spymemcached reports it. */
    void disconnect(String node) {
        disconnected.add(node);
        listener.disconnected(node);
    }

    /** The node's connection is back. */
    void reconnect(String node) {
        disconnected.remove(node);
        listener.connected(node);
    }

    /** The node loses everything (a restart), without counting calls. */
    void wipe(String node) {
        items.keySet().removeIf(k -> k.startsWith(node + "/"));
    }

    /** The stored bytes, honouring expiry, without counting a call. */
    byte[] peek(String node, String key) {
        Item i = live(node, key);
        return i == null ? null : i.value;
    }

    int calls() {
        return gets.get() + sets.get() + touches.get() + deletes.get() + adds.get() + casDeletes.get();
    }

    /** The live keys of a node. */
    java.util.List<String> keys(String node) {
        java.util.List<String> keys = new java.util.ArrayList<>();
        for (String k : items.keySet()) {
            if (k.startsWith(node + "/") && live(node, k.substring(node.length() + 1)) != null) {
                keys.add(k.substring(node.length() + 1));
            }
        }
        return keys;
    }

    void put(String node, String key, byte[] value) {
        items.put(node + "/" + key, new Item(value, Long.MAX_VALUE));
    }
}
