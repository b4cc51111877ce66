package io.msm.engine;

/**
 * Non-sticky mode: memcached is the authority and any Tomcat serves any request. Ids carry no jvmRoute; every request
 * waits for its session's write before its response (the next request may reach another Tomcat); a read-only
 * request refreshes the secondary copy every half slack and, with {@code legacySessions="readWrite"}, dates its
 * access in the old format's validity record. Secondary copies and locks exist in this mode alone.
 */
final class NonStickyMode implements SessionMode {

    private final EngineBase base;
    private final SessionWriter writer;
    private final SecondaryCopies secondaries;
    private final SessionLocks locks;
    private final ExpiryWatch expiry;

    NonStickyMode(EngineBase base, SessionWriter writer, SecondaryCopies secondaries, SessionLocks locks,
            ExpiryWatch expiry) {
        this.base = base;
        this.writer = writer;
        this.secondaries = secondaries;
        this.locks = locks;
        this.expiry = expiry;
    }

    @Override
    public String route() {
        return null;
    }

    @Override
    public boolean requestWaitsForWrite() {
        return true;
    }

    /**
     * The running write, then the request's own (written by that runner next, with its secondary copy), each bounded
     * by {@code operationTimeout} and the secondary's {@code sessionBackupTimeout}. Its response must not leave
     * before memcached holds the change, or the user's next request, on another Tomcat, would miss it.
     */
    @Override
    public long coalescedWaitMillis() {
        return 2 * ((long) base.config.operationTimeoutMillis() + base.config.sessionBackupTimeoutMillis());
    }

    /** readWrite: every request dates its access in the validity record. */
    @Override
    public boolean wantsTouch(ManagedSession s, SessionState st, long now) {
        return writer.needsTouch(s, st, now) || secondaries.secondaryDue(s, now) || base.legacyWrites != null;
    }

    @Override
    public void requestEnding(ManagedSession s, long now) {
        expiry.seen(s, now);
    }

    @Override
    public void purge(long now) {
        secondaries.purge(now);
        if (!base.unsaved.isEmpty()) {
            base.unsaved.purge(now, base.ctx.residents());
        }
    }

    @Override
    public SecondaryCopies secondaries() {
        return secondaries;
    }

    @Override
    public SessionLocks locks() {
        return locks;
    }

    @Override
    public Takeovers takeovers() {
        return null;
    }

    @Override
    public void close() {
        locks.close();
    }
}
