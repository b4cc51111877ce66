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
    /** {@code readWrite}: the old format is what this engine writes too, so a blob in it needs no rewrite. */
    private final boolean readWrite;
    private final long timeoutMillis;
    private final LongSupplier clock;
    private final MsmStatistics stats;
    private final String logPrefix;

    LegacyLoads(AnchorKeys keys, AnchorConverter converter, SessionStore store, boolean sticky, boolean readWrite,
            long timeoutMillis, LongSupplier clock, MsmStatistics stats, String logPrefix) {
        this.readWrite = readWrite;
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
     * @param cas the CAS of what msm's key held ({@code 0} if unknown)
     * @param start when the load started ({@link System#nanoTime()})
     * @throws StoreException memcached did not answer
     */
    LoadResult load(String id, String node, String ownKey, byte[] underOwnKey, long cas, long start) {
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
            LoadResult r = decode(id, node, blob, keys.validity(id), true, start);
            if (!r.isFound()) {
                return r;
            }
            if (readWrite && key.equals(ownKey)) { // stored as this engine stores it: written again if it changes
                return r.withCas(cas);
            }
            List<String> leftovers = new ArrayList<>(2);
            if (!sticky) {
                leftovers.add(keys.validity(id));
            }
            if (!key.equals(ownKey)) { // else msm's own write replaces it
                leftovers.add(key);
            }
            return LoadResult.found(r.data(), new IdleSessionCache.Version(0, 0, r.attributes()), 0, null, false,
                    r.lastAccessedTime(), 0, false).fromLegacy(new Leftovers(node, leftovers));
        } catch (AnchorFormatException | TranscoderException e) {
            return refused(id, node, e);
        }
    }

    /**
     * Non-sticky: the old manager's secondary copy of {@code id} ({@code blob}, read from {@code node} because the
     * session's own node could not answer), dated by the secondary validity record on that node.
     *
     * @throws StoreException memcached did not answer
     */
    LoadResult loadSecondary(String id, String node, byte[] blob, long start) {
        try {
            LoadResult r = decode(id, node, blob, keys.backupValidity(id), true, start);
            if (r.isFound()) {
                stats.count(Counter.SECONDARY_LOADS);
                return LoadResult.found(r.data(), new IdleSessionCache.Version(0, 0, r.attributes()), 0, null, true,
                        r.lastAccessedTime(), 0, false);
            }
            return r;
        } catch (AnchorFormatException | TranscoderException e) {
            return refused(id, node, e);
        }
    }

    /**
     * The session in {@code blob}, a copy the timeout watch read and found timed out: read to be ended (with its
     * listeners), whatever its times say.
     */
    LoadResult decodeTimedOut(String id, String node, byte[] blob) {
        try {
            return decode(id, node, blob, keys.validity(id), false, System.nanoTime());
        } catch (AnchorFormatException | TranscoderException e) {
            return refused(id, node, e);
        } catch (StoreException e) {
            return LoadResult.of(LoadResult.Status.UNAVAILABLE, e.getMessage());
        }
    }

    /** The timeout of the session in {@code blob} if it is one of {@code id} in the old format; else {@code null}. */
    static Integer timeoutOf(String id, byte[] blob) {
        if (!AnchorBlob.looksLikeOne(blob)) {
            return null;
        }
        try {
            AnchorBlob b = AnchorBlob.parse(blob);
            return b.id().equals(id) && b.isValid() ? b.maxInactiveInterval() : null;
        } catch (AnchorFormatException e) {
            return null;
        }
    }

    private LoadResult refused(String id, String node, RuntimeException e) {
        stats.count(Counter.UNREADABLE_SESSIONS);
        String reason = e.getMessage();
        LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " that memcached-session-manager "
                + "stored in memcached node " + node + " is unreadable (" + reason + "); the request gets a new "
                + "session");
        return LoadResult.of(LoadResult.Status.UNREADABLE, reason);
    }

    /**
     * The session in {@code blob}, dated (non-sticky) by the validity record {@code validityKey} on {@code node} when
     * there is one: the old manager writes a blob when its session changed, and the times of every access to the
     * record. Found: with the hash of the blob's content ({@link LegacyWrites#contentHash}). Timed out:
     * {@code NOT_FOUND} if {@code unlessTimedOut}.
     */
    private LoadResult decode(String id, String node, byte[] blob, String validityKey, boolean unlessTimedOut,
            long start) {
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
        if (!sticky) {
            byte[] v = MemcachedKeys.isSendable(validityKey) ? store.get(node, validityKey, timeoutMillis) : null;
            if (v != null) {
                AnchorValidity validity = AnchorValidity.parse(v);
                lastAccessed = validity.lastAccessedTime();
                thisAccessed = validity.thisAccessedTime();
            }
        }
        int maxInactive = b.maxInactiveInterval();
        if (unlessTimedOut && maxInactive > 0 && clock.getAsLong() - thisAccessed >= maxInactive * 1000L) {
            stats.count(Counter.SESSIONS_NOT_FOUND);
            return LoadResult.of(LoadResult.Status.NOT_FOUND, "the stored session timed out");
        }
        SessionData.Builder data = SessionData.builder(id)
                .times(b.creationTime(), lastAccessed, thisAccessed)
                .maxInactiveInterval(maxInactive)
                .state(false, true)
                .authType(b.authType());
        Map<String, Object> attributes = converter.convert(b, data);
        stats.count(Counter.SESSIONS_LOADED);
        stats.count(Counter.LEGACY_SESSIONS_LOADED);
        stats.time(MsmStatistics.Timer.LOAD, System.nanoTime() - start);
        return LoadResult.found(data.build(), new IdleSessionCache.Version(0, 0, attributes),
                LegacyWrites.contentHash(blob), blob, false, Math.max(lastAccessed, thisAccessed), 0, false);
    }

    /**
     * Non-sticky: the last access to {@code id} its validity record dates (Tomcats still running the old manager date
     * a request that does not change the session there alone); {@code -1} if there is no readable record.
     *
     * @throws StoreException memcached did not answer
     */
    long accessedAt(String id, String node) {
        String key = keys.validity(id);
        byte[] v = MemcachedKeys.isSendable(key) ? store.get(node, key, timeoutMillis) : null;
        try {
            return v == null ? -1 : AnchorValidity.parse(v).thisAccessedTime();
        } catch (AnchorFormatException e) {
            return -1;
        }
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
