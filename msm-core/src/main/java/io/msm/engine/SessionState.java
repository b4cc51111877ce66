package io.msm.engine;

/**
 * The engine's bookkeeping for one resident session: what requests changed, the backup runner's progress, and what
 * memcached holds. One per session, held by the adapter's session object; all fields are guarded by {@code this}
 * except the {@code volatile} ones.
 */
public final class SessionState {
    // change tracking: set by requests, consumed when the last concurrent request ends
    private volatile boolean accessed;
    private volatile boolean metadataChanged;
    private int inFlight;
    /**
     * Attribute names accessed since the last write took them ({@link #takeAccessedNames}); {@code null} for none.
     * While {@link #allAccessed}, names are not recorded: any attribute may have changed.
     */
    private java.util.Set<String> accessedNames;
    /**
     * Counts accesses and metadata changes (a racy increment may lose a count, never leave the value unchanged): a
     * response leaving early stores the session only if it moved since the last time.
     */
    private volatile int changes;
    private volatile int changesWhenResponseLeft = -1;
    private volatile boolean allAccessed = true;

    // backup runner coordination (guarded by this)
    long requested;
    long completed;
    boolean running;
    boolean writeWanted;
    boolean touchWanted;
    boolean verifyWanted;
    boolean deleteWanted;
    /** Requests folded into the running runner, not yet counted in the statistics. */
    long coalesced;

    /**
     * The session ended (its copies' deletes are under way or made): a secondary copy sent before and stored after
     * is deleted again ({@link SecondaryCopies#secondaryAnswered}).
     */
    volatile boolean ended;
    // what memcached holds; written only by the runner, which is exclusive per session
    volatile boolean stored;
    volatile long storedHash;
    volatile String storedId;
    /** Non-sticky: the version (memcached's CAS) of the copy stored under {@link #storedId}; 0 if not known. */
    volatile long cas;
    /** When memcached will drop the stored copy (ms since the epoch). */
    volatile long storeExpiresAt;
    /** When the last request for this session ended (ms since the epoch). */
    volatile long lastRequestEnd;
    /**
     * Non-sticky with {@code idleSessionCache}: the attribute bytes memcached holds (hash, length) as this Tomcat
     * wrote or read them, with the attribute objects they came from; {@code null} if unknown or not wanted.
     */
    volatile IdleSessionCache.Version version;
    /**
     * Non-sticky: this object was loaded from memcached here at least once. Only such a session's object is kept
     * whole when it leaves memory ({@code idleSessionCache}): one made here that no request came back for (a
     * crawler's, a user's whose next request went elsewhere) keeps only its attribute objects, as before.
     */
    volatile boolean loadedHere;
    /** Non-sticky: the last blob stored or loaded, for the secondary copy. */
    volatile byte[] lastBlob;
    /** When the last write of this session started ({@link System#nanoTime()}), for minBackupInterval. */
    volatile long lastWriteNanos;
    /** memcached refused this session as too large, and that was logged. */
    volatile boolean tooLargeReported;
    /** The session's id as last parsed (requests parse it at start and end): parsed again when the id changes. */
    volatile io.msm.node.SessionIdFormat.SessionId parsedId;
    /** Non-sticky: the node holding the secondary copy, if known. */
    volatile String bakNode;
    /**
     * Sticky: another Tomcat took this session over; this copy is dropped and must never be written, touched or
     * deleted again.
     */
    volatile boolean retired;
    /** Sticky: the jvmRoute of the Tomcat that took this session over, as its notice said ({@code null}: unknown). */
    volatile String takenBy;
    /** Sticky: when this Tomcat last took this session over from another id (clock millis); {@code 0}: never. */
    volatile long movedHereAt;
    /**
     * The content hashes of the last {@code RECENT_HASHES} copies this session object loaded or wrote (a ring, written
     * by the runner or the loading thread): a takeover notice names the copy another Tomcat took, which may be one
     * this Tomcat wrote again since (a request it still served while the balancer had already moved on).
     */
    private final long[] recentHashes = new long[RECENT_HASHES];
    private int recentCount;
    private static final int RECENT_HASHES = 8;
    /**
     * Read under the name of a session key other than the first (a key rotation, see {@link StorageKeys}): once
     * stored under the first key's name, its copies under the others are deleted.
     */
    volatile boolean underFormerName;
    /** Read as memcached-session-manager stored it: what it left is deleted once stored in msm's format. */
    volatile LegacyLoads.Leftovers legacy;
    /** Ids under which a copy may exist besides {@link #storedId} (former ids, timed-out writes): deleted later. */
    final java.util.Set<String> attempted = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** How the last write chunked the attributes, reused by the next ({@link AttributeChunker}); runner only. */
    AttributeChunker.Layout layout;

    /** A fresh state; adapters normally get one from {@link SessionEngine#newState()}. */
    public SessionState() {
    }

    /** A request read, wrote or removed attributes it does not name: the session, any attribute, may have changed. */
    public void attributeAccessed() {
        accessed = true;
        changes++;
        if (!allAccessed) {
            synchronized (this) {
                allAccessed = true;
                accessedNames = null;
            }
        }
    }

    /**
     * A request wrote or removed the attribute {@code name}, or read it as a value that may be changed in place: the
     * session, that attribute, may have changed.
     */
    public void attributeAccessed(String name) {
        accessed = true;
        changes++;
        if (!allAccessed) {
            synchronized (this) {
                if (!allAccessed) {
                    if (accessedNames == null) {
                        accessedNames = new java.util.HashSet<>();
                    }
                    accessedNames.add(name);
                }
            }
        }
    }

    /** The session was just read from memcached: names are recorded from now on, none accessed yet. */
    synchronized void recordAccessedNames() {
        allAccessed = false;
        accessedNames = null;
    }

    /**
     * The attribute names accessed since the last call, for a write that starts now; {@code null} if any attribute
     * may have changed. They are forgotten only when no request for the session is running: a running request may
     * still change an object it read, and the next write must serialize it again.
     *
     * @param recordNext record names for the next write (else it is told that any attribute may have changed)
     */
    synchronized java.util.Set<String> takeAccessedNames(boolean recordNext) {
        java.util.Set<String> taken = allAccessed ? null : accessedNames == null ? java.util.Set.of() : accessedNames;
        if (inFlight == 0) {
            accessedNames = null;
            allAccessed = !recordNext;
        } else if (taken != null && !taken.isEmpty()) {
            taken = java.util.Set.copyOf(taken);
        }
        return taken;
    }

    /** Id, principal, auth type, timeout or a carried note changed: the session must be stored. */
    public void metadataChanged() {
        metadataChanged = true;
        changes++;
    }

    synchronized void requestStarted() {
        inFlight++;
    }

    /**
     * Ends one request. Flags are cleared only when no other request for the session is still running: a request
     * may change an object it read earlier, and its own end must still see that it accessed the session.
     *
     * @return {@code true} if the session may have changed since it was last considered for backup
     */
    synchronized boolean requestEnded(long now) {
        lastRequestEnd = now;
        if (inFlight > 0) {
            inFlight--;
        }
        boolean changed = accessed || metadataChanged;
        if (inFlight == 0) {
            accessed = false;
            metadataChanged = false;
        }
        return changed;
    }

    /**
     * {@code true} if the session may have changed since it was last considered for backup, or since it was last
     * stored because a response left early ({@link SessionEngine#responseLeaving}); clears nothing, but remembers
     * this point for the next such call.
     */
    boolean changedSinceResponseLeft() {
        int now = changes;
        if (!(accessed || metadataChanged) || now == changesWhenResponseLeft) {
            return false;
        }
        changesWhenResponseLeft = now;
        return true;
    }

    /** How many requests use the session right now. */
    public synchronized int requestsInFlight() {
        return inFlight;
    }

    /**
     * No request uses the session and no change or write is pending (a touch may be: it does not change what
     * memcached holds). A write already running ends in {@link SessionEngine} either way.
     */
    synchronized boolean isSettled() {
        return inFlight == 0 && !accessed && !metadataChanged && !writeWanted;
    }

    /** Changes not yet considered for backup (e.g. made by a passivation listener outside any request). */
    synchronized boolean takeUnconsideredChanges() {
        boolean changed = accessed || metadataChanged;
        accessed = false;
        metadataChanged = false;
        return changed;
    }

    /** This session object loaded or wrote a copy with content hash {@code hash}. */
    synchronized void hadContent(long hash) {
        recentHashes[recentCount++ % RECENT_HASHES] = hash;
    }

    /** The copy this session object loaded or wrote last ({@link #hadContent}), 0 if none. */
    synchronized long lastCopyHash() {
        return recentCount == 0 ? 0 : recentHashes[(recentCount - 1) % RECENT_HASHES];
    }

    /** Whether this session object loaded or wrote a copy with content hash {@code hash} lately. */
    synchronized boolean hadContentLately(long hash) {
        for (int i = 0; i < Math.min(recentCount, RECENT_HASHES); i++) {
            if (recentHashes[i] == hash) {
                return true;
            }
        }
        return false;
    }

    /** Sticky: this Tomcat took the session over (from another Tomcat or node) at {@code at} (clock millis). */
    public void movedHere(long at) {
        movedHereAt = at;
    }

    /** Sticky: another Tomcat took this session over; this copy is dropped ({@link SessionEngine#retire}). */
    public boolean isRetired() {
        return retired;
    }

    /** {@code true} if the session is stored in memcached under {@code id}. */
    public boolean isStoredAs(String id) {
        return stored && id.equals(storedId);
    }
}
