package io.msm.config;

/** The memcached wire protocol msm speaks. Attribute {@code memcachedProtocol}. */
public enum MemcachedProtocol {
    /** The ASCII protocol: works with every memcached; no SASL. The default. */
    TEXT,
    /** The binary protocol: required for SASL authentication ({@code username}/{@code password}). */
    BINARY
}
