package io.msm.engine;

/**
 * What a load's read of a session's primary copy found, besides the bytes: the mode's read fills it
 * ({@link SessionMode#readPrimary}), the loader then reads the former key names and the secondary copy if needed.
 */
final class PrimaryRead {
    byte[] blob;
    /** The remaining TTL memcached told (non-sticky); {@link io.msm.store.StoredValue#UNKNOWN_TTL} if none. */
    int ttl = io.msm.store.StoredValue.UNKNOWN_TTL;
    /** The timeout the read refreshed the copy for (non-sticky); -1 if none. */
    int refreshedFor = -1;
    long cas;
    /** When the copy expires if the read refreshed it (for refreshedFor). */
    long refreshedUntil;
    /** Why the primary's node could not answer; {@code null} if it did. */
    String failure;
    /** The name it was found under: 0 but after a key rotation (see StorageKeys). */
    int name;
}
