package io.msm.engine;

import io.msm.config.MemcachedProtocol;
import io.msm.internal.DaemonThreads;
import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import io.msm.store.StoredValue;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ends sessions that time out while no Tomcat holds them, so {@code sessionDestroyed} (and {@code valueUnbound}) fire
 * once, on one Tomcat, with the session's last state.
 *
 * <p>Each Tomcat watches the sessions it knows that no Tomcat would expire otherwise ({@link ExpiryIndex}):
 * non-sticky, every session a request used here; sticky, the sessions a stop or reload left in memcached, handed
 * to the next start with the same jvmRoute and context ({@link ExpiryList}). When one comes due as last seen here,
 * its memcached copy tells the rest: the copy lives for the timeout plus the slack from its last refresh, so its
 * remaining TTL says whether any Tomcat accessed it since (then it is looked at again when it would time out). A
 * session that really timed out is claimed with an {@code add} of {@code end:<key>}: only the Tomcat whose add
 * succeeds loads its last state, fires the listeners through the container ({@link Container#expire}) and deletes
 * it; the others drop it. The same claim decides a sticky session Tomcat itself finds timed out (a copy another
 * Tomcat took over carries a claim, {@link #moved}) and a non-sticky request that finds its session timed out.
 */
public final class ExpiryWatch {
    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    /** How many sessions one Tomcat (one context) watches at most. */
    public static final int CAPACITY = 100_000;
    static final long TICK_MILLIS = 250;
    static final int MAX_CHECKS_PER_TICK = 1000;
    /** A due session whose node cannot be asked is asked again after this. */
    static final long RETRY_MILLIS = 1000;
    /** Prefix of the claim key of a session's end (or of its move to another Tomcat). */
    static final String CLAIM_PREFIX = ExpiryClaims.PREFIX;

    /** Outcome of a claim. */
    public enum Claim {
        /** This Tomcat ends the session. */
        WON,
        /** Another Tomcat ends it, or took it over. */
        LOST,
        /** memcached could not be asked. */
        UNKNOWN
    }

    /** What the container does for the watch. */
    public interface Container {
        /** {@code true} if the container holds session {@code id} in memory (sticky: it expires it itself). */
        boolean holds(String id);

        /**
         * Ends the session read in {@code loaded}: fires its listeners as a timeout does, then tells the engine
         * ({@link SessionEngine#expired}), which deletes it. Called on the watch's thread.
         */
        void expire(LoadResult loaded);
    }

    private final SessionEngine engine;
    private final boolean sticky;
    private final String logPrefix;
    private final ExpiryIndex index = new ExpiryIndex(CAPACITY);
    private final ExpiryList list;
    private final ExpiryClaims claims;
    private final DaemonThreads threads;
    private final AtomicBoolean fullReported = new AtomicBoolean();
    private volatile Container container;
    private volatile ScheduledExecutorService executor;
    /** Set at a stop: the running tick ends after its current check (what it took stays in the index). */
    private volatile boolean stopping;
    /** Non-sticky on the binary protocol: memcached never tells a TTL, so nothing can be watched. */
    private final boolean blind;

    ExpiryWatch(SessionEngine engine, EngineContext ctx) {
        this.engine = engine;
        this.sticky = engine.config().sticky();
        this.logPrefix = "[" + ctx.name() + "] ";
        this.blind = !sticky && engine.config().memcachedProtocol() == MemcachedProtocol.BINARY;
        String route = ctx.jvmRoute() == null ? "" : ctx.jvmRoute();
        byte[] name = (route + "\n" + ctx.name()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.list = new ExpiryList(engine, "msm:expiry:"
                + Long.toHexString(io.msm.internal.XxHash64.hash(name, 0, name.length, 0)));
        this.threads = new DaemonThreads("msm-expiry-" + ctx.name());
        this.claims = new ExpiryClaims(engine);
    }

    /**
     * Whether a copy with {@code ttlSeconds} left belongs to a session that timed out: memcached keeps each copy for
     * the timeout plus the slack from its last refresh, so less than the slack is left. memcached counts whole seconds
     * on a clock up to a second behind: with exactly the slack left the timeout may be up to a second away, so that
     * is not yet a timeout (never early; about a second late at most).
     */
    static boolean timedOut(int ttlSeconds, int maxInactive) {
        return maxInactive > 0 && ttlSeconds >= 0 && ttlSeconds < SessionEngine.slackSeconds(maxInactive);
    }

    /** Takes the list the last stop of this Tomcat and context left, and starts watching. */
    public void start(Container c) {
        adopt(c);
        ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor(threads);
        ex.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        executor = ex;
    }

    /** Takes the list the last stop left; the checks run when {@link #tick()} does. */
    void adopt(Container c) {
        this.container = c;
        for (ExpiryList.Item i : list.take()) {
            if (!index.put(i.id, i.due, i.maxInactive, i.created)) {
                reportFull();
                break;
            }
        }
        int watched = index.size();
        LOG.log(Level.DEBUG, () -> logPrefix + watched + " session(s) left by the last stop watched for their timeout");
    }

    /** Non-sticky: a request here used {@code s} and ended now. */
    void seen(ManagedSession s, long now) {
        if (blind) {
            return;
        }
        int mi = s.maxInactiveInterval();
        if (mi <= 0) {
            index.remove(s.id());
        } else if (!index.put(s.id(), now + mi * 1000L, mi, s.creationTime())) {
            reportFull();
        }
    }

    /**
     * {@code s} timed out in this Tomcat's memory, but memcached decides whether it ended (non-sticky: another
     * Tomcat may have served it since): the watch looks at it now.
     */
    public void checkNow(ManagedSession s) {
        int mi = s.maxInactiveInterval();
        if (!blind && mi > 0 && !index.put(s.id(), engine.now(), mi, s.creationTime())) {
            reportFull();
        }
    }

    /** Session {@code id} ended here (invalidated, expired): no longer watched. */
    void forget(String id) {
        index.remove(id);
    }

    /** A session here changed its id from {@code oldId}: watched under its new id from its request's end. */
    public void idChanged(String oldId) {
        index.remove(oldId);
    }

    /**
     * Claims the end of session {@code id}: {@link Claim#WON} for exactly one caller in the cluster while its claim
     * lives, {@link Claim#LOST} for the others and after a takeover ({@link #moved}).
     */
    public Claim claim(String id, int maxInactive) {
        return claims.claim(id, maxInactive);
    }

    /**
     * Sticky: claims the end of {@code s}, which this Tomcat holds and found timed out ({@link ExpiryClaims#claimHeld}).
     */
    public Claim claimHeld(ManagedSession s) {
        return claims.claimHeld(s);
    }

    /**
     * Sticky: this Tomcat took session {@code oldId} over as {@code newId}. The copy the former Tomcat may still hold
     * under {@code oldId} must not fire {@code sessionDestroyed} when it times out there: {@code oldId}'s end is
     * claimed for as long as that copy can live. Sent from the watch's thread; the request does not wait.
     */
    public void moved(String oldId, String newId, int maxInactive) {
        String from = engine.base().routeOf(oldId);
        ScheduledExecutorService ex = executor;
        if (!sticky || maxInactive <= 0 || ex == null || from == null || from.equals(engine.base().routeOf(newId))) {
            return;
        }
        try {
            long at = engine.now(); // when it was taken, not when the claim is sent
            ex.execute(() -> claims.moved(oldId, newId, maxInactive, at));
        } catch (RejectedExecutionException stopping) {
            // the former copy may then fire its listeners where it is
        }
    }

    /**
     * Runs {@code task} (ending sessions: listeners fire) on the watch's thread, so a request that read takeover notices
     * does not run another session's listeners; on the calling thread if the watch has no thread.
     */
    void endLater(Runnable task) {
        ScheduledExecutorService ex = executor;
        if (ex != null) {
            try {
                ex.execute(task);
                return;
            } catch (RejectedExecutionException stopping) {
                // below
            }
        }
        task.run();
    }

    /** A watched session, for listings. */
    public static final class Watched {
        public final String id;
        public final long lastAccessed;
        public final int maxInactive;
        public final long created;

        Watched(String id, long lastAccessed, int maxInactive, long created) {
            this.id = id;
            this.lastAccessed = lastAccessed;
            this.maxInactive = maxInactive;
            this.created = created;
        }
    }

    /** The sessions watched now, with when each was last accessed as seen here. */
    public List<Watched> watched() {
        List<Watched> all = new ArrayList<>();
        for (ExpiryIndex.Entry e : index.entries()) {
            all.add(new Watched(e.id, e.lastAccessed(), e.maxInactive, e.created));
        }
        return all;
    }

    /** How many sessions are watched. */
    public int size() {
        return index.size();
    }

    /** {@code true} if session {@code id} is watched. */
    public boolean watches(String id) {
        return index.contains(id);
    }

    // ====================================================================== the checks

    /** Checks the sessions due now (the watch's thread, every {@link #TICK_MILLIS}). */
    void tick() {
        Container c = container;
        try {
            long now = engine.now();
            for (ExpiryIndex.Entry e : index.takeDue(now, MAX_CHECKS_PER_TICK)) {
                if (stopping) {
                    break;
                }
                check(c, e, now);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, logPrefix + "checking sessions for their timeout failed", e);
        }
    }

    private void check(Container c, ExpiryIndex.Entry e, long now) {
        String id = e.id;
        String node = engine.base().nodeOf(id);
        if (node == null || sticky && c.holds(id)) {
            index.settle(e); // not an id of this configuration, or Tomcat expires it itself
            return;
        }
        if (!engine.base().isAvailable(node)) {
            retryOrDrop(e, now);
            return;
        }
        int mi = e.maxInactive;
        StoredValue v = null;
        try {
            // under each listed key's name, first key first, as a load looks (a copy left before a key rotation)
            for (int n = 0; n < engine.base().keys.names() && (v == null || v.value() == null); n++) {
                v = engine.base().store.getWithTtl(node, engine.base().keys.primary(id, n), SessionStore.KEEP_EXPIRATION,
                        engine.config().operationTimeoutMillis());
            }
        } catch (StoreException ex) {
            engine.base().reportStoreFailure(ex);
            retryOrDrop(e, now);
            return;
        }
        if (v.value() == null || Tombstones.is(v.value()) || v.ttlSeconds() == StoredValue.NO_EXPIRY
                || v.ttlSeconds() == StoredValue.UNKNOWN_TTL && !sticky) {
            // invalidated, moved or gone (non-sticky: ended on another Tomcat, a tombstone); never expiring; or
            // memcached does not tell when it was last accessed
            index.settle(e);
            return;
        }
        // the session's timeout as the copy has it: another Tomcat's application may have changed it since
        Integer stored = engine.decoder().storedTimeout(id, v.value());
        if (stored != null && stored != mi) {
            if (stored <= 0) {
                index.settle(e); // it no longer times out
                return;
            }
            mi = stored;
            e.maxInactive = mi;
        }
        if (v.ttlSeconds() != StoredValue.UNKNOWN_TTL && !timedOut(v.ttlSeconds(), mi)) {
            // not timed out: accessed since on some Tomcat (look again when the slack is all that is left, never
            // later than a timeout away), or in the second memcached's clock may still have to count (look at every
            // tick: the copy may outlive that second by only a second, the shortest slack minus one)
            int more = v.ttlSeconds() - SessionEngine.slackSeconds(mi);
            index.recheck(e, now + (more > 0 ? Math.min(more, Math.max(1, mi)) * 1000L : TICK_MILLIS));
            return;
        }
        try { // readWrite: Tomcats still running memcached-session-manager date an access in its validity record alone
            long accessed = engine.loader().legacyAccessed(id, node);
            if (accessed > 0 && now - accessed < mi * 1000L) {
                index.recheck(e, accessed + mi * 1000L);
                return;
            }
        } catch (StoreException ex) {
            engine.base().reportStoreFailure(ex);
            retryOrDrop(e, now);
            return;
        }
        // timed out (sticky without a TTL: a copy no other Tomcat took over was accessed nowhere since the stop)
        switch (claim(id, mi)) {
            case LOST:
                index.settle(e);
                return;
            case UNKNOWN:
                retryOrDrop(e, now);
                return;
            default:
        }
        // the copy just read, not a second read: memcached may drop a timed-out copy within a second of saying so
        LoadResult r = engine.decoder().decodeRead(id, v.value());
        if (r.isFound()) {
            try {
                c.expire(r);
            } catch (RuntimeException | LinkageError ex) {
                LOG.log(Level.WARNING, logPrefix + "ending a timed-out session failed", ex);
            }
        }
        index.settle(e);
    }

    private void retryOrDrop(ExpiryIndex.Entry e, long now) {
        long giveUp = e.due + ((long) e.maxInactive + SessionEngine.slackSeconds(e.maxInactive)) * 1000L;
        if (now > giveUp) {
            index.settle(e);
        } else {
            index.recheck(e, now + RETRY_MILLIS);
        }
    }

    private void reportFull() {
        if (fullReported.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, () -> logPrefix + "the timeout watch holds " + CAPACITY + " sessions, its limit: "
                    + "sessions beyond it get no sessionDestroyed from this Tomcat when they time out unnoticed "
                    + "(said once)");
        }
    }

    // ====================================================================== stop

    /**
     * At a stop or reload: leaves the watched sessions, and sticky the sessions left in memcached ({@code residents}),
     * to the next start with this jvmRoute and context. A sticky copy that would expire before its timeout plus the
     * slack is touched to that, so the next start finds it when it comes due.
     */
    /** How often a stop reads and merges the list again when other stops keep writing it. */
    static final int LEAVE_ATTEMPTS = 5;

    void leave(Collection<? extends ManagedSession> residents) {
        stopTicking();
        if (blind) {
            return;
        }
        long now = engine.now();
        List<ExpiryList.Item> mine = itemsToLeave(residents, now);
        index.clear();
        for (int attempt = 1; attempt <= LEAVE_ATTEMPTS; attempt++) {
            // another stop with this key (Tomcats without a jvmRoute share it), not taken by a start yet: merged,
            // and written back only if that stop did not write it meanwhile (else read again)
            ExpiryList.Read earlier = list.read();
            Map<String, ExpiryList.Item> items = new LinkedHashMap<>();
            if (earlier.items != null) {
                earlier.items.forEach(i -> items.put(i.id, i));
            }
            mine.forEach(i -> items.put(i.id, i));
            List<ExpiryList.Item> kept = new ArrayList<>(items.values());
            if (kept.size() > CAPACITY) {
                kept.sort(Comparator.comparingLong(i -> i.due));
                kept = kept.subList(0, CAPACITY);
            }
            if (kept.isEmpty()) {
                return;
            }
            List<String> nodes = list.write(kept, now, earlier);
            if (nodes != null) {
                if (nodes.isEmpty()) {
                    int n = kept.size();
                    LOG.log(Level.WARNING, () -> logPrefix + "no memcached node took the list of " + n
                            + " session(s) left for their timeout: they get no sessionDestroyed unless requested "
                            + "again");
                }
                return;
            }
        }
        LOG.log(Level.WARNING, () -> logPrefix + "other Tomcats kept writing the list of sessions left for their "
                + "timeout: the " + mine.size() + " session(s) of this one get no sessionDestroyed unless requested "
                + "again");
    }

    /** The sessions this stop leaves to the next start: the watched ones, and sticky the residents. */
    private List<ExpiryList.Item> itemsToLeave(Collection<? extends ManagedSession> residents, long now) {
        Map<String, ExpiryList.Item> items = new LinkedHashMap<>();
        for (ExpiryIndex.Entry e : index.entries()) {
            items.put(e.id, new ExpiryList.Item(e.id, e.due, e.maxInactive, e.created));
        }
        if (sticky) {
            long touchUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(
                    Math.max(2000, engine.config().operationTimeoutMillis()));
            for (ManagedSession s : residents) {
                int mi = s.maxInactiveInterval();
                if (!s.isActive() || mi <= 0) {
                    continue;
                }
                long due = Math.max(s.thisAccessedTime(), s.state().lastRequestEnd) + mi * 1000L;
                items.put(s.id(), new ExpiryList.Item(s.id(), due, mi, s.creationTime()));
                if (System.nanoTime() < touchUntil) {
                    keepCopyUntil(s, due + SessionEngine.slackSeconds(mi) * 1000L, now);
                }
            }
        }
        return new ArrayList<>(items.values());
    }

    /** Touches the sticky copy of {@code s} if memcached would drop it before {@code until}. */
    private void keepCopyUntil(ManagedSession s, long until, long now) {
        SessionState st = s.state();
        String id = s.id();
        String node = engine.base().nodeOf(id);
        if (!st.isStoredAs(id) || st.storeExpiresAt >= until - 1000 || node == null || !engine.base().isAvailable(node)) {
            return;
        }
        long seconds = Math.max(1, (until - now + 999) / 1000);
        try {
            if (engine.base().store.touch(node, engine.base().key(id), Expiration.of(seconds, now),
                    engine.config().operationTimeoutMillis())) {
                st.storeExpiresAt = now + seconds * 1000;
            }
        } catch (StoreException e) {
            engine.base().reportStoreFailure(e);
        }
    }

    /** Lets a running check (listeners may be firing) finish, at most {@link SessionEngine#THREADS_END_MILLIS}. */
    private void stopTicking() {
        stopping = true;
        ScheduledExecutorService ex = executor;
        executor = null;
        if (ex != null) {
            ex.shutdown();
            try {
                if (!ex.awaitTermination(SessionEngine.THREADS_END_MILLIS, TimeUnit.MILLISECONDS)) {
                    ex.shutdownNow();
                }
            } catch (InterruptedException e) {
                ex.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Stops the watch's thread (at most {@link SessionEngine#THREADS_END_MILLIS}). */
    void close() {
        stopTicking();
        threads.awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SessionEngine.THREADS_END_MILLIS));
    }
}
