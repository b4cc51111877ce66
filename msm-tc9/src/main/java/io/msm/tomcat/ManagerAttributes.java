package io.msm.tomcat;

import io.msm.config.InvalidConfigurationException;
import io.msm.config.MsmConfig;
import org.apache.catalina.session.ManagerBase;

/**
 * The {@code <Manager>} attributes of {@link MemcachedSessionManager} as Tomcat sets them: one setter per attribute
 * of {@link MsmConfig#ATTRIBUTES} taking the raw text of {@code context.xml} (Tomcat's digester calls them by
 * reflection), and one getter (shown in JMX) for each but the secrets. Their meaning, defaults and checks are
 * declared in msm-core's configuration; the whole configuration is validated at start ({@link #buildConfig}).
 *
 * <p>Package-private: javac gives the public {@code MemcachedSessionManager} a public bridge for each of these public
 * methods, which is what Tomcat's digester and JMX find by reflection ({@code ManagerAttributesTest} checks both).
 */
abstract class ManagerAttributes extends ManagerBase {
    private final MsmConfig.Builder attributes = MsmConfig.builder();

    ManagerAttributes() {
    }

    /**
     * Sets one attribute by its {@code <Manager>} name, as {@code context.xml} would (for code that holds the
     * attributes as a map, such as msm's Spring Boot starter). Validated with the others when the manager starts.
     *
     * @throws IllegalArgumentException if {@code attribute} is not one of {@link MsmConfig#ATTRIBUTES}
     */
    public void setConfigAttribute(String attribute, String value) {
        attributes.set(attribute, value);
    }

    /**
     * The configuration of the attributes set so far.
     *
     * @param loader the webapp's class loader (serializer and converter classes)
     * @throws InvalidConfigurationException naming every bad attribute and value
     */
    MsmConfig buildConfig(ClassLoader loader) {
        return attributes.build(loader);
    }

    private void set(String attribute, String value) {
        attributes.set(attribute, value);
    }

    /**
     * {@code memcachedNodes} or {@code failoverNodes} set, maybe while msm runs (JMX): then the running msm takes the
     * new list ({@link #nodesChanged}); a value it refuses is not kept.
     */
    private void setNodes(String attribute, String value) {
        String before = attributes.get(attribute);
        attributes.set(attribute, value);
        try {
            nodesChanged();
        } catch (RuntimeException e) {
            attributes.set(attribute, before);
            throw e;
        }
    }

    /**
     * The node attributes changed: a running msm changes its nodes now (a node added is connected to and takes new
     * sessions, a node removed is closed and its sessions move at their next request).
     *
     * @throws IllegalArgumentException naming the attribute and why the running msm cannot take the value
     */
    abstract void nodesChanged();

    private String get(String attribute) {
        return attributes.get(attribute);
    }

    // One thin setter (and getter) per attribute, by name: Tomcat finds them by reflection.

    public void setMemcachedNodes(String v) { setNodes(MsmConfig.MEMCACHED_NODES, v); }
    public String getMemcachedNodes() { return get(MsmConfig.MEMCACHED_NODES); }

    public void setFailoverNodes(String v) { setNodes(MsmConfig.FAILOVER_NODES, v); }
    public String getFailoverNodes() { return get(MsmConfig.FAILOVER_NODES); }

    public void setDiscoveryInterval(String v) { set(MsmConfig.DISCOVERY_INTERVAL, v); }
    public String getDiscoveryInterval() { return get(MsmConfig.DISCOVERY_INTERVAL); }

    public void setSticky(String v) { set(MsmConfig.STICKY, v); }
    public String getSticky() { return get(MsmConfig.STICKY); }

    public void setLockingMode(String v) { set(MsmConfig.LOCKING_MODE, v); }
    public String getLockingMode() { return get(MsmConfig.LOCKING_MODE); }

    public void setLockExpiration(String v) { set(MsmConfig.LOCK_EXPIRATION, v); }
    public String getLockExpiration() { return get(MsmConfig.LOCK_EXPIRATION); }

    public void setLegacySessions(String v) { set(MsmConfig.LEGACY_SESSIONS, v); }
    public String getLegacySessions() { return get(MsmConfig.LEGACY_SESSIONS); }

    public void setLockFailure(String v) { set(MsmConfig.LOCK_FAILURE, v); }
    public String getLockFailure() { return get(MsmConfig.LOCK_FAILURE); }

    public void setOperationTimeout(String v) { set(MsmConfig.OPERATION_TIMEOUT, v); }
    public String getOperationTimeout() { return get(MsmConfig.OPERATION_TIMEOUT); }

    public void setRequestUriIgnorePattern(String v) { set(MsmConfig.REQUEST_URI_IGNORE_PATTERN, v); }
    public String getRequestUriIgnorePattern() { return get(MsmConfig.REQUEST_URI_IGNORE_PATTERN); }

    public void setSessionAttributeFilter(String v) { set(MsmConfig.SESSION_ATTRIBUTE_FILTER, v); }
    public String getSessionAttributeFilter() { return get(MsmConfig.SESSION_ATTRIBUTE_FILTER); }

    public void setSessionBackupAsync(String v) { set(MsmConfig.SESSION_BACKUP_ASYNC, v); }
    public String getSessionBackupAsync() { return get(MsmConfig.SESSION_BACKUP_ASYNC); }

    public void setBackupThreadCount(String v) { set(MsmConfig.BACKUP_THREAD_COUNT, v); }
    public String getBackupThreadCount() { return get(MsmConfig.BACKUP_THREAD_COUNT); }

    public void setSessionBackupTimeout(String v) { set(MsmConfig.SESSION_BACKUP_TIMEOUT, v); }
    public String getSessionBackupTimeout() { return get(MsmConfig.SESSION_BACKUP_TIMEOUT); }

    public void setTranscoderFactoryClass(String v) { set(MsmConfig.TRANSCODER_FACTORY_CLASS, v); }
    public String getTranscoderFactoryClass() { return get(MsmConfig.TRANSCODER_FACTORY_CLASS); }

    public void setCopyCollectionsForSerialization(String v) { set(MsmConfig.COPY_COLLECTIONS_FOR_SERIALIZATION, v); }
    public String getCopyCollectionsForSerialization() { return get(MsmConfig.COPY_COLLECTIONS_FOR_SERIALIZATION); }

    public void setCustomConverter(String v) { set(MsmConfig.CUSTOM_CONVERTER, v); }
    public String getCustomConverter() { return get(MsmConfig.CUSTOM_CONVERTER); }

    public void setEnableStatistics(String v) { set(MsmConfig.ENABLE_STATISTICS, v); }
    public String getEnableStatistics() { return get(MsmConfig.ENABLE_STATISTICS); }

    public void setMemcachedProtocol(String v) { set(MsmConfig.MEMCACHED_PROTOCOL, v); }
    public String getMemcachedProtocol() { return get(MsmConfig.MEMCACHED_PROTOCOL); }

    public void setUsername(String v) { set(MsmConfig.USERNAME, v); }
    public String getUsername() { return get(MsmConfig.USERNAME); }

    /** The SASL password. Write-only: there is deliberately no getter, so JMX never shows it. */
    public void setPassword(String v) { set(MsmConfig.PASSWORD, v); }

    public void setTls(String v) { set(MsmConfig.TLS, v); }
    public String getTls() { return get(MsmConfig.TLS); }

    public void setTlsTrustStore(String v) { set(MsmConfig.TLS_TRUST_STORE, v); }
    public String getTlsTrustStore() { return get(MsmConfig.TLS_TRUST_STORE); }

    /** Write-only, as {@link #setPassword}. */
    public void setTlsTrustStorePassword(String v) { set(MsmConfig.TLS_TRUST_STORE_PASSWORD, v); }

    public void setTlsKeyStore(String v) { set(MsmConfig.TLS_KEY_STORE, v); }
    public String getTlsKeyStore() { return get(MsmConfig.TLS_KEY_STORE); }

    /** Write-only, as {@link #setPassword}. */
    public void setTlsKeyStorePassword(String v) { set(MsmConfig.TLS_KEY_STORE_PASSWORD, v); }

    public void setStorageKeyPrefix(String v) { set(MsmConfig.STORAGE_KEY_PREFIX, v); }
    public String getStorageKeyPrefix() { return get(MsmConfig.STORAGE_KEY_PREFIX); }

    public void setEnabled(String v) { set(MsmConfig.ENABLED, v); }
    public String getEnabled() { return get(MsmConfig.ENABLED); }

    public void setMaxInactiveInterval(String v) { set(MsmConfig.MAX_INACTIVE_INTERVAL, v); }
    public String getMaxInactiveInterval() { return get(MsmConfig.MAX_INACTIVE_INTERVAL); }

    public void setDeserializationFilter(String v) { set(MsmConfig.DESERIALIZATION_FILTER, v); }
    public String getDeserializationFilter() { return get(MsmConfig.DESERIALIZATION_FILTER); }

    public void setSessionProtection(String v) { set(MsmConfig.SESSION_PROTECTION, v); }
    public String getSessionProtection() { return get(MsmConfig.SESSION_PROTECTION); }

    /** Base64 keys, the first writes. Write-only: there is deliberately no getter, so JMX never shows them. */
    public void setSessionKeys(String v) { set(MsmConfig.SESSION_KEYS, v); }

    public void setSessionKeyFile(String v) { set(MsmConfig.SESSION_KEY_FILE, v); }
    public String getSessionKeyFile() { return get(MsmConfig.SESSION_KEY_FILE); }

    public void setCompressionThreshold(String v) { set(MsmConfig.COMPRESSION_THRESHOLD, v); }
    public String getCompressionThreshold() { return get(MsmConfig.COMPRESSION_THRESHOLD); }

    public void setMaxAttributeSize(String v) { set(MsmConfig.MAX_ATTRIBUTE_SIZE, v); }
    public String getMaxAttributeSize() { return get(MsmConfig.MAX_ATTRIBUTE_SIZE); }

    public void setMinBackupInterval(String v) { set(MsmConfig.MIN_BACKUP_INTERVAL, v); }
    public String getMinBackupInterval() { return get(MsmConfig.MIN_BACKUP_INTERVAL); }

    public void setIdleSessionCache(String v) { set(MsmConfig.IDLE_SESSION_CACHE, v); }
    public String getIdleSessionCache() { return get(MsmConfig.IDLE_SESSION_CACHE); }
}
