package io.msm.engine;

import io.msm.anchor.AnchorBlob;
import io.msm.anchor.AnchorConverter;
import io.msm.anchor.AnchorFormatException;
import io.msm.anchor.AnchorKeys;
import io.msm.anchor.AnchorValidity;
import io.msm.codec.SessionData;
import io.msm.internal.LogIds;
import io.msm.internal.XxHash64;
import io.msm.spi.TranscoderException;
import io.msm.store.Expiration;
import io.msm.store.MemcachedKeys;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code legacySessions="readWrite"}: sessions stored as memcached-session-manager 2.x stores them, so that Tomcats
 * still running it during a rollout read what msm Tomcats wrote. The blob is its format ({@link AnchorBlob}) under
 * the key both managers name a session by; in non-sticky mode every request also writes its {@code validity:} record
 * (the old manager dates a session's last access by it, and expires and deletes a session whose record is stale),
 * and its secondary copy on the next node. The engine's own keys, locks, secondary copies and tombstones are
 * the old manager's keys in this mode (msm builds the key prefix as it did).
 */
final class LegacyWrites {
    private static final System.Logger LOG = System.getLogger("io.msm.engine");
    /** Writes of one session's blob before a collection changed while written each time gives up. */
    static final int ATTEMPTS = 3;

    private final AnchorKeys keys;
    private final AnchorConverter converter;
    private final SessionStore store;
    private final long timeoutMillis;
    private final String logPrefix;
    /** How many reasons {@link #reported} remembers at most (then none is said any more). */
    private static final int MAX_REASONS = 100;
    /** Why sessions could not be written in the old format, each said once. */
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    LegacyWrites(AnchorKeys keys, AnchorConverter converter, SessionStore store, long timeoutMillis,
            String logPrefix) {
        this.keys = keys;
        this.converter = converter;
        this.store = store;
        this.timeoutMillis = timeoutMillis;
        this.logPrefix = logPrefix;
    }

    /**
     * The old manager's blob of the session, or {@code null} if it could not read this session (an auth type or a
     * part it does not take, or attributes that cannot be serialized): the engine stores it in msm's format then,
     * which msm Tomcats read and Tomcats still running the old manager do not (said once per reason).
     *
     * @throws java.util.ConcurrentModificationException if a request changed a collection attribute during each of
     *         {@link #ATTEMPTS} writes: not stored now
     */
    byte[] encode(SessionData data, Map<String, Object> attributes, long now) {
        try {
            for (int attempt = 1; ; attempt++) {
                try {
                    return converter.encode(data, attributes, now);
                } catch (java.util.ConcurrentModificationException e) {
                    if (attempt >= ATTEMPTS) {
                        throw e; // as when msm's own serializer meets it: not stored now, at the next request
                    }
                    // a request changed a collection while it was written (a backup thread writes while the user's
                    // next request runs): written again from the start
                }
            }
        } catch (AnchorFormatException | TranscoderException e) {
            String reason = e.getMessage();
            // the same reason whatever its sizes (a client chooses a saved request's), and a bounded number of them
            String kind = String.valueOf(reason).replaceAll("[0-9]+", "#");
            if (reported.size() < MAX_REASONS && reported.add(kind)) {
                LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(data.id()) + " is stored in msm's "
                        + "format, which Tomcats still running memcached-session-manager cannot read: " + reason
                        + " (said once per reason)");
            }
            return null;
        }
    }

    /** The hash of what a blob holds: the whole blob but its last backup time, which every write changes. */
    static long contentHash(byte[] blob) {
        int at = AnchorBlob.LAST_BACKUP_TIME_OFFSET;
        long hash = XxHash64.hash(blob, 0, at, 0);
        return XxHash64.hash(blob, at + 8, blob.length - at - 8, hash);
    }

    /**
     * Non-sticky: the session's validity record, as the old manager writes it at the end of every request (its
     * timeout, its last access), on its node and, if there is one, the next; expires with the session.
     */
    void validity(String node, String secondaryNode, String id, int maxInactive, long accessed, long now) {
        byte[] record = new AnchorValidity(maxInactive, accessed, accessed).encode();
        int exp = Expiration.of(Math.max(0, maxInactive), now);
        String key = keys.validity(id);
        if (MemcachedKeys.isSendable(key)) {
            try {
                store.set(node, key, exp, record, timeoutMillis);
            } catch (StoreException e) {
                // the old manager then keeps the blob's times: the next request writes the record again
                LOG.log(Level.DEBUG, () -> logPrefix + "a validity record for memcached-session-manager is not "
                        + "written: " + e);
            }
        }
        String backup = keys.backupValidity(id);
        if (secondaryNode != null && MemcachedKeys.isSendable(backup)) {
            store.setAsync(secondaryNode, backup, exp, record, stored -> { });
        }
    }
}
