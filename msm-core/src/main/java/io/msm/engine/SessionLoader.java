package io.msm.engine;

import io.msm.config.MsmConfig;
import io.msm.node.NodeAvailability;
import io.msm.node.NodeSelector;
import io.msm.node.SessionIdFormat;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;

/**
 * Reads sessions this Tomcat does not hold: the primary copy (non-sticky: with its remaining TTL, refreshing it in
 * the same call), the secondary copy when the primary's node cannot answer, memcached-session-manager's format with
 * {@code legacySessions} ({@link LegacyLoads}); then has {@link SessionDecoder} check and decode the blob, and
 * records in the session's state what memcached holds.
 */
final class SessionLoader {

    private final EngineBase base;
    private final MsmConfig config;
    private final EngineContext ctx;
    private final MsmStatistics stats;
    private final SessionIdFormat ids;
    private final SessionStore store;
    private final NodeAvailability availability;
    private final NodeSelector selector;
    private final StorageKeys keys;
    private final boolean sticky;
    private final IdleSessionCache idle;
    private final LegacyLoads legacy;
    private final LegacyWrites legacyWrites;
    private final SessionEnds ends;
    private final SessionDecoder decoder;
    /** Non-sticky: read when the primary's node cannot answer; {@code null} in sticky mode. */
    private final SecondaryCopies secondaries;

    SessionLoader(EngineBase base, SessionEnds ends, SecondaryCopies secondaries, SessionDecoder decoder) {
        this.base = base;
        this.config = base.config;
        this.ctx = base.ctx;
        this.stats = base.stats;
        this.ids = base.ids;
        this.store = base.store;
        this.availability = base.availability;
        this.selector = base.selector;
        this.keys = base.keys;
        this.sticky = base.sticky;
        this.idle = base.idle;
        this.legacy = base.legacy;
        this.legacyWrites = base.legacyWrites;
        this.ends = ends;
        this.secondaries = secondaries;
        this.decoder = decoder;
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
        LoadResult r = decoder.decode(id, node, blob, secondary, read.ttl, read.refreshedFor, read.refreshedUntil, start,
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
