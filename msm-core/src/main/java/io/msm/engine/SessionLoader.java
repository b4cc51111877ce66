package io.msm.engine;

import io.msm.config.MsmConfig;
import io.msm.node.NodeAvailability;
import io.msm.node.NodeSelector;
import io.msm.node.SessionIdFormat;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;

/**
 * Reads sessions this Tomcat does not hold: the primary copy (as its {@link SessionMode} reads it), the copy the mode
 * falls back to when the primary's node cannot answer, memcached-session-manager's format with {@code legacySessions}
 * ({@link LegacyLoads}); then has {@link SessionDecoder} check and decode the blob, and records in the session's
 * state what memcached holds.
 */
final class SessionLoader {

    private final EngineBase base;
    private final MsmConfig config;
    private final MsmStatistics stats;
    private final SessionIdFormat ids;
    private final SessionStore store;
    private final NodeAvailability availability;
    private final NodeSelector selector;
    private final StorageKeys keys;
    private final IdleSessionCache idle;
    private final LegacyLoads legacy;
    private final SessionEnds ends;
    private final SessionDecoder decoder;
    /** What a load reads, and what it falls back to when the primary's node cannot answer. */
    private final SessionMode mode;

    SessionLoader(EngineBase base, SessionEnds ends, SessionMode mode, SessionDecoder decoder) {
        this.base = base;
        this.config = base.config;
        this.stats = base.stats;
        this.ids = base.ids;
        this.store = base.store;
        this.availability = base.availability;
        this.selector = base.selector;
        this.keys = base.keys;
        this.idle = base.idle;
        this.legacy = base.legacy;
        this.ends = ends;
        this.mode = mode;
        this.decoder = decoder;
    }

    /**
     * Reads a session this Tomcat does not hold. Never throws: every failure is a {@link LoadResult} status, logged
     * and counted.
     */
    LoadResult load(String id) {
        SessionId p = ids.parse(id);
        if (p == null || !base.isKnownNode(p.nodeId())) {
            return LoadResult.of(LoadResult.Status.INVALID_ID, "not an msm session id of this configuration");
        }
        if (ends.hasEnded(id)) {
            stats.count(Counter.SESSIONS_NOT_FOUND);
            return LoadResult.of(LoadResult.Status.NOT_FOUND, "the session ended in this Tomcat");
        }
        String node = p.nodeId();
        long start = System.nanoTime();
        PrimaryRead read = readPrimary(id, node);
        byte[] blob = read.blob;
        boolean secondary = false;
        if (read.failure != null) {
            // the primary cannot answer (a clean miss is a miss: never resurrect an old secondary copy)
            String[] from = new String[1];
            blob = mode.readSecondary(id, node, from);
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
        // the primary copy as this Tomcat's kept object left it: that object; else decoded (the kept attributes may
        // still serve). Only a load reuses: the timeout watch's decode of a copy builds a session to end
        LoadResult r = secondary || read.name > 0 ? null
                : decoder.reused(id, blob, read.ttl, read.refreshedFor, read.refreshedUntil, start, read.cas);
        if (r == null) {
            r = decoder.decode(id, node, blob, secondary, read.ttl, read.refreshedFor, read.refreshedUntil, start,
                    read.name, read.cas);
        }
        return secondary || read.name > 0 ? r : mode.refreshForItsTimeout(id, node, r, read.refreshedFor);
    }

    private LoadResult failed(StoreException e) {
        base.storeFailed(e, config.operationTimeoutMillis());
        stats.count(Counter.LOAD_FAILURES);
        return LoadResult.of(LoadResult.Status.UNAVAILABLE, e.getMessage());
    }

    /**
     * Reads the primary copy of {@code id} as the mode reads it ({@link SessionMode#readPrimary}); after a key
     * rotation, under the former names too.
     */
    private PrimaryRead readPrimary(String id, String node) {
        PrimaryRead read = new PrimaryRead();
        if (!availability.isAvailable(node)) {
            read.failure = "memcached node " + node + " is unavailable";
            return read;
        }
        try {
            mode.readPrimary(read, node, base.key(id));
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
     * {@code readWrite}, non-sticky: the last access to {@code id} its old-format validity record dates, which
     * Tomcats still running memcached-session-manager write without touching the copy; {@code -1} otherwise.
     *
     * @throws StoreException memcached did not answer
     */
    long legacyAccessed(String id, String node) {
        return mode.legacyAccessed(id, node);
    }

    /**
     * Whether memcached may hold session {@code id}, to choose among several session cookies of one request: one get
     * of its primary copy, or (its node unavailable) the copy the mode falls back to, looked for as a load looks for
     * it (not only on the node this Tomcat would put it on: while a node joins, another Tomcat may have put it on
     * the next one); nothing is deserialized. {@code false} for an id of another configuration, a session that ended
     * here, or one no available node has.
     */
    boolean mayExist(String id) {
        SessionId p = ids.parse(id);
        if (p == null || !base.isKnownNode(p.nodeId()) || ends.hasEnded(id)) {
            return false;
        }
        String node = p.nodeId();
        String key = base.key(id);
        if (!availability.isAvailable(node)) {
            return mode.readSecondary(id, node, new String[1]) != null;
        }
        try {
            return store.get(node, key, config.operationTimeoutMillis()) != null
                    || legacy != null && legacy.mayExist(id, node, key);
        } catch (StoreException e) {
            base.storeFailed(e, config.operationTimeoutMillis());
            return false;
        }
    }

    /** Records that {@code session} was just built from {@code loaded}, as memcached holds it. */
    void loaded(ManagedSession session, LoadResult loaded) {
        SessionState st = session.state();
        st.loadedHere = true;
        if (loaded.reusedSession() == session) { // the object memcached's bytes came from: only the read's news
            st.cas = loaded.cas();
            st.version = loaded.version();
            if (st.layout != null) {
                st.recordAccessedNames();
            }
            st.storeExpiresAt = loaded.storeExpiresAt();
            return;
        }
        if (loaded.reusedSession() != null) {
            throw new IllegalArgumentException("the load gave back the kept session object: only it can be loaded from it"
                    + " (LoadResult.reusedSession())");
        }
        st.storedId = loaded.data().id();
        st.storedHash = loaded.contentHash();
        if (config.sticky()) { // copy hashes serve sticky takeovers and expiry claims only (SessionDecoder)
            st.hadContent(loaded.copyHash());
        }
        st.cas = loaded.cas();
        st.lastBlob = mode.keptBlob(loaded.blob());
        st.version = idle == null ? null : loaded.version();
        st.layout = AttributeChunker.layoutOf(loaded.data(), loaded.version());
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
