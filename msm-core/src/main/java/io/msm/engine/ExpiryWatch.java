package io.msm.engine;

import io.msm.config.MemcachedProtocol;
import io.msm.internal.DaemonThreads;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ends sessions that time out while no Tomcat holds them, so {@code sessionDestroyed} (and {@code valueUnbound}) fire
 * once, on one Tomcat, with the session's last state.
 *
 * <p>Each Tomcat watches the sessions it knows that no Tomcat would expire otherwise ({@link ExpiryIndex}): non-sticky,
 * every session a request used here; sticky, the sessions a stop or reload left in memcached, handed to the next start
 * with the same jvmRoute and context ({@link ExpiryList}, {@link ExpiryHandover}). When one comes due as last seen
 * here, its memcached copy tells the rest ({@link ExpiryCheck}): the copy lives for the timeout plus the slack from its
 * last refresh, so its remaining TTL says whether any Tomcat accessed it since (then it is looked at again when it
 * would time out). A session that really timed out is claimed with an {@code add} of {@code end:<key>}: only the Tomcat
 * whose add succeeds loads its last state, fires the listeners through the container ({@link Container#expire}) and
 * deletes it; the others drop it. The same claim decides a sticky session Tomcat itself finds timed out (a copy another
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
    private final ExpiryCheck checks;
    private final ExpiryHandover handover;
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
        byte[] name = (route + "\n" + unversioned(ctx.name())).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.list = new ExpiryList(engine, "msm:expiry:"
                + Long.toHexString(io.msm.internal.XxHash64.hash(name, 0, name.length, 0)));
        this.threads = new DaemonThreads("msm-expiry-" + ctx.name());
        this.claims = new ExpiryClaims(engine);
        this.checks = new ExpiryCheck(engine, index, claims);
        this.handover = new ExpiryHandover(engine, index, list);
    }

    /**
     * Whether a copy with {@code ttlSeconds} left belongs to a session that timed out: memcached keeps each copy for
     * the timeout plus the slack from its last refresh, so less than the slack is left. memcached counts whole seconds
     * on a clock up to a second behind: with exactly the slack left the timeout may be up to a second away, so that
     * is not yet a timeout (never early; about a second late at most).
     */
    static boolean timedOut(int ttlSeconds, int maxInactive) {
        return maxInactive > 0 && ttlSeconds >= 0 && ttlSeconds < Slack.seconds(maxInactive);
    }

    /**
     * The context's name without its version ({@code host/app##2} is {@code host/app}), for the key of its list: a
     * start looks for the key the stop before wrote, also when that stop ran a build of msm whose names did not carry
     * the version (log lines name it now). Versions deployed side by side are kept apart by their key prefix
     * ({@code storageKeyPrefix}, by default the version).
     */
    static String unversioned(String contextName) {
        int version = contextName.indexOf("##");
        return version < 0 ? contextName : contextName.substring(0, version);
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
                checks.check(c, e, now);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, logPrefix + "checking sessions for their timeout failed", e);
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
     * to the next start with this jvmRoute and context ({@link ExpiryHandover}).
     */
    void leave(Collection<? extends ManagedSession> residents) {
        stopTicking();
        if (blind) {
            return;
        }
        handover.leave(residents);
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
