package io.msm.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The validated, immutable configuration of one msm session manager.
 *
 * <p>Built from the raw attribute strings of the {@code <Manager>} element by {@link Builder#build(ClassLoader)},
 * which checks every attribute and throws one {@link InvalidConfigurationException} naming every bad attribute and
 * value. Attribute names, defaults and meaning follow memcached-session-manager, so migrating is a className change.
 */
public final class MsmConfig {

    // ------------------------------------------------------------------ attribute names
    public static final String MEMCACHED_NODES = "memcachedNodes";
    public static final String FAILOVER_NODES = "failoverNodes";
    /** Ours: seconds between two questions for the nodes with {@code memcachedNodes="discover:..."} or {@code "dns:..."}. */
    public static final String DISCOVERY_INTERVAL = "discoveryInterval";
    public static final String STICKY = "sticky";
    public static final String LOCKING_MODE = "lockingMode";
    public static final String LOCK_EXPIRATION = "lockExpiration";
    /** Ours: what a request does when it cannot take its session's lock ({@code proceed} or {@code fail}). */
    public static final String LOCK_FAILURE = "lockFailure";
    public static final String OPERATION_TIMEOUT = "operationTimeout";
    public static final String REQUEST_URI_IGNORE_PATTERN = "requestUriIgnorePattern";
    public static final String SESSION_ATTRIBUTE_FILTER = "sessionAttributeFilter";
    public static final String SESSION_BACKUP_ASYNC = "sessionBackupAsync";
    public static final String BACKUP_THREAD_COUNT = "backupThreadCount";
    public static final String SESSION_BACKUP_TIMEOUT = "sessionBackupTimeout";
    public static final String TRANSCODER_FACTORY_CLASS = "transcoderFactoryClass";
    public static final String COPY_COLLECTIONS_FOR_SERIALIZATION = "copyCollectionsForSerialization";
    public static final String CUSTOM_CONVERTER = "customConverter";
    public static final String ENABLE_STATISTICS = "enableStatistics";
    public static final String MEMCACHED_PROTOCOL = "memcachedProtocol";
    public static final String USERNAME = "username";
    public static final String PASSWORD = "password";
    /** Ours: {@code true}: every connection to memcached uses TLS (text protocol only). */
    public static final String TLS = "tls";
    /** Ours: a PKCS12, JKS or PEM file of the certificates memcached's are checked against (default: the JVM's). */
    public static final String TLS_TRUST_STORE = "tlsTrustStore";
    /** Ours: the password of {@code tlsTrustStore}. Secret: never logged. */
    public static final String TLS_TRUST_STORE_PASSWORD = "tlsTrustStorePassword";
    /** Ours: a PKCS12 or JKS file with the client certificate and key, for memcached's {@code ssl_verify_mode}. */
    public static final String TLS_KEY_STORE = "tlsKeyStore";
    /** Ours: the password of {@code tlsKeyStore} and of its key. Secret: never logged. */
    public static final String TLS_KEY_STORE_PASSWORD = "tlsKeyStorePassword";
    public static final String STORAGE_KEY_PREFIX = "storageKeyPrefix";
    public static final String ENABLED = "enabled";
    public static final String MAX_INACTIVE_INTERVAL = "maxInactiveInterval";
    /** Ours: a JEP 290 filter pattern checked before msm's own when session bytes are deserialized. */
    public static final String DESERIALIZATION_FILTER = "deserializationFilter";
    /** Ours: {@code none}, {@code sign} or {@code encrypt} (see {@link SessionProtection}). */
    public static final String SESSION_PROTECTION = "sessionProtection";
    /** Ours: base64 keys for {@code sessionProtection}, the first one writes. Secret: never logged. */
    public static final String SESSION_KEYS = "sessionKeys";
    /** Ours: a file with one base64 key per line, instead of {@code sessionKeys}. */
    public static final String SESSION_KEY_FILE = "sessionKeyFile";
    /** Ours: blobs of at least this many bytes are deflated. */
    public static final String COMPRESSION_THRESHOLD = "compressionThreshold";
    /** Ours: an attribute whose serialized form is larger is not stored in memcached. */
    public static final String MAX_ATTRIBUTE_SIZE = "maxAttributeSize";
    /** Ours: sticky asynchronous backups of one session start at most this often (ms); changes between are folded. */
    public static final String MIN_BACKUP_INTERVAL = "minBackupInterval";
    /** Ours: non-sticky, how many idle sessions keep their attribute objects for reuse when memcached still agrees. */
    public static final String IDLE_SESSION_CACHE = "idleSessionCache";
    /** Ours: whether sessions memcached-session-manager stored are read (a rolling switch from it). */
    public static final String LEGACY_SESSIONS = "legacySessions";

    /** Every attribute this configuration understands, in documentation order. */
    public static final List<String> ATTRIBUTES = Attributes.names();

    /** Milliseconds a request thread waits for memcached at most. */
    public static final int DEFAULT_OPERATION_TIMEOUT_MILLIS = 1000;
    public static final String DEFAULT_TRANSCODER_FACTORY_CLASS =
            "io.msm.serializer.java.JavaSerializationTranscoderFactory";
    /** Bytes: blobs this large or larger are deflated (memcached refuses items over 1 MB by default). */
    public static final int DEFAULT_COMPRESSION_THRESHOLD = 256 * 1024;

    /**
     * The default of {@code attribute} as the configuration reference in msm's README shows it (a test checks that
     * each row shows it), e.g. {@code `true`}, {@code none} or {@code (required)}.
     *
     * @throws IllegalArgumentException if {@code attribute} is not one of {@link #ATTRIBUTES}
     */
    public static String documentedDefault(String attribute) {
        for (Attribute<?> a : Attributes.ALL) {
            if (a.name.equals(attribute)) {
                return a.documentedDefault();
            }
        }
        throw new IllegalArgumentException("unknown msm attribute " + attribute);
    }

    private final Map<Attribute<?>, Object> values;
    private final List<String> warnings;
    // Read by every request (the valve, the relocation check, the session look-up): fields, not a map look-up each
    // time, which showed up as msm's largest request-thread frame in the profiles of issue 26.
    private final boolean sticky;
    private final boolean sessionBackupAsync;
    private final boolean nodeIdsInSessionIds;
    private final Optional<Pattern> requestUriIgnorePattern;
    private final LockingMode lockingMode;
    private final int operationTimeoutMillis;

    private MsmConfig(Reading r) {
        this.values = Collections.unmodifiableMap(new HashMap<>(r.values()));
        this.warnings = List.copyOf(r.warnings);
        this.sticky = get(Attributes.STICKY);
        this.sessionBackupAsync = get(Attributes.SESSION_BACKUP_ASYNC);
        NodeList nodes = get(Attributes.MEMCACHED_NODES);
        this.nodeIdsInSessionIds = nodes != null && nodes.idsInSessionIds;
        this.requestUriIgnorePattern = Optional.ofNullable(get(Attributes.REQUEST_URI_IGNORE_PATTERN));
        this.lockingMode = get(Attributes.LOCKING_MODE).mode;
        this.operationTimeoutMillis = get(Attributes.OPERATION_TIMEOUT);
    }

    @SuppressWarnings("unchecked")
    private <T> T get(Attribute<T> a) {
        return (T) values.get(a);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The nodes of {@code memcachedNodes}, in configured order, with {@link MemcachedNode#isFailover()} set. */
    public List<MemcachedNode> nodes() {
        return get(Attributes.MEMCACHED_NODES).nodes;
    }

    /**
     * Where the nodes are found ({@code memcachedNodes="discover:..."} or {@code "dns:..."}); empty for a list of
     * nodes. With it, {@link #nodes()} is empty: the nodes are those the source answers.
     */
    public Optional<NodeDiscovery> discovery() {
        NodeDiscovery d = get(Attributes.MEMCACHED_NODES).discovery;
        return d == null ? Optional.empty() : Optional.of(d.withInterval(get(Attributes.DISCOVERY_INTERVAL)));
    }

    /** {@code false} only for a single node configured as {@code host:port}: then session ids carry no node id. */
    public boolean nodeIdsInSessionIds() {
        return nodeIdsInSessionIds;
    }

    /** {@code sticky} (its default is declared in {@code Attributes}). */
    public boolean sticky() {
        return sticky;
    }

    /** {@code lockingMode} (its default is declared in {@code Attributes}). */
    public LockingMode lockingMode() {
        return lockingMode;
    }

    /** The regex of {@code lockingMode="uriPattern:<regex>"}, empty for other modes. */
    public Optional<Pattern> lockingUriPattern() {
        return Optional.ofNullable(get(Attributes.LOCKING_MODE).uriPattern);
    }

    /** {@code lockExpiration} in seconds (its default is declared in {@code Attributes}). */
    public int lockExpirationSeconds() {
        return get(Attributes.LOCK_EXPIRATION);
    }

    /** {@code lockFailure} (its default is declared in {@code Attributes}). */
    public LockFailure lockFailure() {
        return get(Attributes.LOCK_FAILURE);
    }

    /** {@code operationTimeout} in milliseconds (its default is declared in {@code Attributes}). */
    public int operationTimeoutMillis() {
        return operationTimeoutMillis;
    }

    /** {@code requestUriIgnorePattern}, matched against the whole request path (without query string). */
    public Optional<Pattern> requestUriIgnorePattern() {
        return requestUriIgnorePattern;
    }

    /** {@code sessionAttributeFilter}: only attributes whose names match are stored; empty stores all. */
    public Optional<Pattern> sessionAttributeFilter() {
        return Optional.ofNullable(get(Attributes.SESSION_ATTRIBUTE_FILTER));
    }

    /** {@code sessionBackupAsync} (its default is declared in {@code Attributes}). */
    public boolean sessionBackupAsync() {
        return sessionBackupAsync;
    }

    /** {@code backupThreadCount} (its default is declared in {@code Attributes}). */
    public int backupThreadCount() {
        return get(Attributes.BACKUP_THREAD_COUNT);
    }

    /** {@code sessionBackupTimeout} in ms (its default is declared in {@code Attributes}). */
    public int sessionBackupTimeoutMillis() {
        return get(Attributes.SESSION_BACKUP_TIMEOUT);
    }

    /** {@code transcoderFactoryClass}, after mapping memcached-session-manager's class names to ours. */
    public String transcoderFactoryClass() {
        return get(Attributes.TRANSCODER_FACTORY_CLASS);
    }

    public boolean copyCollectionsForSerialization() {
        return get(Attributes.COPY_COLLECTIONS_FOR_SERIALIZATION);
    }

    /** The class names of {@code customConverter}, in order. */
    public List<String> customConverters() {
        return get(Attributes.CUSTOM_CONVERTER);
    }

    public boolean enableStatistics() {
        return get(Attributes.ENABLE_STATISTICS);
    }

    public MemcachedProtocol memcachedProtocol() {
        return get(Attributes.MEMCACHED_PROTOCOL);
    }

    /** The SASL user name, if configured. */
    public Optional<String> username() {
        return Optional.ofNullable(get(Attributes.USERNAME));
    }

    /** The SASL password, if configured. Never log it. */
    public Optional<String> password() {
        return Optional.ofNullable(get(Attributes.PASSWORD));
    }

    /**
     * The TLS context every connection to memcached uses ({@code tls="true"}, built from {@code tlsTrustStore} and
     * {@code tlsKeyStore}); empty: plain TCP.
     */
    public Optional<SSLContext> tlsContext() {
        return Optional.ofNullable(get(Attributes.TLS).context);
    }

    /**
     * Names the context (e.g. {@code "[/shop] "}) in the lines logged by what runs of this configuration outside an
     * engine's own code: the reading of renewed TLS store files during handshakes.
     */
    public void nameLogs(String logPrefix) {
        RotatingStores files = tlsFiles();
        if (files != null) {
            files.logPrefix = logPrefix;
        }
    }

    /** The TLS store files followed; {@code null}: none. */
    RotatingStores tlsFiles() {
        return get(Attributes.TLS).files;
    }

    public StorageKeyPrefix storageKeyPrefix() {
        return get(Attributes.STORAGE_KEY_PREFIX);
    }

    /** {@code enabled}; when {@code false} the manager behaves like a plain in-memory manager. */
    public boolean enabled() {
        return get(Attributes.ENABLED);
    }

    /**
     * {@code maxInactiveInterval} in seconds, overriding the context's session timeout for new sessions; empty when
     * not set. {@code <= 0} means sessions never expire.
     */
    public OptionalInt maxInactiveInterval() {
        Integer seconds = get(Attributes.MAX_INACTIVE_INTERVAL);
        return seconds == null ? OptionalInt.empty() : OptionalInt.of(seconds);
    }

    /**
     * {@code deserializationFilter}: a JEP 290 pattern ({@link java.io.ObjectInputFilter.Config#createFilter}) checked
     * before msm's built-in one; its limits apply to the Java serializer, its class patterns to both serializers.
     */
    public Optional<String> deserializationFilter() {
        return Optional.ofNullable(get(Attributes.DESERIALIZATION_FILTER));
    }

    /** {@code sessionProtection} (its default is declared in {@code Attributes}). */
    public SessionProtection sessionProtection() {
        return get(Attributes.SESSION_PROTECTION);
    }

    /**
     * The keys of {@code sessionKeys} or {@code sessionKeyFile} (each at least 32 bytes), the writing key first;
     * empty with {@link SessionProtection#NONE}. Secret: never log them.
     */
    public List<byte[]> sessionKeys() {
        List<byte[]> copy = new ArrayList<>();
        get(Attributes.SESSION_KEYS).forEach(k -> copy.add(k.clone()));
        return copy;
    }

    /** {@code compressionThreshold} in bytes, 0 = never compress (its default is declared in {@code Attributes}). */
    public int compressionThreshold() {
        return get(Attributes.COMPRESSION_THRESHOLD);
    }

    /** {@code maxAttributeSize} in bytes, 0 = no limit (the default). */
    public int maxAttributeSize() {
        return get(Attributes.MAX_ATTRIBUTE_SIZE);
    }

    /**
     * {@code minBackupInterval} in ms (sticky mode, asynchronous backups): two backups of one session start at least
     * this far apart; changes made meanwhile go into the next one. 0: no minimum.
     */
    public int minBackupIntervalMillis() {
        return get(Attributes.MIN_BACKUP_INTERVAL);
    }

    /**
     * {@code idleSessionCache} (non-sticky): how many sessions no request uses any more keep their attribute objects
     * in this Tomcat, reused by the session's next load here if memcached still holds the same attribute bytes; 0
     * turns it off.
     */
    public int idleSessionCache() {
        return get(Attributes.IDLE_SESSION_CACHE);
    }

    /** {@code legacySessions} (its default is declared in {@code Attributes}). */
    public LegacySessions legacySessions() {
        return get(Attributes.LEGACY_SESSIONS);
    }

    /** Doubtful but legal settings, each naming the values involved and what msm does; log each once at start. */
    public List<String> warnings() {
        return warnings;
    }

    /** The effective configuration, one attribute per line, with secrets masked. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("MsmConfig{");
        for (Attribute<?> a : Attributes.ALL) {
            sb.append("\n  ").append(a.name).append('=').append(a.show(values.get(a)));
        }
        return sb.append("\n}").toString();
    }

    // ====================================================================== builder

    /**
     * Collects raw attribute strings (as written in {@code context.xml}); {@link #build(ClassLoader)} validates them
     * all at once. {@code null} or blank means "not set, use the default".
     */
    public static final class Builder {
        private final Map<String, String> raw = new HashMap<>();

        private Builder() {
        }

        /**
         * Records one attribute.
         *
         * @throws IllegalArgumentException if {@code attribute} is not one of {@link #ATTRIBUTES}
         */
        public Builder set(String attribute, String value) {
            if (!ATTRIBUTES.contains(attribute)) {
                throw new IllegalArgumentException("unknown msm attribute " + attribute);
            }
            raw.put(attribute, value);
            return this;
        }

        /** The raw value recorded for {@code attribute}, or {@code null}. */
        public String get(String attribute) {
            return raw.get(attribute);
        }

        /**
         * Validates every attribute.
         *
         * @param classLoader loads {@code transcoderFactoryClass} and {@code customConverter} classes (the webapp's)
         * @throws InvalidConfigurationException naming every bad attribute and value
         */
        public MsmConfig build(ClassLoader classLoader) {
            Reading r = new Reading(raw, classLoader).readAll();
            if (!r.problems.isEmpty()) {
                throw new InvalidConfigurationException(r.problems);
            }
            return new MsmConfig(r);
        }
    }
}
