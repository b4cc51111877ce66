package io.msm.engine;

import io.msm.internal.LogIds;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import io.msm.store.StoredValue;
import java.lang.System.Logger.Level;

/**
 * The check of one watched session that came due ({@link ExpiryWatch}): its memcached copy's remaining TTL says
 * whether any Tomcat accessed it since; one that really timed out is claimed ({@link ExpiryClaims}), and only the
 * Tomcat whose claim wins ends it through the container. Runs on the watch's thread.
 */
final class ExpiryCheck {
    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    /** The decoder, the loader and the mode, built after the watch. */
    private final SessionEngine engine;
    private final EngineBase base;
    private final ExpiryIndex index;
    private final ExpiryClaims claims;

    ExpiryCheck(SessionEngine engine, ExpiryIndex index, ExpiryClaims claims) {
        this.engine = engine;
        this.base = engine.base();
        this.index = index;
        this.claims = claims;
    }

    /** Looks at the due session {@code e}: settles it, looks again later, or ends it. */
    void check(ExpiryWatch.Container c, ExpiryIndex.Entry e, long now) {
        String id = e.id;
        String node = base.nodeOf(id);
        if (node == null || engine.mode().tomcatExpiresHeldSessions() && c.holds(id)) {
            index.settle(e); // not an id of this configuration, or Tomcat expires it itself
            trace(id, node == null ? "not an id of this configuration" : "held here: Tomcat expires it");
            return;
        }
        if (!base.isAvailable(node)) {
            trace(id, "its node " + node + " is unavailable");
            retryOrDrop(e, now);
            return;
        }
        StoredValue v;
        try {
            v = readCopy(id, node);
        } catch (StoreException ex) {
            base.reportStoreFailure(ex);
            retryOrDrop(e, now);
            return;
        }
        if (isGone(v) || !takeStoredTimeout(e, v)) {
            index.settle(e);
            trace(id, v.value() == null ? "no copy (ended, moved, or dropped by memcached)"
                    : "its copy does not time out (ttl " + v.ttlSeconds() + " s)");
            return;
        }
        if (accessedSince(e, v, now)) {
            trace(id, "not timed out yet: its copy has " + v.ttlSeconds() + " s left");
            return;
        }
        try {
            if (accessedByLegacyTomcat(e, node, now)) {
                return;
            }
        } catch (StoreException ex) {
            base.reportStoreFailure(ex);
            retryOrDrop(e, now);
            return;
        }
        // timed out (sticky without a TTL: a copy no other Tomcat took over was accessed nowhere since the stop)
        end(c, e, v, now);
    }

    /**
     * The session's copy with its remaining TTL: under each listed key's name, first key first, as a load looks (a
     * copy left before a key rotation).
     */
    private StoredValue readCopy(String id, String node) throws StoreException {
        StoredValue v = null;
        for (int n = 0; n < base.keys.names() && (v == null || v.value() == null); n++) {
            v = base.store.getWithTtl(node, base.keys.primary(id, n), SessionStore.KEEP_EXPIRATION,
                    base.config.operationTimeoutMillis());
        }
        return v;
    }

    /**
     * Invalidated, moved or gone (non-sticky: ended on another Tomcat, a tombstone); never expiring; or memcached
     * does not tell when it was last accessed.
     */
    private boolean isGone(StoredValue v) {
        return v.value() == null || Tombstones.is(v.value()) || v.ttlSeconds() == StoredValue.NO_EXPIRY
                || v.ttlSeconds() == StoredValue.UNKNOWN_TTL && !engine.mode().copyWithoutTtlCanTimeOut();
    }

    /**
     * Takes the session's timeout as the copy has it (another Tomcat's application may have changed it since);
     * {@code false} if it no longer times out.
     */
    private boolean takeStoredTimeout(ExpiryIndex.Entry e, StoredValue v) {
        Integer stored = engine.decoder().storedTimeout(e.id, v.value());
        if (stored != null && stored != e.maxInactive) {
            if (stored <= 0) {
                return false;
            }
            e.maxInactive = stored;
        }
        return true;
    }

    /**
     * {@code true} (and looked at again later) if the copy's TTL says it did not time out: accessed since on some
     * Tomcat (look again when the slack is all that is left, never later than a timeout away), or in the second
     * memcached's clock may still have to count (look at every tick: the copy may outlive that second by only the
     * shortest slack minus one, 2 s).
     */
    private boolean accessedSince(ExpiryIndex.Entry e, StoredValue v, long now) {
        int mi = e.maxInactive;
        if (v.ttlSeconds() == StoredValue.UNKNOWN_TTL || ExpiryWatch.timedOut(v.ttlSeconds(), mi)) {
            return false;
        }
        int more = v.ttlSeconds() - Slack.seconds(mi);
        index.recheck(e, now + (more > 0 ? Math.min(more, Math.max(1, mi)) * 1000L : ExpiryWatch.TICK_MILLIS));
        return true;
    }

    /**
     * readWrite: Tomcats still running memcached-session-manager date an access in its validity record alone;
     * {@code true} (and looked at again when that access times out) if one accessed it within the timeout.
     */
    private boolean accessedByLegacyTomcat(ExpiryIndex.Entry e, String node, long now) throws StoreException {
        int mi = e.maxInactive;
        long accessed = engine.loader().legacyAccessed(e.id, node);
        if (accessed > 0 && now - accessed < mi * 1000L) {
            index.recheck(e, accessed + mi * 1000L);
            return true;
        }
        return false;
    }

    /** Claims the end of the timed-out session; the winner fires its listeners through the container. */
    private void end(ExpiryWatch.Container c, ExpiryIndex.Entry e, StoredValue v, long now) {
        String id = e.id;
        ExpiryWatch.Claim claim = claims.claim(id, e.maxInactive);
        trace(id, "timed out (its copy has " + v.ttlSeconds() + " s left); its end claimed: " + claim);
        switch (claim) {
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
        if (!r.isFound()) {
            trace(id, "its last state cannot be read: " + r.status());
        } else {
            try {
                c.expire(r);
            } catch (RuntimeException | LinkageError ex) {
                LOG.log(Level.WARNING, base.logPrefix + "ending a timed-out session failed", ex);
            }
        }
        index.settle(e);
    }

    /** What the check of a due session found (DEBUG: one line per check; the id shortened). */
    private void trace(String id, String found) {
        LOG.log(Level.DEBUG, () -> base.logPrefix + "timeout watch: session " + LogIds.of(id) + ": " + found);
    }

    /** A due session whose node cannot be asked: asked again later, or dropped once it cannot be alive anymore. */
    private void retryOrDrop(ExpiryIndex.Entry e, long now) {
        long giveUp = e.due + ((long) e.maxInactive + Slack.seconds(e.maxInactive)) * 1000L;
        if (now > giveUp) {
            index.settle(e);
        } else {
            index.recheck(e, now + ExpiryWatch.RETRY_MILLIS);
        }
    }
}
