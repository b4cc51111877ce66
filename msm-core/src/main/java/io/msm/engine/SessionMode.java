package io.msm.engine;

/**
 * What differs between sticky mode (the session lives in one Tomcat, memcached holds its backup) and non-sticky mode
 * (memcached is the authority, any Tomcat serves any request): how ids are routed, when a request waits for its
 * session's write, what a load reads, what a write does besides storing the primary copy, what a request that only
 * read its session refreshes, what an end leaves, and the parts only one mode has (secondary copies and locks in
 * non-sticky mode, takeovers in sticky mode with a jvmRoute). The parts that load, write and end sessions ask their
 * mode, never the {@code sticky} flag: the engine chooses the mode once, when it is assembled.
 */
interface SessionMode {

    /** The jvmRoute new and relocated ids carry: this Tomcat's in sticky mode, none in non-sticky mode. */
    String route();

    /**
     * Whether a request waits for its session's write (at its end, when its response leaves early, at a logout):
     * always in non-sticky mode (the user's next request may reach another Tomcat), with synchronous backups in
     * sticky mode.
     */
    boolean requestWaitsForWrite();

    /** How long a request waits for a write another thread runs for its session. */
    long coalescedWaitMillis();

    /** A write on the request's thread (sticky: a synchronous backup; non-sticky: every request's). */
    WriteContext onRequest();

    /** Whether a request that only read {@code s} leaves work for its runner (a touch, a secondary's refresh). */
    boolean wantsTouch(ManagedSession s, SessionState st, long now);

    /** A request of {@code s} ends (non-sticky: the timeout watch notes the access). */
    void requestEnding(ManagedSession s, long now);

    /** Forgets what memcached has dropped anyway (periodically). */
    void purge(long now);

    // What a load reads

    /**
     * Reads the primary copy under {@code key} on {@code node} into {@code read}: sticky, one get; non-sticky, one
     * get that also returns the remaining TTL (when any Tomcat last refreshed it) and refreshes it for this access.
     *
     * @throws io.msm.store.StoreException memcached did not answer
     */
    void readPrimary(PrimaryRead read, String node, String key);

    /**
     * The copy a load reads when the primary's node cannot answer, {@code from[0]} set to the node it came from:
     * non-sticky, the secondary copy; sticky, none ({@code null}: the session is unavailable).
     */
    byte[] readSecondary(String id, String primaryNode, String[] from);

    /** The node holding the secondary copy of a session on {@code primaryNode}; {@code null} if none (sticky). */
    String secondaryNode(String primaryNode);

    /**
     * A load found {@code r} in the primary copy, whose read refreshed it for {@code refreshedFor} seconds: non-sticky,
     * a session with another timeout is touched for its own (one more call); sticky, nothing (the load refreshes
     * nothing; the request's end touches the backup if needed).
     */
    LoadResult refreshForItsTimeout(String id, String node, LoadResult r, int refreshedFor);

    /**
     * Non-sticky with {@code legacySessions="readWrite"}: the last access its old-format validity record dates;
     * {@code -1} otherwise.
     *
     * @throws io.msm.store.StoreException memcached did not answer
     */
    long legacyAccessed(String id, String node);

    /** What a session's state keeps of the stored blob (for its secondary copy): non-sticky, the blob; sticky, none. */
    byte[] keptBlob(byte[] blob);

    // What a write does besides storing the primary copy

    /**
     * The version a write of {@code id} expects memcached to hold: non-sticky, the one this Tomcat last saw
     * (a conditional write: a session ended meanwhile on another Tomcat stays ended, see {@link Tombstones});
     * sticky, any.
     */
    long expectedVersion(SessionState st, String id);

    /**
     * Sends the secondary copy of {@code blob} through the store's I/O thread (non-sticky, when not paired with the
     * primary's write); {@code null} if none was sent (sticky: never).
     */
    SecondaryCopies.SecondaryWrite sendSecondary(ManagedSession s, SessionState st, String id, byte[] blob);

    /**
     * memcached holds {@code blob} as {@code id} now: non-sticky, the access is dated in the old format's validity
     * record ({@code readWrite}), the blob is kept for the secondary copy, and the secondary copy's answer awaited;
     * sticky, nothing more.
     */
    void committed(ManagedSession s, SessionState st, String id, byte[] blob, SessionWriter.Sent sent);

    /**
     * A request accessed the session stored as {@code id} on {@code node} (its write or its touch): non-sticky with
     * {@code readWrite}, the access is dated in the old format's validity record; otherwise nothing.
     */
    void dateAccess(ManagedSession s, String id, String node, long now);

    /**
     * The stored copy needs no touch: non-sticky, the secondary copy is refreshed if it is due (the load refreshed
     * the primary); sticky, nothing.
     */
    void primaryFresh(ManagedSession s, SessionState st, String node, long now);

    /** The primary copy was touched to {@code exp}: non-sticky, so is the secondary copy; sticky, nothing. */
    void primaryTouched(ManagedSession s, SessionState st, String node, int exp);

    // What the timeout watch ({@link ExpiryWatch}) decides

    /**
     * Whether Tomcat itself expires a due session it holds in memory, so the watch leaves it to Tomcat: sticky, yes
     * (it lives there); non-sticky, no (memcached decides: another Tomcat may have served it since).
     */
    boolean tomcatExpiresHeldSessions();

    /**
     * Whether a due session whose copy's remaining TTL memcached does not tell can still be found timed out: sticky,
     * yes (a copy a stop left that no other Tomcat took over was accessed nowhere since); non-sticky, no (any Tomcat
     * may have accessed it: it is no longer watched).
     */
    boolean copyWithoutTtlCanTimeOut();

    /**
     * Whether a stop hands the sessions this Tomcat holds to the next start's watch (and keeps their copies until
     * they would time out): sticky, yes (no other Tomcat would end them); non-sticky, no (the Tomcats their requests
     * reached watch them already).
     */
    boolean stopHandsOverHeldSessions();

    // What an end leaves

    /**
     * Whether an ended id's keys get tombstones on every node (non-sticky: a write racing on another Tomcat must not
     * store it anew, see {@link Tombstones}) instead of a plain delete of its key (sticky).
     */
    boolean tombstonesEndedIds();

    /**
     * Deletes the secondary copies of {@code id} under key name {@code name}, of a session that lives on under another
     * name (non-sticky); sticky has none. A delete whose node is unavailable or fails is made when the node is
     * available again, unless the copy has expired by then, at {@code until} (clock millis).
     */
    void deleteSecondaries(String id, String primaryNode, int name, long until);

    /**
     * The session of {@code id} ended (or left the id) by {@code endedAt} (clock millis: when its tombstones are in
     * memcached, or will be): its secondary copies are deleted under every key name, each with the mark that keeps a
     * copy landing later from being read ({@link GoneMarks}); a delete whose node is unavailable or fails waits as
     * above. Left behind, a copy could bring an ended session back.
     */
    void endSecondaries(String id, String primaryNode, long until, long endedAt);

    /** Session locks; {@code null} in sticky mode. */
    SessionLocks locks();

    /** Sessions moving between Tomcats; {@code null} in non-sticky mode, and in sticky mode without a jvmRoute. */
    Takeovers takeovers();

    /** Stops what the mode's parts run. */
    void close();
}
