package io.msm.anchor;

/**
 * memcached-session-manager's non-sticky validity record ({@code validity:<key>}, and {@code bak:<prefix>validity:<key>}
 * on the next node): exactly 20 big-endian bytes, max inactive interval (4, seconds), last accessed time (8, ms) and
 * this accessed time (8, ms). The old manager tracks a non-sticky session's last access here, not in the blob: its
 * times overlay the blob's when the session is read.
 */
public final class AnchorValidity {
    public static final int LENGTH = 20;

    private final int maxInactiveInterval;
    private final long lastAccessedTime;
    private final long thisAccessedTime;

    public AnchorValidity(int maxInactiveInterval, long lastAccessedTime, long thisAccessedTime) {
        this.maxInactiveInterval = maxInactiveInterval;
        this.lastAccessedTime = lastAccessedTime;
        this.thisAccessedTime = thisAccessedTime;
    }

    /**
     * Parses a record.
     *
     * @throws AnchorFormatException if {@code data} is not exactly 20 bytes
     */
    public static AnchorValidity parse(byte[] data) {
        if (data == null || data.length != LENGTH) {
            throw new AnchorFormatException("a validity record has 20 bytes, not "
                    + (data == null ? "none" : String.valueOf(data.length)));
        }
        return new AnchorValidity((int) read(data, 0, 4), read(data, 4, 8), read(data, 12, 8));
    }

    /** The 20 bytes the old manager reads. */
    public byte[] encode() {
        byte[] b = new byte[LENGTH];
        write(b, 0, 4, maxInactiveInterval);
        write(b, 4, 8, lastAccessedTime);
        write(b, 12, 8, thisAccessedTime);
        return b;
    }

    /** As the old manager decides it: never expires ({@code <= 0}), or idle for less than the interval. */
    public boolean isValidAt(long nowMillis) {
        return maxInactiveInterval <= 0 || (int) ((nowMillis - thisAccessedTime) / 1000) < maxInactiveInterval;
    }

    public int maxInactiveInterval() {
        return maxInactiveInterval;
    }

    public long lastAccessedTime() {
        return lastAccessedTime;
    }

    public long thisAccessedTime() {
        return thisAccessedTime;
    }

    private static long read(byte[] data, int from, int n) {
        long v = 0;
        for (int i = from; i < from + n; i++) {
            v = (v << 8) | (data[i] & 0xff);
        }
        return v;
    }

    private static void write(byte[] data, int from, int n, long v) {
        for (int i = from + n - 1; i >= from; i--) {
            data[i] = (byte) v;
            v >>>= 8;
        }
    }
}
