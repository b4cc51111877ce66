package io.msm.store;

/** A value read from memcached with its remaining time to live and its CAS, when the protocol tells them. */
public final class StoredValue {
    /** The remaining time to live is not known (binary protocol, or memcached without meta commands). */
    public static final int UNKNOWN_TTL = -2;
    /** The item never expires. */
    public static final int NO_EXPIRY = -1;

    private final byte[] value;
    private final int ttlSeconds;
    private final boolean refreshed;
    private final long cas;

    public StoredValue(byte[] value, int ttlSeconds) {
        this(value, ttlSeconds, false);
    }

    /** @param refreshed the read also gave the item the expiration asked for (get-and-touch in one round trip) */
    public StoredValue(byte[] value, int ttlSeconds, boolean refreshed) {
        this(value, ttlSeconds, refreshed, 0);
    }

    /** @param cas the item's CAS, {@code 0} if not known */
    public StoredValue(byte[] value, int ttlSeconds, boolean refreshed, long cas) {
        this.value = value;
        this.ttlSeconds = ttlSeconds;
        this.refreshed = refreshed;
        this.cas = cas;
    }

    /** The item's CAS (its version, for {@link SessionStore#storeIf}); {@code 0} if not known or absent. */
    public long cas() {
        return cas;
    }

    /** The value, or {@code null} if the key is absent. */
    public byte[] value() {
        return value;
    }

    /** Whether memcached set the item's new expiration in the same round trip (only for a hit). */
    public boolean refreshed() {
        return refreshed;
    }

    /**
     * Seconds until memcached would have dropped the item before this read ({@link #NO_EXPIRY} or
     * {@link #UNKNOWN_TTL}): when it was refreshed, the remaining time it had, not the new one.
     */
    public int ttlSeconds() {
        return ttlSeconds;
    }
}
