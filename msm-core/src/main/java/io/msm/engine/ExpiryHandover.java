package io.msm.engine;

import io.msm.store.Expiration;
import io.msm.store.StoreException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * At a stop or reload, hands the sessions the {@link ExpiryWatch} watches, and sticky the sessions left in memcached,
 * to the next start with this jvmRoute and context, in the {@link ExpiryList} of that jvmRoute and context.
 */
final class ExpiryHandover {
    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    /** How often a stop reads and merges the list again when other stops keep writing it. */
    static final int LEAVE_ATTEMPTS = 5;

    /** The mode, built after the watch. */
    private final SessionEngine engine;
    private final EngineBase base;
    private final ExpiryIndex index;
    private final ExpiryList list;

    ExpiryHandover(SessionEngine engine, ExpiryIndex index, ExpiryList list) {
        this.engine = engine;
        this.base = engine.base();
        this.index = index;
        this.list = list;
    }

    /**
     * Leaves the watched sessions, and sticky the sessions left in memcached ({@code residents}), to the next start
     * (the index is emptied). A sticky copy that would expire before its timeout plus the slack is touched to that,
     * so the next start finds it when it comes due.
     */
    void leave(Collection<? extends ManagedSession> residents) {
        long now = base.now();
        List<ExpiryList.Item> mine = itemsToLeave(residents, now);
        index.clear();
        for (int attempt = 1; attempt <= LEAVE_ATTEMPTS; attempt++) {
            // another stop with this key (Tomcats without a jvmRoute share it), not taken by a start yet: merged,
            // and written back only if that stop did not write it meanwhile (else read again)
            ExpiryList.Read earlier = list.read();
            List<ExpiryList.Item> kept = merged(earlier, mine);
            if (kept.isEmpty()) {
                return;
            }
            List<String> nodes = list.write(kept, now, earlier);
            if (nodes != null) {
                if (nodes.isEmpty()) {
                    int n = kept.size();
                    LOG.log(Level.WARNING, () -> base.logPrefix + "no memcached node took the list of " + n
                            + " session(s) left for their timeout: they get no sessionDestroyed unless requested "
                            + "again");
                }
                return;
            }
        }
        LOG.log(Level.WARNING, () -> base.logPrefix + "other Tomcats kept writing the list of sessions left for their "
                + "timeout: the " + mine.size() + " session(s) of this one get no sessionDestroyed unless requested "
                + "again");
    }

    /** The list another stop left merged with {@code mine}, the earliest due first if it is beyond the capacity. */
    private static List<ExpiryList.Item> merged(ExpiryList.Read earlier, List<ExpiryList.Item> mine) {
        Map<String, ExpiryList.Item> items = new LinkedHashMap<>();
        if (earlier.items != null) {
            earlier.items.forEach(i -> items.put(i.id, i));
        }
        mine.forEach(i -> items.put(i.id, i));
        List<ExpiryList.Item> kept = new ArrayList<>(items.values());
        if (kept.size() > ExpiryWatch.CAPACITY) {
            kept.sort(Comparator.comparingLong(i -> i.due));
            kept = kept.subList(0, ExpiryWatch.CAPACITY);
        }
        return kept;
    }

    /** The sessions this stop leaves to the next start: the watched ones, and sticky the residents. */
    private List<ExpiryList.Item> itemsToLeave(Collection<? extends ManagedSession> residents, long now) {
        Map<String, ExpiryList.Item> items = new LinkedHashMap<>();
        for (ExpiryIndex.Entry e : index.entries()) {
            items.put(e.id, new ExpiryList.Item(e.id, e.due, e.maxInactive, e.created));
        }
        if (engine.mode().stopHandsOverHeldSessions()) {
            long touchUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(
                    Math.max(2000, base.config.operationTimeoutMillis()));
            for (ManagedSession s : residents) {
                int mi = s.maxInactiveInterval();
                if (!s.isActive() || mi <= 0) {
                    continue;
                }
                long due = Math.max(s.thisAccessedTime(), s.state().lastRequestEnd) + mi * 1000L;
                items.put(s.id(), new ExpiryList.Item(s.id(), due, mi, s.creationTime()));
                if (System.nanoTime() < touchUntil) {
                    keepCopyUntil(s, due + Slack.seconds(mi) * 1000L, now);
                }
            }
        }
        return new ArrayList<>(items.values());
    }

    /** Touches the sticky copy of {@code s} if memcached would drop it before {@code until}. */
    private void keepCopyUntil(ManagedSession s, long until, long now) {
        SessionState st = s.state();
        String id = s.id();
        String node = base.nodeOf(id);
        if (!st.isStoredAs(id) || st.storeExpiresAt >= until - 1000 || node == null || !base.isAvailable(node)) {
            return;
        }
        long seconds = Math.max(1, (until - now + 999) / 1000);
        try {
            if (base.store.touch(node, base.key(id), Expiration.of(seconds, now),
                    base.config.operationTimeoutMillis())) {
                st.storeExpiresAt = now + seconds * 1000;
            }
        } catch (StoreException e) {
            base.reportStoreFailure(e);
        }
    }
}
