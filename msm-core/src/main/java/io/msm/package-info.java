/**
 * msm: a memcached-backed session engine for servlet containers.
 *
 * <p>Public API: {@link io.msm.config} (configuration), {@link io.msm.spi} (serializer SPI), {@link io.msm.stats}
 * (statistics), {@link io.msm.engine} (the facade container adapters use) and {@link io.msm.MsmException}. The other
 * packages are implementation details that may change in any release.
 */
package io.msm;
