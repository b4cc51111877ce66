package io.msm.engine;

import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;

/**
 * The claims that make a session end once in the cluster ({@link ExpiryWatch}): an {@code add} of
 * {@code end:<key>} on the session's node succeeds for exactly one Tomcat while the claim lives (one {@code add} per
 * name of the session, {@link StorageKeys#claims}, in one order: during a key rotation). A Tomcat that takes a
 * sticky session over claims the former id's end for as long as the copy left on the former Tomcat can live, so that
 * copy ends there without listeners.
 */
final class ExpiryClaims {
    static final String PREFIX = "end:";
    /** How long an end claim outlives the session's copy: racing Tomcats ask within an operation timeout. */
    static final int EXTRA_SECONDS = 10;
    /**
     * How long a takeover's claim outlives the timeout of the copy left on the former Tomcat: the time Tomcat's own
     * timeout check may take to look at that copy (60 s by default).
     */
    static final int MOVED_EXTRA_SECONDS = 600;
    private static final byte[] ENDED = {'e'};
    private static final byte[] MOVED = {'m'};

    private final SessionEngine engine;

    ExpiryClaims(SessionEngine engine) {
        this.engine = engine;
    }

    ExpiryWatch.Claim claim(String id, int maxInactive) {
        String node = engine.base().nodeOf(id);
        if (node == null || !engine.base().isAvailable(node)) {
            return ExpiryWatch.Claim.UNKNOWN;
        }
        int exp = Expiration.of(Slack.seconds(maxInactive) + EXTRA_SECONDS, engine.now());
        try {
            for (String key : engine.base().keys.claims(id)) {
                if (engine.base().store.add(node, key, exp, ENDED, engine.config().operationTimeoutMillis()) < 0) {
                    return ExpiryWatch.Claim.LOST;
                }
            }
            return ExpiryWatch.Claim.WON;
        } catch (StoreException e) {
            engine.base().reportStoreFailure(e);
            return ExpiryWatch.Claim.UNKNOWN;
        } catch (RuntimeException e) {
            return ExpiryWatch.Claim.UNKNOWN;
        }
    }

    /**
     * Sticky: claims the end of session {@code s}, which this Tomcat holds and Tomcat found timed out. A claim another
     * Tomcat left when it took the session over ({@link #moved}) loses, unless this Tomcat took the session back after
     * that takeover and memcached still holds the very copy this Tomcat wrote last under this id: then the claim landed
     * late (the taker's watch thread was busy while the user moved on), and the session is this Tomcat's to end. A copy
     * that was never taken back (a takeover whose notice was lost, rewritten by a late request) still loses. Two more
     * reads, only then.
     */
    ExpiryWatch.Claim claimHeld(ManagedSession s) {
        String id = s.id();
        ExpiryWatch.Claim c = claim(id, s.maxInactiveInterval());
        if (c != ExpiryWatch.Claim.LOST) {
            return c;
        }
        String node = engine.base().nodeOf(id);
        long timeout = engine.config().operationTimeoutMillis();
        try {
            java.util.List<String> keys = engine.base().keys.claims(id);
            long movedAt = movedAt(engine.base().store.get(node, keys.get(0), timeout));
            long last = s.state().lastCopyHash();
            if (movedAt < 0 || s.state().movedHereAt <= movedAt || last == 0
                    || engine.decoder().storedCopyHash(id,
                            engine.base().store.get(node, engine.base().key(id), timeout)) != last) {
                return c; // taken from here, and not taken back since: a copy another Tomcat took over
            }
            int exp = Expiration.of(Slack.seconds(s.maxInactiveInterval()) + EXTRA_SECONDS, engine.now());
            for (String key : keys) {
                engine.base().store.set(node, key, exp, ENDED, timeout);
            }
            return ExpiryWatch.Claim.WON;
        } catch (StoreException e) {
            engine.base().reportStoreFailure(e);
            return c;
        }
    }

    /**
     * Claims {@code oldId}'s end for the copy left on the former Tomcat, and removes a claim left on {@code newId} by an
     * earlier move away from it (the session lives there again).
     */
    /** When the takeover that left a 'moved' claim happened (the taker's clock); {@code -1} if not such a claim. */
    static long movedAt(byte[] claim) {
        if (claim == null || claim.length < 2 || claim.length > 20 || claim[0] != MOVED[0]) {
            return -1;
        }
        try {
            return Long.parseLong(new String(claim, 1, claim.length - 1, java.nio.charset.StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * @param at when the takeover happened (this Tomcat's clock), written in the claim: a Tomcat that took the
     *     session back later knows the claim is older than its copy, even if it landed after it
     */
    void moved(String oldId, String newId, int maxInactive, long at) {
        SessionStore store = engine.base().store;
        long timeout = engine.config().operationTimeoutMillis();
        long seconds = (long) maxInactive + Slack.seconds(maxInactive) + MOVED_EXTRA_SECONDS;
        String oldNode = engine.base().nodeOf(oldId);
        String newNode = engine.base().nodeOf(newId);
        try {
            if (oldNode != null && engine.base().isAvailable(oldNode)) {
                for (String key : engine.base().keys.claims(oldId)) {
                    store.set(oldNode, key, Expiration.of(seconds, engine.now()),
                            ("m" + at).getBytes(java.nio.charset.StandardCharsets.US_ASCII), timeout);
                }
            }
            if (newNode != null && engine.base().isAvailable(newNode)) {
                for (String key : engine.base().keys.claims(newId)) {
                    store.delete(newNode, key, timeout);
                }
            }
        } catch (StoreException e) {
            engine.base().reportStoreFailure(e);
        }
    }
}
