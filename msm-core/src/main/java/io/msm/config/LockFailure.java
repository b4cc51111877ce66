package io.msm.config;

/** What a request does when it cannot take its session's lock within {@code operationTimeout} ({@code lockFailure}). */
public enum LockFailure {
    /**
     * Run without the lock; the request is counted ({@code msmLockTimeouts}). Parallel requests may then lose each
     * other's updates, as without locking. The default: a slow lock never fails a user's request.
     */
    PROCEED,
    /** Answer {@code 503 Service Unavailable} with {@code Retry-After: 1}; no update can be lost. */
    FAIL
}
