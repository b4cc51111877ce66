package io.msm.config;

/**
 * How non-sticky mode serializes parallel requests for one session (attribute {@code lockingMode}). Ignored in sticky
 * mode, where a session lives in one Tomcat and parallel requests share its in-memory object.
 */
public enum LockingMode {
    /**
     * No lock. Parallel requests for one session on different Tomcats each load it, and the last write wins: an
     * update made by one of them can be lost. Fastest; right when a user never sends parallel requests that change the
     * session.
     */
    NONE,
    /** Every request that carries a session id takes the session's lock. No update is lost; parallel requests wait. */
    ALL,
    /**
     * Requests take the lock unless their path was seen to only read the session. A read-only request that starts to
     * write after being classified can race with a writer; the path is then re-learned.
     */
    AUTO,
    /** Only requests whose path matches the configured pattern take the lock ({@code uriPattern:<regex>}). */
    URI_PATTERN
}
