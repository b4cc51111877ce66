package io.msm.config;

/**
 * What protects a session blob in memcached ({@code sessionProtection}). Whoever can write to memcached can otherwise
 * plant bytes that msm deserializes; with {@link #SIGN} or {@link #ENCRYPT} a blob is only read if it was written with
 * one of the configured keys ({@code sessionKeys} or {@code sessionKeyFile}).
 */
public enum SessionProtection {
    /** Blobs are stored as they are; only the serializer's class filter guards reading. The default. */
    NONE,
    /** Every blob carries an HMAC-SHA256 of its bytes; a blob without a valid one is never deserialized. */
    SIGN,
    /** Every blob is encrypted and authenticated with AES-256-GCM: memcached sees no session content. */
    ENCRYPT
}
