package io.msm.engine;

/**
 * What differs between sticky mode (the session lives in one Tomcat, memcached holds its backup) and non-sticky mode
 * (memcached is the authority, any Tomcat serves any request): how ids are routed, when a request waits for its
 * session's write, what a request that only read its session refreshes, and the parts only one mode has (secondary
 * copies and locks in non-sticky mode, takeovers in sticky mode with a jvmRoute).
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

    /** Whether a request that only read {@code s} leaves work for its runner (a touch, a secondary's refresh). */
    boolean wantsTouch(ManagedSession s, SessionState st, long now);

    /** A request of {@code s} ends (non-sticky: the timeout watch notes the access). */
    void requestEnding(ManagedSession s, long now);

    /** Forgets what memcached has dropped anyway (periodically). */
    void purge(long now);

    /** The secondary copies; {@code null} in sticky mode. */
    SecondaryCopies secondaries();

    /** Session locks; {@code null} in sticky mode. */
    SessionLocks locks();

    /** Sessions moving between Tomcats; {@code null} in non-sticky mode, and in sticky mode without a jvmRoute. */
    Takeovers takeovers();

    /** Stops what the mode's parts run. */
    void close();
}
