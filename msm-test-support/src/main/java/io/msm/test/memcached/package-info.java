/**
 * Real memcached servers for integration tests: {@link io.msm.test.memcached.MemcachedExtension} starts them
 * (local processes, or Docker containers as a fallback) and {@link io.msm.test.memcached.MemcachedServer} injects
 * faults (stop, kill, pause, restart) and inspects them over the text protocol.
 * {@link io.msm.test.memcached.ConfigEndpointServer} stands in for an ElastiCache configuration endpoint.
 */
package io.msm.test.memcached;
