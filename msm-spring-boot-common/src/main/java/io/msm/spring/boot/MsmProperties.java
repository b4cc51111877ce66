package io.msm.spring.boot;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DataSizeUnit;
import org.springframework.boot.convert.DurationUnit;
import org.springframework.util.unit.DataSize;
import org.springframework.util.unit.DataUnit;

/**
 * msm's {@code <Manager>} attributes as Spring Boot properties under {@code msm.}: the same names in kebab case
 * ({@code memcachedNodes} is {@code msm.memcached-nodes}), durations and sizes as Boot writes them ({@code 500ms},
 * {@code 5s}, {@code 256KB}). A property left unset keeps the attribute's default. Nothing happens without
 * {@code msm.memcached-nodes}; {@code msm.enabled=false} turns msm off. Unknown {@code msm.*} properties, from any
 * source, fail the start, named without their values ({@link UnknownProperties}).
 */
@ConfigurationProperties(prefix = "msm")
public class MsmProperties {

    /** Turns msm off: the embedded Tomcat keeps its own session manager. */
    private boolean enabled = true;

    /**
     * Tomcat's jvmRoute of this instance (the Engine's), the suffix of its session ids that a balancer routes on:
     * needed by sticky sessions behind a balancer. Unset: the jvmRoute system property, as in Tomcat.
     */
    private String jvmRoute;

    /** The memcached nodes, "id:host:port", e.g. n1:mc1:11211,n2:mc2:11211 (or a YAML list). */
    private List<String> memcachedNodes;

    /** Ids of nodes used only when the others are unavailable (sticky mode), e.g. n2. */
    private String failoverNodes;

    /**
     * Sticky sessions (true: a session lives on one instance, memcached holds its backup) or non-sticky (false: any
     * instance serves any request, memcached holds the session).
     */
    private Boolean sticky;

    /** With memcached-nodes discover:<host>:<port> or dns:<name>:<port>: how often the nodes are asked for (whole seconds). */
    @DurationUnit(ChronoUnit.SECONDS)
    private Duration discoveryInterval;

    /** Non-sticky session locking: none, all, auto, or uriPattern:<regex>. */
    private String lockingMode;

    /** How long a non-sticky session lock outlives a crashed owner (whole seconds). */
    @DurationUnit(ChronoUnit.SECONDS)
    private Duration lockExpiration;

    /** What a request does when it cannot take its session's lock in time: proceed (default) or fail (503). */
    private String lockFailure;

    /** How long a request waits for memcached at most (whole milliseconds). */
    @DurationUnit(ChronoUnit.MILLIS)
    private Duration operationTimeout;

    /** Requests whose URI matches this regular expression neither load nor store sessions (static resources). */
    private String requestUriIgnorePattern;

    /** Only session attributes whose names match this regular expression are stored in memcached. */
    private String sessionAttributeFilter;

    /** Sticky: store sessions in memcached after the response (true) or before it (false). */
    private Boolean sessionBackupAsync;

    /** Threads that store sessions in memcached. */
    private Integer backupThreadCount;

    /** How long a synchronous backup (session-backup-async=false) waits for memcached (whole milliseconds). */
    @DurationUnit(ChronoUnit.MILLIS)
    private Duration sessionBackupTimeout;

    /** The serializer: io.msm.serializer.java.JavaSerializationTranscoderFactory (default) or Kryo's. */
    private String transcoderFactoryClass;

    /** Copy collections before they are serialized (for applications that change them from other threads). */
    private Boolean copyCollectionsForSerialization;

    /** Serializer-specific converter classes, separated by commas. */
    private String customConverter;

    /** Count msm's statistics (JMX attributes and Micrometer meters). */
    private Boolean enableStatistics;

    /** The memcached protocol: text (default) or binary (needed for SASL). */
    private String memcachedProtocol;

    /** SASL user name (memcached-protocol=binary). */
    private String username;

    /** SASL password (memcached-protocol=binary). Secret: never logged. */
    private String password;

    /** Every connection to memcached uses TLS (text protocol), the server certificate and host name verified. */
    private Boolean tls;

    /** A PKCS12, JKS or PEM file of the certificates memcached's are checked against (default: the JVM's). */
    private String tlsTrustStore;

    /** The password of tls-trust-store. Secret: never logged. */
    private String tlsTrustStorePassword;

    /** A PKCS12 or JKS file with the client certificate and its key, for a memcached that asks for one. */
    private String tlsKeyStore;

    /** The password of tls-key-store and of its key. Secret: never logged. */
    private String tlsKeyStorePassword;

    /** A prefix for memcached keys: static:<text>, context, host, webappVersion, or several separated by commas. */
    private String storageKeyPrefix;

    /** The session timeout msm uses instead of the context's (whole seconds; 0 or less: never). */
    @DurationUnit(ChronoUnit.SECONDS)
    private Duration maxInactiveInterval;

    /** A JEP 290 filter pattern checked before msm's own when session bytes are deserialized. */
    private String deserializationFilter;

    /** Protection of the session bytes in memcached: none (default), sign or encrypt. */
    private String sessionProtection;

    /** Base64 keys for session-protection, separated by commas; the first one writes. Secret: never logged. */
    private String sessionKeys;

    /** A file with one base64 key per line, instead of session-keys. */
    private String sessionKeyFile;

    /** Session blobs of at least this size are compressed (0: never). */
    @DataSizeUnit(DataUnit.BYTES)
    private DataSize compressionThreshold;

    /** An attribute whose serialized form is larger is not stored in memcached (0: no limit). */
    @DataSizeUnit(DataUnit.BYTES)
    private DataSize maxAttributeSize;

    /** Sticky asynchronous backups of one session start at most this often (whole milliseconds; 0: no minimum). */
    @DurationUnit(ChronoUnit.MILLIS)
    private Duration minBackupInterval;

    /** Non-sticky: how many idle sessions keep their attribute objects for reuse (0: none). */
    private Integer idleSessionCache;

    /**
     * Whether sessions memcached-session-manager stored are read (a switch from it without logging anyone out): off
     * (default), read or readWrite (also stored in its format, while Tomcats still run it).
     */
    private String legacySessions;

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getJvmRoute() {
        return jvmRoute;
    }

    public void setJvmRoute(String jvmRoute) {
        this.jvmRoute = jvmRoute;
    }

    public List<String> getMemcachedNodes() {
        return memcachedNodes;
    }

    public void setMemcachedNodes(List<String> memcachedNodes) {
        this.memcachedNodes = memcachedNodes;
    }

    public String getFailoverNodes() {
        return failoverNodes;
    }

    public void setFailoverNodes(String failoverNodes) {
        this.failoverNodes = failoverNodes;
    }

    public Boolean getSticky() {
        return sticky;
    }

    public void setSticky(Boolean sticky) {
        this.sticky = sticky;
    }

    public String getLockingMode() {
        return lockingMode;
    }

    public void setLockingMode(String lockingMode) {
        this.lockingMode = lockingMode;
    }

    public Duration getDiscoveryInterval() {
        return discoveryInterval;
    }

    public void setDiscoveryInterval(Duration discoveryInterval) {
        this.discoveryInterval = discoveryInterval;
    }

    public Duration getLockExpiration() {
        return lockExpiration;
    }

    public void setLockExpiration(Duration lockExpiration) {
        this.lockExpiration = lockExpiration;
    }

    public String getLockFailure() {
        return lockFailure;
    }

    public void setLockFailure(String lockFailure) {
        this.lockFailure = lockFailure;
    }

    public Duration getOperationTimeout() {
        return operationTimeout;
    }

    public void setOperationTimeout(Duration operationTimeout) {
        this.operationTimeout = operationTimeout;
    }

    public String getRequestUriIgnorePattern() {
        return requestUriIgnorePattern;
    }

    public void setRequestUriIgnorePattern(String requestUriIgnorePattern) {
        this.requestUriIgnorePattern = requestUriIgnorePattern;
    }

    public String getSessionAttributeFilter() {
        return sessionAttributeFilter;
    }

    public void setSessionAttributeFilter(String sessionAttributeFilter) {
        this.sessionAttributeFilter = sessionAttributeFilter;
    }

    public Boolean getSessionBackupAsync() {
        return sessionBackupAsync;
    }

    public void setSessionBackupAsync(Boolean sessionBackupAsync) {
        this.sessionBackupAsync = sessionBackupAsync;
    }

    public Integer getBackupThreadCount() {
        return backupThreadCount;
    }

    public void setBackupThreadCount(Integer backupThreadCount) {
        this.backupThreadCount = backupThreadCount;
    }

    public Duration getSessionBackupTimeout() {
        return sessionBackupTimeout;
    }

    public void setSessionBackupTimeout(Duration sessionBackupTimeout) {
        this.sessionBackupTimeout = sessionBackupTimeout;
    }

    public String getTranscoderFactoryClass() {
        return transcoderFactoryClass;
    }

    public void setTranscoderFactoryClass(String transcoderFactoryClass) {
        this.transcoderFactoryClass = transcoderFactoryClass;
    }

    public Boolean getCopyCollectionsForSerialization() {
        return copyCollectionsForSerialization;
    }

    public void setCopyCollectionsForSerialization(Boolean copyCollectionsForSerialization) {
        this.copyCollectionsForSerialization = copyCollectionsForSerialization;
    }

    public String getCustomConverter() {
        return customConverter;
    }

    public void setCustomConverter(String customConverter) {
        this.customConverter = customConverter;
    }

    public Boolean getEnableStatistics() {
        return enableStatistics;
    }

    public void setEnableStatistics(Boolean enableStatistics) {
        this.enableStatistics = enableStatistics;
    }

    public String getMemcachedProtocol() {
        return memcachedProtocol;
    }

    public void setMemcachedProtocol(String memcachedProtocol) {
        this.memcachedProtocol = memcachedProtocol;
    }

    public String getUsername() {
        return username;
    }

    public void setUsername(String username) {
        this.username = username;
    }

    public String getPassword() {
        return password;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    public Boolean getTls() {
        return tls;
    }

    public void setTls(Boolean tls) {
        this.tls = tls;
    }

    public String getTlsTrustStore() {
        return tlsTrustStore;
    }

    public void setTlsTrustStore(String tlsTrustStore) {
        this.tlsTrustStore = tlsTrustStore;
    }

    public String getTlsTrustStorePassword() {
        return tlsTrustStorePassword;
    }

    public void setTlsTrustStorePassword(String tlsTrustStorePassword) {
        this.tlsTrustStorePassword = tlsTrustStorePassword;
    }

    public String getTlsKeyStore() {
        return tlsKeyStore;
    }

    public void setTlsKeyStore(String tlsKeyStore) {
        this.tlsKeyStore = tlsKeyStore;
    }

    public String getTlsKeyStorePassword() {
        return tlsKeyStorePassword;
    }

    public void setTlsKeyStorePassword(String tlsKeyStorePassword) {
        this.tlsKeyStorePassword = tlsKeyStorePassword;
    }

    public String getStorageKeyPrefix() {
        return storageKeyPrefix;
    }

    public void setStorageKeyPrefix(String storageKeyPrefix) {
        this.storageKeyPrefix = storageKeyPrefix;
    }

    public Duration getMaxInactiveInterval() {
        return maxInactiveInterval;
    }

    public void setMaxInactiveInterval(Duration maxInactiveInterval) {
        this.maxInactiveInterval = maxInactiveInterval;
    }

    public String getDeserializationFilter() {
        return deserializationFilter;
    }

    public void setDeserializationFilter(String deserializationFilter) {
        this.deserializationFilter = deserializationFilter;
    }

    public String getSessionProtection() {
        return sessionProtection;
    }

    public void setSessionProtection(String sessionProtection) {
        this.sessionProtection = sessionProtection;
    }

    public String getSessionKeys() {
        return sessionKeys;
    }

    public void setSessionKeys(String sessionKeys) {
        this.sessionKeys = sessionKeys;
    }

    public String getSessionKeyFile() {
        return sessionKeyFile;
    }

    public void setSessionKeyFile(String sessionKeyFile) {
        this.sessionKeyFile = sessionKeyFile;
    }

    public DataSize getCompressionThreshold() {
        return compressionThreshold;
    }

    public void setCompressionThreshold(DataSize compressionThreshold) {
        this.compressionThreshold = compressionThreshold;
    }

    public DataSize getMaxAttributeSize() {
        return maxAttributeSize;
    }

    public void setMaxAttributeSize(DataSize maxAttributeSize) {
        this.maxAttributeSize = maxAttributeSize;
    }

    public Duration getMinBackupInterval() {
        return minBackupInterval;
    }

    public void setMinBackupInterval(Duration minBackupInterval) {
        this.minBackupInterval = minBackupInterval;
    }

    public Integer getIdleSessionCache() {
        return idleSessionCache;
    }

    public void setIdleSessionCache(Integer idleSessionCache) {
        this.idleSessionCache = idleSessionCache;
    }

    public String getLegacySessions() {
        return legacySessions;
    }

    public void setLegacySessions(String legacySessions) {
        this.legacySessions = legacySessions;
    }
}
