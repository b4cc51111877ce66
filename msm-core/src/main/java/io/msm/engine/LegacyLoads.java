package io.msm.engine;

import io.msm.anchor.AnchorBlob;
import io.msm.anchor.AnchorConverter;
import io.msm.anchor.AnchorFormatException;
import io.msm.anchor.AnchorKeys;
import io.msm.anchor.AnchorValidity;
import io.msm.codec.SessionData;
import io.msm.internal.LogIds;
import io.msm.spi.TranscoderException;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.store.MemcachedKeys;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Sessions memcached-session-manager 2.x stored ({@code legacySessions="read"}): found where it stored them (its key
 * layout), read as it wrote them (its blob, its attributes' Java serialization, in non-sticky mode its
 * {@code validity:} record, which dates the last access), and handed to the engine as the same session. The engine
 * stores it in msm's format at the end of its request; the old manager's keys are deleted after that write.
 */
final class LegacyLoads {
    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    /** The old manager's keys of one session on one node, deleted once msm stored the session in its own format. */
    static final class Leftovers {
        final String node;
        final List<String> keys;

        Leftovers(String node, List<String> keys) {
            this.node = node;
            this.keys = keys;
        }
    }

    private final AnchorKeys keys;
    private final AnchorConverter converter;
    private final SessionStore store;
    private final boolean sticky;
    private final long timeoutMillis;
    private final LongSupplier clock;
    private final MsmStatistics stats;
    private final String logPrefix;

    LegacyLoads(AnchorKeys keys, AnchorConverter converter, SessionStore store, boolean sticky, long timeoutMillis,
            LongSupplier clock, MsmStatistics stats, String logPrefix) {
        this.keys = keys;
        this.converter = converter;
        this.store = store;
        this.sticky = sticky;
        this.timeoutMillis = timeoutMillis;
        this.clock = clock;
        this.stats = stats;
        this.logPrefix = logPrefix;
    }

    /**
     * The old manager's session {@code id}, if msm did not find it in its own format: {@code underOwnKey} (what msm's
     * key held) if that is the old format (both managers name a session by its id alone by default), else what the
     * old manager's key holds when it is another key. {@code null} when there is nothing of the old manager's: the
     * engine goes on with what its own key held.
     *
     * @param start when the load started ({@link System#nanoTime()})
     * @throws StoreException memcached did not answer
     */
    LoadResult load(String id, String node, String ownKey, byte[] underOwnKey, long start) {
        byte[] blob = underOwnKey;
        String key = keys.session(id);
        if (blob == null && !key.equals(ownKey) && MemcachedKeys.isSendable(key)) {
            blob = store.get(node, key, timeoutMillis);
            if (blob == null) {
                return null;
            }
        } else if (blob == null || !AnchorBlob.looksLikeOne(blob)) {
            return null;
        }
        try {
            return decode(id, node, key, ownKey, blob, start);
        } catch (AnchorFormatException | TranscoderException e) {
            stats.count(Counter.UNREADABLE_SESSIONS);
            String reason = e.getMessage();
            LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " that memcached-session-manager "
                    + "stored in memcached node " + node + " is unreadable (" + reason + "); the request gets a new "
                    + "session");
            return LoadResult.of(LoadResult.Status.UNREADABLE, reason);
        }
    }

    private LoadResult decode(String id, String node, String key, String ownKey, byte[] blob, long start) {
        AnchorBlob b = AnchorBlob.parse(blob);
        if (!b.id().equals(id)) {
            throw new AnchorFormatException("the blob stored under this id belongs to session " + LogIds.of(b.id()));
        }
        if (!b.isValid()) {
            stats.count(Counter.SESSIONS_NOT_FOUND);
            return LoadResult.of(LoadResult.Status.NOT_FOUND, "stored session is invalidated");
        }
        long lastAccessed = b.lastAccessedTime();
        long thisAccessed = b.thisAccessedTime();
        List<String> leftovers = new ArrayList<>(2);
        if (!sticky) {
            // the old manager writes the blob when it changed, and the times of every access to this record
            String validityKey = keys.validity(id);
            byte[] v = MemcachedKeys.isSendable(validityKey) ? store.get(node, validityKey, timeoutMillis) : null;
            if (v != null) {
                AnchorValidity validity = AnchorValidity.parse(v);
                lastAccessed = validity.lastAccessedTime();
                thisAccessed = validity.thisAccessedTime();
                leftovers.add(validityKey);
            }
        }
        int maxInactive = b.maxInactiveInterval();
        long now = clock.getAsLong();
        if (maxInactive > 0 && now - thisAccessed >= maxInactive * 1000L) {
            stats.count(Counter.SESSIONS_NOT_FOUND);
            return LoadResult.of(LoadResult.Status.NOT_FOUND, "the stored session timed out");
        }
        SessionData.Builder data = SessionData.builder(id)
                .creationTime(b.creationTime())
                .lastAccessedTime(lastAccessed)
                .thisAccessedTime(thisAccessed)
                .maxInactiveInterval(maxInactive)
                .isNew(false)
                .isValid(true)
                .authType(b.authType());
        Map<String, Object> attributes = converter.convert(b, data);
        if (!key.equals(ownKey)) { // else msm's own write replaces it
            leftovers.add(key);
        }
        stats.count(Counter.SESSIONS_LOADED);
        stats.count(Counter.LEGACY_SESSIONS_LOADED);
        stats.time(MsmStatistics.Timer.LOAD, System.nanoTime() - start);
        return LoadResult.found(data.build(), new IdleSessionCache.Version(0, 0, attributes), 0, null, false,
                Math.max(lastAccessed, thisAccessed), 0, false).fromLegacy(new Leftovers(node, leftovers));
    }

    /** Whether the old manager's key of {@code id}, when it is another key than msm's, holds something. */
    boolean mayExist(String id, String node, String ownKey) {
        String key = keys.session(id);
        return !key.equals(ownKey) && MemcachedKeys.isSendable(key) && store.get(node, key, timeoutMillis) != null;
    }

    /** Deletes what the old manager left of a session msm has stored in its own format since. */
    void delete(Leftovers leftovers) {
        for (String key : leftovers.keys) {
            try {
                store.delete(leftovers.node, key, timeoutMillis);
            } catch (StoreException e) {
                // it expires on its own (the old manager gave every key an expiration)
                LOG.log(Level.DEBUG, () -> logPrefix + "a key memcached-session-manager left is not deleted: " + e);
            }
        }
    }
}
