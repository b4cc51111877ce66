/**
 * Auto discovery of memcached nodes from a configuration endpoint (AWS ElastiCache, Google Memorystore): the answer
 * to {@code config get cluster} read and checked ({@link io.msm.discovery.ConfigAnswer}), and node ids every Tomcat
 * derives alike from it ({@link io.msm.discovery.NodeIds}). No threads and no sockets of its own: the caller asks the
 * endpoint and hands over the stream. Implementation detail; not API.
 */
package io.msm.discovery;
