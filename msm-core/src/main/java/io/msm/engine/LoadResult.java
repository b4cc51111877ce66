package io.msm.engine;

import io.msm.codec.SessionData;
import java.util.Map;

/** The outcome of looking a session up in memcached. */
public final class LoadResult {

    /** What the look-up found. */
    public enum Status {
        /** The session was read; {@link #data()} and {@link #attributes()} hold it. */
        FOUND,
        /** memcached has no such session (expired, never stored, or lost). */
        NOT_FOUND,
        /** memcached could not be asked: the node is unavailable, timed out or failed. */
        UNAVAILABLE,
        /** The stored bytes are not a readable session; {@link #reason()} says why. */
        UNREADABLE,
        /** The id is not an msm session id of this configuration; memcached was not asked. */
        INVALID_ID
    }

    private final Status status;
    private final SessionData data;
    private final IdleSessionCache.Version version;
    private final long contentHash;
    private final String reason;
    private final byte[] blob;
    private final boolean secondary;
    private final long lastAccessedTime;
    private long storeExpiresAt;
    private final boolean underFormerName;
    /** The primary copy's CAS as read, {@code 0} if unknown (or read from the secondary copy). */
    private long cas;
    private boolean timedOut;
    private long copyHash;
    /** What memcached-session-manager left of it, if it was read in that manager's format. */
    private LegacyLoads.Leftovers legacy;
    /** The whole session object kept when it left memory, if memcached held the very bytes it left with. */
    private ManagedSession reused;

    private LoadResult(Status status, SessionData data, IdleSessionCache.Version version, long contentHash,
            String reason, byte[] blob, boolean secondary, long lastAccessedTime, long storeExpiresAt,
            boolean underFormerName) {
        this.status = status;
        this.data = data;
        this.version = version;
        this.contentHash = contentHash;
        this.reason = reason;
        this.blob = blob;
        this.secondary = secondary;
        this.lastAccessedTime = lastAccessedTime;
        this.storeExpiresAt = storeExpiresAt;
        this.underFormerName = underFormerName;
    }

    /**
     * @param storeExpiresAt when the stored copy expires, if the load refreshed it for this session; else 0
     * @param underFormerName read under the name of a session key other than the first (see {@link StorageKeys})
     */
    static LoadResult found(SessionData data, IdleSessionCache.Version version, long contentHash, byte[] blob,
            boolean secondary, long lastAccessedTime, long storeExpiresAt, boolean underFormerName) {
        return new LoadResult(Status.FOUND, data, version, contentHash, null, blob, secondary, lastAccessedTime,
                storeExpiresAt, underFormerName);
    }

    /**
     * Non-sticky ({@code idleSessionCache}): memcached holds exactly the bytes {@code kept}'s session left memory
     * with, so that object is the session, as is: nothing was opened, decoded or deserialized ({@link #data()} is
     * {@code null}).
     */
    static LoadResult reused(IdleSessionCache.Entry kept, long contentHash, long lastAccessedTime,
            long storeExpiresAt) {
        LoadResult r = new LoadResult(Status.FOUND, null, kept.version, contentHash, null, kept.blob, false,
                lastAccessedTime, storeExpiresAt, false);
        r.reused = kept.session;
        return r;
    }

    /**
     * The session object this Tomcat kept when the session left its memory, to be used again as it is (its
     * attributes, principal and notes are those memcached holds); {@code null} if the caller builds one from
     * {@link #data()}. Only when {@link #isFound()}.
     */
    public ManagedSession reusedSession() {
        return reused;
    }

    /** The session's timeout in seconds, as stored; only when {@link #isFound()}. */
    int maxInactiveInterval() {
        return reused != null ? reused.maxInactiveInterval() : data.maxInactiveInterval();
    }

    /** The stored session's id; only when {@link #isFound()}. */
    String id() {
        return reused != null ? reused.id() : data.id();
    }

    static LoadResult of(Status status, String reason) {
        return new LoadResult(status, null, null, 0, reason, null, false, 0, 0, false);
    }

    /** Read under a former key's name (a key rotation): stored again under the first key's, the old copy deleted. */
    boolean underFormerName() {
        return underFormerName;
    }

    /** Read as memcached-session-manager stored it; {@code leftovers} go once msm stored it in its own format. */
    LoadResult fromLegacy(LegacyLoads.Leftovers leftovers) {
        this.legacy = leftovers;
        return this;
    }

    LegacyLoads.Leftovers legacy() {
        return legacy;
    }

    LoadResult withCas(long value) {
        this.cas = value;
        return this;
    }

    long cas() {
        return cas;
    }

    LoadResult withStoreExpiresAt(long value) {
        this.storeExpiresAt = value;
        return this;
    }

    /** When memcached's copy expires, if the load itself refreshed it to this session's timeout; 0 if unknown. */
    long storeExpiresAt() {
        return storeExpiresAt;
    }

    /**
     * When the session was last accessed on any Tomcat, as well as memcached tells (non-sticky mode); the stored
     * times otherwise. Only when {@link #isFound()}.
     */
    public long lastAccessedTime() {
        return lastAccessedTime;
    }

    byte[] blob() {
        return blob;
    }

    /** {@code true} if the session was read from its secondary copy (its primary node could not answer). */
    public boolean fromSecondary() {
        return secondary;
    }

    public Status status() {
        return status;
    }

    public boolean isFound() {
        return status == Status.FOUND;
    }

    /** The stored session; only when {@link #isFound()}, and {@code null} for a {@link #reusedSession()}. */
    public SessionData data() {
        return data;
    }

    /**
     * The attributes, deserialized or reused ({@code idleSessionCache}); only when {@link #isFound()}. The caller
     * copies them into its session: this map is the version's record and must not be changed.
     */
    public Map<String, Object> attributes() {
        return version.attributes;
    }

    IdleSessionCache.Version version() {
        return version;
    }

    /**
     * Sticky: the hash of the whole stored copy ({@link io.msm.codec.BlobCodec#copyHash}), which names it in takeover
     * notices and expiry claims; 0 in non-sticky mode, which never uses it (not computed there: issue 26).
     */
    public long copyHash() {
        return copyHash;
    }

    LoadResult withCopyHash(long value) {
        this.copyHash = value;
        return this;
    }

    /** The hash of the stored session's content (what a write of the same state would hash to). */
    public long contentHash() {
        return contentHash;
    }

    /** Why the session was not found or not readable. */
    public String reason() {
        return reason;
    }

    /**
     * Non-sticky: memcached's copy says the session timed out (no Tomcat accessed it for its timeout) and lives on
     * only by the slack. The caller does not revive it: its end is claimed ({@link ExpiryWatch#claim}).
     */
    public boolean timedOut() {
        return timedOut;
    }

    LoadResult timedOut(boolean value) {
        this.timedOut = value;
        return this;
    }
}
