package io.msm.engine;

import io.msm.codec.BlobCodec;
import io.msm.codec.BlobSealer;
import io.msm.codec.SessionData;
import io.msm.codec.UnreadableBlobException;
import io.msm.codec.UntrustedBlobException;
import io.msm.config.MsmConfig;
import io.msm.internal.LogIds;
import io.msm.node.NodeAvailability;
import io.msm.node.NodeSelector;
import io.msm.node.SessionIdFormat;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderException;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.stats.MsmStatistics.Timer;
import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads sessions this Tomcat does not hold: the primary copy (non-sticky: with its remaining TTL, refreshing it in
 * the same call), the secondary copy when the primary's node cannot answer, memcached-session-manager's format with
 * {@code legacySessions} ({@link LegacyLoads}); then checks and decodes the blob (owner, binding, signature) and
 * records in the session's state what memcached holds.
 */
final class SessionLoader {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    private final EngineBase base;
    private final MsmConfig config;
    private final EngineContext ctx;
    private final String logPrefix;
    private final MsmStatistics stats;
    private final SessionIdFormat ids;
    private final SessionStore store;
    private final NodeAvailability availability;
    private final NodeSelector selector;
    private final StorageKeys keys;
    private final boolean sticky;
    private final SessionAttributesTranscoder transcoder;
    private final BlobSealer sealer;
    private final byte[] ownerNote;
    private final Binding binding;
    private final IdleSessionCache idle;
    private final LegacyLoads legacy;
    private final LegacyWrites legacyWrites;
    private final SessionEnds ends;
    /** Non-sticky: read when the primary's node cannot answer; {@code null} in sticky mode. */
    private final SecondaryCopies secondaries;

    SessionLoader(EngineBase base, SessionEnds ends, SecondaryCopies secondaries) {
        this.base = base;
        this.config = base.config;
        this.ctx = base.ctx;
        this.logPrefix = base.logPrefix;
        this.stats = base.stats;
        this.ids = base.ids;
        this.store = base.store;
        this.availability = base.availability;
        this.selector = base.selector;
        this.keys = base.keys;
        this.sticky = base.sticky;
        this.transcoder = base.transcoder;
        this.sealer = base.sealer;
        this.ownerNote = base.ownerNote;
        this.binding = base.binding;
        this.idle = base.idle;
        this.legacy = base.legacy;
        this.legacyWrites = base.legacyWrites;
        this.ends = ends;
        this.secondaries = secondaries;
    }

    /**
     * Reads a session this Tomcat does not hold. Never throws: every failure is a {@link LoadResult} status, logged
     * and counted.
     */
    LoadResult load(String id) {
        SessionId p = ids.parse(id);
        if (p == null || !selector.isKnown(p.nodeId())) {
            return LoadResult.of(LoadResult.Status.INVALID_ID, "not an msm session id of this configuration");
        }
        if (ends.hasEnded(id)) {
            stats.count(Counter.SESSIONS_NOT_FOUND);
            return LoadResult.of(LoadResult.Status.NOT_FOUND, "the session ended in this Tomcat");
        }
        String node = p.nodeId();
        long start = System.nanoTime();
        Read read = readPrimary(id, node);
        byte[] blob = read.blob;
        boolean secondary = false;
        if (read.failure != null && !sticky) {
            // the primary cannot answer (a clean miss is a miss: never resurrect an old secondary copy)
            String[] from = new String[1];
            blob = secondaries.loadSecondary(id, node, from);
            secondary = blob != null;
            if (secondary && legacy != null && io.msm.anchor.AnchorBlob.looksLikeOne(blob)) {
                try {
                    return legacy.loadSecondary(id, from[0], blob, start);
                } catch (StoreException e) {
                    return failed(e);
                }
            }
        }
        if (blob == null && read.failure != null) {
            stats.count(Counter.LOAD_FAILURES);
            return LoadResult.of(LoadResult.Status.UNAVAILABLE, read.failure);
        }
        if (legacy != null && !secondary && (blob == null || read.name == 0)) {
            try {
                LoadResult old = legacy.load(id, node, base.key(id), blob, read.cas, start);
                if (old != null) {
                    return old;
                }
            } catch (StoreException e) {
                return failed(e);
            }
        }
        LoadResult r = decode(id, node, blob, secondary, read.ttl, read.refreshedFor, read.refreshedUntil, start,
                read.name, read.cas);
        return sticky || secondary || read.name > 0 ? r : refreshedForItsTimeout(id, node, r, read.refreshedFor);
    }

    private LoadResult failed(StoreException e) {
        base.storeFailed(e, config.operationTimeoutMillis());
        stats.count(Counter.LOAD_FAILURES);
        return LoadResult.of(LoadResult.Status.UNAVAILABLE, e.getMessage());
    }

    /** What the read of a session's primary copy found, besides the bytes. */
    private static final class Read {
        byte[] blob;
        int ttl = io.msm.store.StoredValue.UNKNOWN_TTL;
        /** The timeout the read refreshed the copy for (non-sticky); -1 if none. */
        int refreshedFor = -1;
        long cas;
        /** When the copy expires if the read refreshed it (for refreshedFor). */
        long refreshedUntil;
        /** Why the primary's node could not answer; {@code null} if it did. */
        String failure;
        /** The name it was found under: 0 but after a key rotation (see StorageKeys). */
        int name;
    }

    /**
     * Reads the primary copy of {@code id}: sticky, one get; non-sticky, one get that also returns the remaining TTL
     * and refreshes the copy for the usual timeout. After a key rotation, under the former names too.
     */
    private Read readPrimary(String id, String node) {
        Read read = new Read();
        if (!availability.isAvailable(node)) {
            read.failure = "memcached node " + node + " is unavailable";
            return read;
        }
        try {
            if (sticky) {
                read.blob = store.get(node, base.key(id), config.operationTimeoutMillis());
            } else {
                // non-sticky, one call: the remaining TTL tells when any Tomcat last refreshed the session, and
                // the same call refreshes it for this access (for the usual timeout; another one is touched)
                read.refreshedFor = base.usualMaxInactive;
                long seconds = read.refreshedFor > 0 ? base.refreshSeconds(read.refreshedFor) : 0;
                long now = ctx.clock().getAsLong();
                io.msm.store.StoredValue v = store.getWithTtl(node, base.key(id), seconds > 0
                        ? Expiration.of(seconds, now) : io.msm.store.SessionStore.KEEP_EXPIRATION,
                        config.operationTimeoutMillis());
                read.blob = v.value();
                read.ttl = v.ttlSeconds();
                read.cas = v.cas();
                if (v.refreshed()) {
                    read.refreshedUntil = now + seconds * 1000;
                }
            }
            for (int n = 1; read.blob == null && n < keys.names(); n++) { // a key rotation: a former key's name
                read.blob = store.get(node, keys.primary(id, n), config.operationTimeoutMillis());
                read.name = n;
            }
        } catch (StoreException e) {
            base.storeFailed(e, config.operationTimeoutMillis());
            read.failure = e.getMessage();
        }
        return read;
    }

    /**
     * Non-sticky: the read refreshed the copy for this Tomcat's usual timeout (or not at all, before it saw one); a
     * session whose own timeout differs (set by the application, possibly on another Tomcat) is touched for it now,
     * so the copy outlives a request longer than the usual timeout, a parallel request elsewhere does not find it
     * timed out, and a session that never times out is never dropped. One more call, only for such sessions.
     */
    private LoadResult refreshedForItsTimeout(String id, String node, LoadResult r, int refreshedFor) {
        if (!r.isFound() || r.timedOut() || r.data().maxInactiveInterval() == refreshedFor) {
            return r;
        }
        int mi = r.data().maxInactiveInterval();
        long now = ctx.clock().getAsLong();
        long seconds = mi > 0 ? base.refreshSeconds(mi) : 0;
        try {
            if (store.touch(node, base.key(id), Expiration.of(seconds, now), config.operationTimeoutMillis())) {
                stats.count(Counter.TOUCHES);
                r.withStoreExpiresAt(seconds <= 0 ? Long.MAX_VALUE : now + seconds * 1000);
            }
        } catch (StoreException e) {
            base.storeFailed(e, config.operationTimeoutMillis()); // the request's end touches it again
        }
        return r;
    }

    /** The copy hash of the session in {@code blob} ({@link BlobCodec#copyHash}); {@code 0} if none or unreadable. */
    long storedCopyHash(String id, byte[] blob) {
        if (blob == null || Tombstones.is(blob)) {
            return 0;
        }
        if (legacy != null && LegacyLoads.timeoutOf(id, blob) != null) {
            return LegacyWrites.contentHash(blob); // what readWrite's writes record (hadContent)
        }
        try {
            byte[] opened = sealer.open(blob);
            return BlobCodec.decode(opened).id().equals(id) ? BlobCodec.copyHash(opened) : 0;
        } catch (RuntimeException e) { // UnreadableBlobException (an untrusted blob too)
            return 0;
        }
    }

    /**
     * {@code readWrite}, non-sticky: the last access to {@code id} its old-format validity record dates, which
     * Tomcats still running memcached-session-manager write without touching the copy; {@code -1} otherwise.
     *
     * @throws StoreException memcached did not answer
     */
    long legacyAccessed(String id, String node) {
        return legacyWrites == null || sticky ? -1 : legacy.accessedAt(id, node);
    }

    /**
     * The timeout of the session in {@code blob} (a copy the timeout watch read), as the Tomcat that stored it last
     * set it; {@code null} if the copy is not a readable session of this id (the watch's decode says why).
     */
    Integer storedTimeout(String id, byte[] blob) {
        if (legacy != null && io.msm.anchor.AnchorBlob.looksLikeOne(blob)) {
            return LegacyLoads.timeoutOf(id, blob);
        }
        try {
            SessionData data = BlobCodec.decode(sealer.open(blob));
            return data.id().equals(id) && data.isValid() ? data.maxInactiveInterval() : null;
        } catch (RuntimeException e) { // UnreadableBlobException (an untrusted blob too)
            return null;
        }
    }

    /**
     * The session in a copy read from memcached: {@code blob} as the timeout watch read it (with its remaining TTL), so
     * a session that timed out is ended from the copy that told so, not from a second read that may come after
     * memcached dropped it.
     */
    LoadResult decodeRead(String id, byte[] blob) {
        SessionId p = ids.parse(id);
        if (legacy != null && io.msm.anchor.AnchorBlob.looksLikeOne(blob)) {
            return legacy.decodeTimedOut(id, p == null ? "?" : p.nodeId(), blob);
        }
        return decode(id, p == null ? "?" : p.nodeId(), blob, false, io.msm.store.StoredValue.UNKNOWN_TTL, -1, 0,
                System.nanoTime(), 0, 0);
    }

    /**
     * {@link #load(String)}'s second half: checks and decodes what the read found. The parameters are what the read
     * learned besides the bytes: from the secondary copy, the remaining TTL, the timeout the read refreshed the copy
     * for and until when, when the read started, the key name it was found under, its CAS.
     */
    private LoadResult decode(String id, String node, byte[] blob, boolean secondary, int ttl, int refreshedFor,
            long refreshedUntil, long start, int name, long cas) {
        if (blob == null || Tombstones.is(blob)) {
            if (idle != null) {
                idle.forget(id);
            }
            stats.count(Counter.SESSIONS_NOT_FOUND);
            return LoadResult.of(LoadResult.Status.NOT_FOUND, blob == null ? "not in memcached" : "the session ended");
        }
        try {
            byte[] opened = sealer.open(blob);
            SessionData data = BlobCodec.decode(opened);
            if (!data.id().equals(id)) {
                throw new TranscoderException("the blob stored under this id belongs to session "
                        + LogIds.of(data.id()));
            }
            if (!data.isValid()) {
                stats.count(Counter.SESSIONS_NOT_FOUND);
                return LoadResult.of(LoadResult.Status.NOT_FOUND, "stored session is invalidated");
            }
            byte[] owner = data.notes().get(SessionEngine.OWNER_NOTE);
            String otherWebapp = binding != null ? binding.otherWebapp(data)
                    : ownerNote != null && owner != null && !java.util.Arrays.equals(owner, ownerNote)
                    ? new String(owner, java.nio.charset.StandardCharsets.UTF_8) : null;
            if (otherWebapp != null) {
                stats.count(Counter.SESSIONS_NOT_FOUND);
                return LoadResult.of(LoadResult.Status.NOT_FOUND, "the session belongs to webapp " + otherWebapp);
            }
            IdleSessionCache.Version version = attributesOf(id, data);
            stats.count(Counter.SESSIONS_LOADED);
            if (secondary) {
                stats.count(Counter.SECONDARY_LOADS);
            }
            int mi = data.maxInactiveInterval();
            // refreshed for another timeout than the session's: unknown, refreshed at the request's end
            long storeExpiresAt = mi == refreshedFor ? refreshedUntil : 0;
            base.usualMaxInactive = mi;
            stats.time(Timer.LOAD, System.nanoTime() - start);
            return LoadResult.found(data, version, BlobCodec.contentHash(opened), blob, secondary,
                    lastAccessed(data, ttl), storeExpiresAt, !secondary && name > 0)
                    .withCas(secondary || name > 0 ? 0 : cas).timedOut(!sticky && ExpiryWatch.timedOut(ttl, mi))
                    .withCopyHash(BlobCodec.copyHash(opened));
        } catch (UntrustedBlobException e) {
            stats.count(Counter.UNTRUSTED_SESSIONS);
            String reason = e.getMessage();
            LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " in memcached node " + node
                    + " is refused, not written with this manager's keys (" + reason + "); the request gets a new"
                    + " session");
            return LoadResult.of(LoadResult.Status.UNREADABLE, reason);
        } catch (UnreadableBlobException | TranscoderException e) {
            stats.count(Counter.UNREADABLE_SESSIONS);
            String reason = e.getMessage();
            LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " in memcached node " + node
                    + " is unreadable (" + reason + "); the request gets a new session");
            return LoadResult.of(LoadResult.Status.UNREADABLE, reason);
        } catch (RuntimeException | LinkageError e) {
            // A transcoder broke its contract; still never fail the request.
            stats.count(Counter.UNREADABLE_SESSIONS);
            LOG.log(Level.WARNING, logPrefix + "session " + LogIds.of(id) + " in memcached node " + node
                    + " could not be read; the request gets a new session", e);
            return LoadResult.of(LoadResult.Status.UNREADABLE, e.toString());
        }
    }

    /**
     * The attributes stored as {@code bytes}: the objects this Tomcat kept for the idle session if they are that
     * version ({@code idleSessionCache}), else deserialized.
     */
    private IdleSessionCache.Version attributesOf(String id, SessionData data) {
        List<byte[]> chunks = data.attributeChunks();
        long hash = idle == null ? 0 : attributesHash(chunks);
        int length = length(chunks);
        Map<String, Object> kept = idle == null ? null : idle.take(id, hash, length);
        if (kept != null) {
            stats.count(Counter.LOADS_REUSED);
            return new IdleSessionCache.Version(hash, length, kept);
        }
        if (!data.isChunked()) {
            return new IdleSessionCache.Version(hash, length, transcoder.deserialize(chunks.get(0)));
        }
        Map<String, Object> attributes = new LinkedHashMap<>();
        for (int i = 0; i < chunks.size(); i++) {
            Map<String, Object> part = transcoder.deserialize(chunks.get(i));
            String name = data.attributeChunkNames().get(i);
            // a chunk named for one attribute holds that one alone (or none, if the serializer skipped it): its bytes
            // stand for it at the next write
            if (name != null && !part.isEmpty() && !part.keySet().equals(Set.of(name))) {
                throw new TranscoderException("the attribute chunk named " + name + " holds " + part.keySet());
            }
            attributes.putAll(part);
        }
        return new IdleSessionCache.Version(hash, length, attributes);
    }

    static long attributesHash(List<byte[]> chunks) {
        long hash = 0;
        for (byte[] chunk : chunks) {
            hash = io.msm.internal.XxHash64.hash(chunk, 0, chunk.length, hash);
        }
        return hash;
    }

    static int length(List<byte[]> chunks) {
        int length = 0;
        for (byte[] chunk : chunks) {
            length += chunk.length;
        }
        return length;
    }

    /**
     * When the session was last accessed on any Tomcat (non-sticky). Every access refreshes the stored copy to
     * {@code maxInactiveInterval + slack} seconds, so its remaining TTL dates that access to about a second; without
     * a TTL (binary protocol, old memcached, a secondary copy) it is the time of the last request that changed it.
     */
    private long lastAccessed(SessionData data, int ttl) {
        long fromBlob = Math.max(data.lastAccessedTime(), data.thisAccessedTime());
        int mi = data.maxInactiveInterval();
        if (sticky || ttl < 0 || mi <= 0) {
            return fromBlob;
        }
        long now = ctx.clock().getAsLong();
        // the shortest refresh (timeout + slack) even with readWrite's longer one: a Tomcat in read mode refreshes so
        long sinceRefresh = Math.max(0, (long) mi + SessionEngine.slackSeconds(mi) - ttl) * 1000;
        return Math.min(now, Math.max(fromBlob, now - sinceRefresh));
    }

    /**
     * Whether memcached may hold session {@code id}, to choose among several session cookies of one request: one get
     * of its primary copy, or (non-sticky, its node unavailable) of its secondary copy; nothing is deserialized.
     * {@code false} for an id of another configuration, a session that ended here, or one no available node has.
     */
    boolean mayExist(String id) {
        SessionId p = ids.parse(id);
        if (p == null || !selector.isKnown(p.nodeId()) || ends.hasEnded(id)) {
            return false;
        }
        String node = p.nodeId();
        String key = base.key(id);
        if (!availability.isAvailable(node)) {
            node = sticky ? null : secondaries.secondaryNode(node);
            key = keys.secondary(id, 0); // not "bak:" + key: either may be hashed to fit (see StorageKeys)
        }
        if (node == null) {
            return false;
        }
        try {
            return store.get(node, key, config.operationTimeoutMillis()) != null
                    || legacy != null && key.equals(base.key(id)) && legacy.mayExist(id, node, key);
        } catch (StoreException e) {
            base.storeFailed(e, config.operationTimeoutMillis());
            return false;
        }
    }

    /** Records that {@code session} was just built from {@code loaded}, as memcached holds it. */
    void loaded(ManagedSession session, LoadResult loaded) {
        SessionState st = session.state();
        st.storedId = loaded.data().id();
        st.storedHash = loaded.contentHash();
        st.hadContent(loaded.copyHash());
        st.cas = loaded.cas();
        st.lastBlob = sticky ? null : loaded.blob();
        st.version = idle == null ? null : loaded.version();
        st.layout = AttributeChunker.layoutOf(loaded.data(), loaded.attributes());
        if (st.layout != null) {
            st.recordAccessedNames();
        }
        st.stored = true;
        // unless the load refreshed it, memcached did not say when the copy expires: refreshed when the request ends
        st.storeExpiresAt = loaded.storeExpiresAt();
        if (loaded.underFormerName()) { // a key rotation: stored under the first key's name when the request ends
            st.stored = false;
            st.underFormerName = true;
            st.metadataChanged();
        }
        if (loaded.legacy() != null) { // memcached-session-manager's format: stored in msm's when the request ends
            st.stored = false;
            st.version = null;
            st.legacy = loaded.legacy().keys.isEmpty() ? null : loaded.legacy();
            st.metadataChanged();
        }
    }
}
