package io.msm.engine;

import io.msm.codec.BlobCodec;
import io.msm.codec.BlobSealer;
import io.msm.config.MsmConfig;
import io.msm.internal.LogIds;
import io.msm.node.NodeAvailability;
import io.msm.node.SessionIdFormat;
import io.msm.node.SessionIdFormat.SessionId;
import io.msm.stats.MsmStatistics;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.stats.MsmStatistics.Timer;
import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.lang.System.Logger.Level;

/**
 * Writes sessions to memcached, on the runner of each session: serializes and encodes a session (prepare), stores it
 * if its stored form changed (send), records what memcached holds (commit); refreshes the stored copy's expiry when
 * only read (touch). What a write does beyond the primary copy (a conditional write, the secondary copy) is its
 * {@link SessionMode}'s; how long it may take and what it leaves for later come from its {@link WriteContext}.
 */
final class SessionWriter {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");

    private final EngineBase base;
    private final MsmConfig config;
    private final EngineContext ctx;
    private final String logPrefix;
    private final MsmStatistics stats;
    private final SessionIdFormat ids;
    private final SessionStore store;
    private final NodeAvailability availability;
    private final NodeHealth health;
    private final StorageKeys keys;
    private final BlobSealer sealer;
    private final UnsavedSessions unsaved;
    private final IdleSessionCache idle;
    private final Tombstones tombstones;
    private final SessionEnds ends;
    /** What a write does besides the primary copy (its version check, the secondary copy). */
    private final SessionMode mode;
    private final SessionEncoder encoder;
    /** A write on a backup thread (nothing waits for it, or a request waits for the runner). */
    final WriteContext background;
    /** A write on the request's thread (non-sticky, or sticky with synchronous backups). */
    final WriteContext onRequest;
    /** Non-sticky: the bound of {@link #unsaved} was reached and said in the log (again after a node returns). */
    private final java.util.concurrent.atomic.AtomicBoolean unsavedFull =
            new java.util.concurrent.atomic.AtomicBoolean();

    SessionWriter(EngineBase base, SessionEnds ends, SessionMode mode) {
        this.base = base;
        this.config = base.config;
        this.ctx = base.ctx;
        this.logPrefix = base.logPrefix;
        this.stats = base.stats;
        this.ids = base.ids;
        this.store = base.store;
        this.availability = base.availability;
        this.health = base.health;
        this.keys = base.keys;
        this.sealer = base.sealer;
        this.unsaved = base.unsaved;
        this.idle = base.idle;
        this.tombstones = base.tombstones;
        this.ends = ends;
        this.mode = mode;
        this.encoder = new SessionEncoder(base);
        this.background = WriteContext.background(config);
        this.onRequest = mode.onRequest();
    }

    /** A node is available again: the bound of waiting sessions may be said again. */
    void nodeRecovered() {
        unsavedFull.set(false);
    }

    /** Whether the stored copy of {@code s} expires before the session could (a touch refreshes it). */
    static boolean needsTouch(ManagedSession s, SessionState st, long now) {
        int mi = s.maxInactiveInterval();
        return st.stored && mi > 0 && st.storeExpiresAt < now + mi * 1000L + Slack.TOUCH_MARGIN_MILLIS;
    }

    /**
     * Stores the session if its stored form changed: {@link #prepare} serializes it, {@link #send} writes it (with its
     * secondary copy, non-sticky), {@link #commit} records what memcached holds now and drops former ids' copies.
     *
     * @return {@code true} if a write was attempted (so no touch is needed)
     */
    boolean writeIfChanged(ManagedSession s, SessionState st, WriteContext wc) {
        long start = System.nanoTime();
        SessionEncoder.Prepared next = encoder.prepare(s);
        if (next == null) {
            return true; // cannot be serialized (counted, said): the session's next request tries again
        }
        if (st.stored && next.hash == st.storedHash && next.id.equals(st.storedId)) {
            stats.count(Counter.BACKUPS_UNCHANGED);
            unsaved.remove(s);
            st.version = hashed(next.version); // memcached holds the earlier bytes: these are not kept
            return false;
        }
        String id = next.id;
        byte[] blob = next.legacy ? next.encoded : sealer.seal(next.encoded); // the old manager reads it as it is
        if (blob != next.encoded) {
            hashed(next.version); // sealed: the idle cache will keep the sealed bytes, not the plain ones
        }
        SessionId p = ids.parse(id);
        if (p == null) {
            LOG.log(Level.WARNING, () -> logPrefix + "session id " + LogIds.of(id) + " is not an msm id; not stored");
            return true;
        }
        if (!availability.isAvailable(p.nodeId())) {
            stats.count(Counter.BACKUP_FAILURES);
            markUnsaved(s);
            return true;
        }
        Sent sent = send(s, st, id, blob, p.nodeId(), wc);
        if (sent == null) {
            return true; // failed (counted; the session waits for its node)
        }
        if (sent.written == Tombstones.ENDED) {
            endedElsewhere(s, st, id, p.nodeId(), sent.secondary);
            return true;
        }
        commit(s, st, next, blob, sent, wc, start);
        return true;
    }

    /** What {@link #send} did: memcached's answer and the secondary copy's. */
    static final class Sent {
        /** The CAS of the copy written, or {@link Tombstones#ENDED}. */
        long written;
        long ttl;
        long now;
        /** The secondary copy sent through the store's I/O thread, or {@code null}. */
        SecondaryCopies.SecondaryWrite secondary;
        /** The node the secondary copy was paired to (written in the same round trip), or {@code null}. */
        String paired;
        SessionStore.Secondary pairedOutcome;
        String node;
    }

    /**
     * Writes {@code blob}: non-sticky, conditionally (a session ended meanwhile on another Tomcat stays ended, see
     * {@link Tombstones}) and with its secondary copy; {@code null} if memcached failed (counted, the session waits
     * for its node).
     */
    private Sent send(ManagedSession s, SessionState st, String id, byte[] blob, String node, WriteContext wc) {
        Sent sent = new Sent();
        sent.now = ctx.clock().getAsLong();
        sent.ttl = base.ttlSeconds(s, st, sent.now);
        long timeout = wc.timeoutMillis;
        st.lastWriteNanos = System.nanoTime();
        // A secondary copy (non-sticky) travels alongside the primary one (one round trip of waiting, not two). A
        // request thread sends both and reads both answers itself; a backup thread sends the secondary through the
        // store's I/O thread and waits for its answer too, as does a request when the secondary node is being probed
        // (not waiting for it then).
        String paired = wc.pairsSecondary ? mode.secondaryNode(node) : null;
        if (paired != null && health.isProbing(paired)) {
            paired = null;
        }
        sent.paired = paired;
        sent.node = node;
        long expected = mode.expectedVersion(st, id);
        int exp = Expiration.of(sent.ttl, sent.now);
        try {
            if (expected == Tombstones.UNKNOWN) {
                expected = tombstones.read(node, base.key(id), timeout);
            }
            sent.written = expected;
            if (expected != Tombstones.ENDED) {
                sent.secondary = paired != null ? null : mode.sendSecondary(s, st, id, blob);
                if (paired != null) {
                    SessionStore.Paired w = store.storeWithSecondary(node, base.key(id), exp, blob, expected, timeout,
                            paired, keys.secondary(id, 0), exp, config.sessionBackupTimeoutMillis());
                    sent.written = w.primary;
                    sent.pairedOutcome = w.secondary;
                } else {
                    sent.written = store.storeIf(node, base.key(id), exp, blob, expected, timeout);
                }
                if (sent.written < 0) {
                    sent.written = tombstones.retry(node, base.key(id), exp, blob, sent.written, timeout);
                }
            }
        } catch (StoreException e) {
            health.storeFailed(e, timeout);
            if (e.isTooLarge()) {
                reportTooLarge(st, id, blob.length, e);
            }
            // a timed-out set may still land: remember the key so it is deleted once the session lives elsewhere
            st.attempted.add(id);
            stats.count(Counter.BACKUP_FAILURES);
            markUnsaved(s);
            return null;
        }
        return sent;
    }

    /**
     * {@code version} with its attribute hash taken now (off any lock), so that it holds no copy of the encoded bytes
     * while the session stays in memory ({@link IdleSessionCache.Version#ofWrite}).
     */
    private static IdleSessionCache.Version hashed(IdleSessionCache.Version version) {
        if (version != null) {
            version.hash();
        }
        return version;
    }

    /** memcached holds {@code blob} now: recorded in the session's state; the copies it replaces go. */
    private void commit(ManagedSession s, SessionState st, SessionEncoder.Prepared next, byte[] blob, Sent sent,
            WriteContext wc, long start) {
        String id = next.id;
        String previous = st.storedId;
        st.storedId = id;
        st.storedHash = next.hash;
        if (config.sticky()) { // copy hashes serve sticky takeovers and expiry claims only (SessionDecoder)
            st.hadContent(next.legacy ? next.hash : BlobCodec.copyHash(next.encoded));
        }
        st.cas = sent.written;
        st.stored = true;
        st.version = next.version;
        st.storeExpiresAt = sent.ttl <= 0 ? Long.MAX_VALUE : sent.now + sent.ttl * 1000;
        unsaved.remove(s);
        stats.count(Counter.BACKUPS);
        stats.storedSize(blob.length);
        stats.time(Timer.BACKUP, System.nanoTime() - start);
        mode.committed(s, st, id, blob, sent);
        dropFormerCopies(s, st, id, previous, wc);
    }

    /**
     * The session is stored as {@code id}: its copies under a former key name and under former ids go. Non-sticky,
     * on a request's thread, those a Tomcat could still find go before the response; the rest off the request thread.
     */
    private void dropFormerCopies(ManagedSession s, SessionState st, String id, String previous, WriteContext wc) {
        if (st.underFormerName && wc.cleansBeforeResponse) {
            // before the response: the user's next request may reach a Tomcat that looks under the former name first
            st.underFormerName = false;
            ends.deleteNames(id, 1);
        }
        if (previous != null && !previous.equals(id)) {
            st.attempted.add(previous);
            if (ends.abandoned(previous, id)) {
                // the application gave the session a new id (a login): the old one ends now, never loaded again
                ends.end(previous, s.maxInactiveInterval());
                if (wc.cleansBeforeResponse) {
                    ends.endEverywhere(previous); // before the response: no Tomcat finds it any more
                    st.attempted.remove(previous);
                }
            }
        }
        st.attempted.remove(id);
        if (!st.attempted.isEmpty() || st.underFormerName || st.legacy != null) {
            if (wc.onRequestThread) {
                SessionRunner.defer(st, SessionRunner.Work.TOUCH);
            } else {
                ends.deleteObsolete(st);
            }
        }
    }

    /**
     * Non-sticky: the session ended on another Tomcat while this one served a request of it (its key holds a
     * tombstone): the change is dropped and the secondary copy this write sent is deleted again.
     */
    private void endedElsewhere(ManagedSession s, SessionState st, String id, String node,
            SecondaryCopies.SecondaryWrite secondary) {
        if (secondary != null) {
            secondary.await(); // deleted after it landed
        }
        ends.end(id, s.maxInactiveInterval());
        long until = ends.copiesLiveUntil(s.maxInactiveInterval(), ctx.clock().getAsLong());
        unsaved.remove(s);
        st.stored = false;
        st.storedId = null;
        st.version = null;
        mode.endSecondaries(id, node, until, ctx.clock().getAsLong()); // the tombstone is there
        LOG.log(Level.DEBUG, () -> logPrefix + "session " + LogIds.of(id) + " ended on another Tomcat while a request used it "
                + "here: the request's changes are not stored");
    }

    /** memcached refused the blob as larger than its item size: said once per session, counted every time. */
    private void reportTooLarge(SessionState st, String id, int size, StoreException e) {
        stats.count(Counter.OVERSIZED_SESSIONS);
        if (!st.tooLargeReported) {
            st.tooLargeReported = true;
            LOG.log(Level.WARNING, () -> logPrefix + "session " + LogIds.of(id) + " is " + size + " bytes stored, more than "
                    + "memcached accepts for one item (memcached -I, 1 MB by default): it is not in memcached and is "
                    + "lost if this Tomcat stops. Make it smaller, lower " + MsmConfig.COMPRESSION_THRESHOLD
                    + " (now " + config.compressionThreshold() + "), set " + MsmConfig.MAX_ATTRIBUTE_SIZE
                    + ", or raise memcached's -I (" + e.getMessage() + ")");
        }
    }

    void markUnsaved(ManagedSession s) {
        // what memcached holds is not known: nothing of this session is reused (it may have left memory already)
        s.state().version = null;
        if (idle != null) {
            idle.forget(s.id());
        }
        if (s.isActive() && !unsaved.add(s) && unsavedFull.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, () -> logPrefix + UnsavedSessions.NON_STICKY_MAX + " sessions are waiting for a "
                    + "memcached node: until one is available, others that cannot be stored are not kept in memory "
                    + "(their users get a new session)");
        }
    }

    /** @param always touch even if the stored copy outlives the session (to learn whether memcached still has it) */
    void touchIfNeeded(ManagedSession s, SessionState st, boolean always) {
        if ((!st.attempted.isEmpty() || st.underFormerName || st.legacy != null) && st.stored) {
            ends.deleteObsolete(st);
        }
        long now = ctx.clock().getAsLong();
        String id = s.id();
        if (!st.isStoredAs(id)) {
            return;
        }
        SessionId p = ids.parse(id);
        if (p == null || !availability.isAvailable(p.nodeId())) {
            return;
        }
        mode.dateAccess(s, id, p.nodeId(), now);
        if (!(always || needsTouch(s, st, now))) {
            mode.primaryFresh(s, st, p.nodeId(), now);
            return;
        }
        long ttl = base.ttlSeconds(s, st, now);
        boolean touched;
        try {
            touched = store.touch(p.nodeId(), base.key(id), Expiration.of(ttl, now), config.operationTimeoutMillis());
        } catch (StoreException e) {
            base.storeFailed(e, config.operationTimeoutMillis());
            return;
        }
        if (touched) {
            st.storeExpiresAt = ttl <= 0 ? Long.MAX_VALUE : now + ttl * 1000;
            stats.count(Counter.TOUCHES);
            mode.primaryTouched(s, st, p.nodeId(), Expiration.of(ttl, now));
        } else {
            // memcached lost the copy (evicted, flushed or restarted): store it again.
            st.stored = false;
            writeIfChanged(s, st, background);
        }
    }
}
