package io.msm.engine;

import io.msm.config.MsmConfig;

/**
 * Where a session's write runs and what that allows: a request's thread waits for it (bounded) and leaves every
 * memcached call beyond the write to a backup thread; a backup thread does the whole work. Replaces a
 * "request thread" flag threaded through the writer.
 */
final class WriteContext {

    /** The write runs on a request's thread: calls beyond the write (touches, deletes) are left to a backup thread. */
    final boolean onRequestThread;
    /** How long memcached may take for the write: sticky synchronous backups wait {@code sessionBackupTimeout}. */
    final long timeoutMillis;
    /**
     * Non-sticky on a request's thread: the secondary copy is written in the same round trip as the primary and its
     * answer read here; otherwise it is sent through the store's I/O thread.
     */
    final boolean pairsSecondary;
    /**
     * Non-sticky on a request's thread: copies another Tomcat could still find (under a former key name, under an
     * id the application abandoned) go before the response.
     */
    final boolean cleansBeforeResponse;

    private WriteContext(boolean onRequestThread, long timeoutMillis, boolean pairsSecondary,
            boolean cleansBeforeResponse) {
        this.onRequestThread = onRequestThread;
        this.timeoutMillis = timeoutMillis;
        this.pairsSecondary = pairsSecondary;
        this.cleansBeforeResponse = cleansBeforeResponse;
    }

    /** A write on a backup thread, bounded by {@code operationTimeout}. */
    static WriteContext background(MsmConfig config) {
        return new WriteContext(false, config.operationTimeoutMillis(), false, false);
    }

    /** Sticky: a synchronous backup on the thread of the request that waits for it, bounded by sessionBackupTimeout. */
    static WriteContext syncBackup(MsmConfig config) {
        return new WriteContext(true, config.sessionBackupTimeoutMillis(), false, false);
    }

    /**
     * Non-sticky: the write on the thread of the request that waits for it (every request), bounded by
     * operationTimeout, its secondary copy paired and former copies dropped before the response.
     */
    static WriteContext everyRequest(MsmConfig config) {
        return new WriteContext(true, config.operationTimeoutMillis(), true, true);
    }
}
