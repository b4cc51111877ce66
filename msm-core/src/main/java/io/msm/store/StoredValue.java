package io.msm.store;

/** A value read from memcached with its remaining time to live, when the protocol tells it. */
public final class StoredValue {
    /** The remaining time to live is not known (binary protocol, or memcached without meta commands). */
    public static final int UNKNOWN_TTL = -2;
    /** The item never expires. */
    public static final int NO_EXPIRY = -1;

    private final byte[] value;
    private final int ttlSeconds;

    public StoredValue(byte[] value, int ttlSeconds) {
        this.value = value;
        this.ttlSeconds = ttlSeconds;
    }

    /** The value, or {@code null} if the key is absent. */
    public byte[] value() {
        return value;
    }

    /** Seconds until memcached drops the item, {@link #NO_EXPIRY} or {@link #UNKNOWN_TTL}. */
    public int ttlSeconds() {
        return ttlSeconds;
    }
}
