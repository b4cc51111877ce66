package io.msm.engine;

import io.msm.codec.BlobCodec;
import io.msm.codec.BlobSealer;
import io.msm.codec.SessionData;
import io.msm.codec.UnreadableBlobException;
import io.msm.codec.UntrustedBlobException;
import io.msm.internal.LogIds;
import io.msm.node.SessionIdFormat;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderException;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.stats.MsmStatistics.Timer;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a blob read from memcached into a session: opens it (signature, encryption, compression), checks that it is
 * this id's and this webapp's, and deserializes its attributes (or reuses the objects {@code idleSessionCache} kept);
 * every refusal is a {@link LoadResult} status, counted and logged. Also answers the timeout watch's questions about
 * a copy it read.
 */
final class SessionDecoder {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    private final EngineBase base;
    private final EngineContext ctx;
    private final String logPrefix;
    private final MsmStatistics stats;
    private final SessionIdFormat ids;
    private final SessionAttributesTranscoder transcoder;
    private final BlobSealer sealer;
    private final byte[] ownerNote;
    private final Binding binding;
    private final IdleSessionCache idle;
    private final LegacyLoads legacy;

    SessionDecoder(EngineBase base) {
        this.base = base;
        this.ctx = base.ctx;
        this.logPrefix = base.logPrefix;
        this.stats = base.stats;
        this.ids = base.ids;
        this.transcoder = base.transcoder;
        this.sealer = base.sealer;
        this.ownerNote = base.ownerNote;
        this.binding = base.binding;
        this.idle = base.idle;
        this.legacy = base.legacy;
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
     * {@link SessionLoader#load(String)}'s second half: checks and decodes what the read found. The parameters are what
     * the read learned besides the bytes: from the secondary copy, the remaining TTL, the timeout the read refreshed
     * the copy for and until when, when the read started, the key name it was found under, its CAS.
     */
    LoadResult decode(String id, String node, byte[] blob, boolean secondary, int ttl, int refreshedFor,
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
            String otherWebapp = otherWebapp(data);
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
                    .withCas(secondary || name > 0 ? 0 : cas).timedOut(ExpiryWatch.timedOut(ttl, mi))
                    // a copy's hash names it in sticky takeover notices and expiry claims only: non-sticky loads
                    // every request and need not hash it a third time
                    .withCopyHash(base.config.sticky() ? BlobCodec.copyHash(opened) : 0);
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
     * Non-sticky ({@code idleSessionCache}), a load's first look at its primary copy ({@link SessionLoader#load}): the
     * session object this Tomcat kept when the session left its memory, if memcached holds the very bytes it left
     * with (so nothing else was stored since) and the copy has not timed out; {@code null} otherwise, and always
     * without {@code idleSessionCache}. The parameters are {@link #decode}'s.
     */
    LoadResult reused(String id, byte[] blob, int ttl, int refreshedFor, long refreshedUntil, long start, long cas) {
        IdleSessionCache.Entry kept = idle == null || blob == null ? null : idle.takeSession(id, blob);
        if (kept == null) {
            return null;
        }
        ManagedSession s = kept.session;
        int mi = s.maxInactiveInterval();
        if (ExpiryWatch.timedOut(ttl, mi) // ended from a decoded copy, as any copy that timed out
                || base.unsaved.contains(s)) { // a write that failed after it left: memcached lacks its change
            return null;
        }
        stats.count(Counter.SESSIONS_LOADED);
        stats.count(Counter.LOADS_REUSED);
        long storeExpiresAt = mi == refreshedFor ? refreshedUntil : 0;
        base.usualMaxInactive = mi;
        stats.time(Timer.LOAD, System.nanoTime() - start);
        return LoadResult.reused(kept, s.state().storedHash, lastAccessed(s.thisAccessedTime(), mi, ttl),
                storeExpiresAt).withCas(cas);
    }

    /** The webapp {@code data} belongs to if not this one (its binding or owner note says); {@code null} if this. */
    private String otherWebapp(SessionData data) {
        if (binding != null) {
            return binding.otherWebapp(data);
        }
        byte[] owner = data.notes().get(SessionEngine.OWNER_NOTE);
        return ownerNote != null && owner != null && !java.util.Arrays.equals(owner, ownerNote)
                ? new String(owner, java.nio.charset.StandardCharsets.UTF_8) : null;
    }

    /**
     * The attributes stored as {@code bytes}: the objects this Tomcat kept for the idle session if they are that
     * version ({@code idleSessionCache}), else deserialized (a plain chunk by msm itself, see {@link
     * io.msm.codec.PlainValues}).
     */
    IdleSessionCache.Version attributesOf(String id, SessionData data) {
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
        List<Set<String>> chunkNames = new java.util.ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
            Map<String, Object> part = i == data.plainChunk() ? io.msm.codec.PlainValues.decode(chunks.get(i))
                    : transcoder.deserialize(chunks.get(i));
            chunkNames.add(Set.copyOf(part.keySet()));
            String name = data.attributeChunkNames().get(i);
            // a chunk named for one attribute holds that one alone (or none, if the serializer skipped it): its bytes
            // stand for it at the next write
            if (name != null && !part.isEmpty() && !part.keySet().equals(Set.of(name))) {
                throw new TranscoderException("the attribute chunk named " + name + " holds " + part.keySet());
            }
            attributes.putAll(part);
        }
        return new IdleSessionCache.Version(hash, length, attributes, chunkNames);
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
     * When the session was last accessed on any Tomcat. With a TTL (non-sticky: its mode's read asks for it, see
     * {@link SessionMode#readPrimary}), every access refreshes the stored copy to {@code maxInactiveInterval + slack}
     * seconds, so its remaining TTL dates that access to about a second; without one (sticky, binary protocol, old
     * memcached, a secondary copy) it is the time of the last request that changed it.
     */
    long lastAccessed(SessionData data, int ttl) {
        return lastAccessed(Math.max(data.lastAccessedTime(), data.thisAccessedTime()), data.maxInactiveInterval(),
                ttl);
    }

    private long lastAccessed(long fromBlob, int mi, int ttl) {
        if (ttl < 0 || mi <= 0) {
            return fromBlob;
        }
        long now = ctx.clock().getAsLong();
        // the shortest refresh (timeout + slack) even with readWrite's longer one: a Tomcat in read mode refreshes so
        long sinceRefresh = Math.max(0, (long) mi + Slack.seconds(mi) - ttl) * 1000;
        return Math.min(now, Math.max(fromBlob, now - sinceRefresh));
    }
}
