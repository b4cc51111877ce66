package io.msm.store;

/** memcached's expiration rule: relative seconds up to 30 days, an absolute Unix time beyond. */
public final class Expiration {
    /** memcached treats larger values as absolute Unix times. */
    public static final int MAX_RELATIVE_SECONDS = 60 * 60 * 24 * 30;

    private Expiration() {
    }

    /**
     * @param ttlSeconds how long from now the item should live; {@code <= 0} means no expiry
     * @param nowMillis the current time
     * @return the {@code exptime} to send to memcached
     */
    public static int of(long ttlSeconds, long nowMillis) {
        if (ttlSeconds <= 0) {
            return 0;
        }
        if (ttlSeconds <= MAX_RELATIVE_SECONDS) {
            return (int) ttlSeconds;
        }
        long absolute = nowMillis / 1000 + ttlSeconds;
        return absolute > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) absolute;
    }
}
