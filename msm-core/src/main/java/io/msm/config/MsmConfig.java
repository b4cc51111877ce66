package io.msm.config;

import io.msm.spi.TranscoderFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

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
    public static final List<String> ATTRIBUTES = List.of(MEMCACHED_NODES, FAILOVER_NODES, STICKY, LOCKING_MODE,
            LOCK_EXPIRATION, LOCK_FAILURE, OPERATION_TIMEOUT, REQUEST_URI_IGNORE_PATTERN, SESSION_ATTRIBUTE_FILTER,
            SESSION_BACKUP_ASYNC, BACKUP_THREAD_COUNT, SESSION_BACKUP_TIMEOUT, TRANSCODER_FACTORY_CLASS,
            COPY_COLLECTIONS_FOR_SERIALIZATION, CUSTOM_CONVERTER, ENABLE_STATISTICS, MEMCACHED_PROTOCOL, USERNAME,
            PASSWORD, STORAGE_KEY_PREFIX, ENABLED, MAX_INACTIVE_INTERVAL, DESERIALIZATION_FILTER, SESSION_PROTECTION,
            SESSION_KEYS, SESSION_KEY_FILE, COMPRESSION_THRESHOLD, MAX_ATTRIBUTE_SIZE, MIN_BACKUP_INTERVAL,
            IDLE_SESSION_CACHE, LEGACY_SESSIONS);

    // ------------------------------------------------------------------ defaults
    /** Defaults to {@code true}: sessions live in one Tomcat and are backed up to memcached. */
    public static final boolean DEFAULT_STICKY = true;
    public static final LockingMode DEFAULT_LOCKING_MODE = LockingMode.NONE;
    /** Seconds a non-sticky lock lives in memcached if its owner dies. */
    public static final int DEFAULT_LOCK_EXPIRATION_SECONDS = 5;
    /**
     * Defaults to {@link LockFailure#PROCEED}: a request that cannot take its session's lock within
     * {@code operationTimeout} runs without it (counted), as memcached-session-manager did.
     */
    public static final LockFailure DEFAULT_LOCK_FAILURE = LockFailure.PROCEED;
    /** Milliseconds a request thread waits for memcached at most. */
    public static final int DEFAULT_OPERATION_TIMEOUT_MILLIS = 1000;
    public static final boolean DEFAULT_SESSION_BACKUP_ASYNC = true;
    /** Milliseconds a synchronous backup ({@code sessionBackupAsync="false"}) waits for memcached. */
    public static final int DEFAULT_SESSION_BACKUP_TIMEOUT_MILLIS = 100;
    public static final String DEFAULT_TRANSCODER_FACTORY_CLASS =
            "io.msm.serializer.java.JavaSerializationTranscoderFactory";
    public static final boolean DEFAULT_COPY_COLLECTIONS_FOR_SERIALIZATION = false;
    public static final boolean DEFAULT_ENABLE_STATISTICS = true;
    public static final MemcachedProtocol DEFAULT_MEMCACHED_PROTOCOL = MemcachedProtocol.TEXT;
    public static final boolean DEFAULT_ENABLED = true;
    public static final SessionProtection DEFAULT_SESSION_PROTECTION = SessionProtection.NONE;
    /** Bytes: blobs this large or larger are deflated (memcached refuses items over 1 MB by default). */
    public static final int DEFAULT_COMPRESSION_THRESHOLD = 256 * 1024;
    /** Bytes; 0: no limit. */
    public static final int DEFAULT_MAX_ATTRIBUTE_SIZE = 0;
    /**
     * Milliseconds; 0: a session's next backup starts as soon as its previous one ends. 10: a session changed by
     * thousands of requests a second is serialized at most 100 times a second, while a user's clicks (far more than
     * 10 ms apart) are each backed up at once.
     */
    public static final int DEFAULT_MIN_BACKUP_INTERVAL_MILLIS = 10;
    /** Sessions; 0: every non-sticky load deserializes. */
    public static final int DEFAULT_IDLE_SESSION_CACHE = 1000;
    /** Defaults to {@link LegacySessions#OFF}: only msm's own sessions are read. */
    public static final LegacySessions DEFAULT_LEGACY_SESSIONS = LegacySessions.OFF;

    /** Defaults to the number of processors. */
    public static int defaultBackupThreadCount() {
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Class names of memcached-session-manager's serializers, mapped to ours, so an unchanged {@code context.xml}
     * keeps working after the className change (with a warning to update it).
     */
    private static final Map<String, String> ANCHOR_TRANSCODER_ALIASES = Map.of(
            "de.javakaffee.web.msm.JavaSerializationTranscoderFactory", DEFAULT_TRANSCODER_FACTORY_CLASS,
            "de.javakaffee.web.msm.serializer.kryo.KryoTranscoderFactory",
            "io.msm.serializer.kryo.KryoTranscoderFactory");

    private static final Pattern NODE_WITH_ID = Pattern.compile("([A-Za-z0-9_]+):(\\[[^\\]]+\\]|[^:\\[\\]]+):(\\d{1,5})");
    private static final Pattern NODE_WITHOUT_ID = Pattern.compile("(\\[[^\\]]+\\]|[^:\\[\\]]+):(\\d{1,5})");
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_]+");
    private static final Pattern LIST_SEPARATOR = Pattern.compile("[,\\s]+");

    private final List<MemcachedNode> nodes;
    private final boolean nodeIdsInSessionIds;
    private final boolean sticky;
    private final LockingMode lockingMode;
    private final Pattern lockingUriPattern;
    private final int lockExpirationSeconds;
    private final LockFailure lockFailure;
    private final int operationTimeoutMillis;
    private final Pattern requestUriIgnorePattern;
    private final Pattern sessionAttributeFilter;
    private final boolean sessionBackupAsync;
    private final int backupThreadCount;
    private final int sessionBackupTimeoutMillis;
    private final String transcoderFactoryClass;
    private final boolean copyCollectionsForSerialization;
    private final List<String> customConverters;
    private final boolean enableStatistics;
    private final MemcachedProtocol memcachedProtocol;
    private final String username;
    private final String password;
    private final StorageKeyPrefix storageKeyPrefix;
    private final boolean enabled;
    private final Integer maxInactiveInterval;
    private final String deserializationFilter;
    private final SessionProtection sessionProtection;
    private final List<byte[]> sessionKeys;
    private final String sessionKeyFile;
    private final int compressionThreshold;
    private final int maxAttributeSize;
    private final int minBackupIntervalMillis;
    private final int idleSessionCache;
    private final LegacySessions legacySessions;
    private final List<String> warnings;

    private MsmConfig(Parser p) {
        this.nodes = p.nodes;
        this.nodeIdsInSessionIds = p.nodeIdsInSessionIds;
        this.sticky = p.sticky;
        this.lockingMode = p.lockingMode;
        this.lockingUriPattern = p.lockingUriPattern;
        this.lockExpirationSeconds = p.lockExpiration;
        this.lockFailure = p.lockFailure;
        this.operationTimeoutMillis = p.operationTimeout;
        this.requestUriIgnorePattern = p.requestUriIgnorePattern;
        this.sessionAttributeFilter = p.sessionAttributeFilter;
        this.sessionBackupAsync = p.sessionBackupAsync;
        this.backupThreadCount = p.backupThreadCount;
        this.sessionBackupTimeoutMillis = p.sessionBackupTimeout;
        this.transcoderFactoryClass = p.transcoderFactoryClass;
        this.copyCollectionsForSerialization = p.copyCollections;
        this.customConverters = p.customConverters;
        this.enableStatistics = p.enableStatistics;
        this.memcachedProtocol = p.protocol;
        this.username = p.username;
        this.password = p.password;
        this.storageKeyPrefix = p.storageKeyPrefix;
        this.enabled = p.enabled;
        this.maxInactiveInterval = p.maxInactiveInterval;
        this.deserializationFilter = p.deserializationFilter;
        this.sessionProtection = p.sessionProtection;
        this.sessionKeys = p.sessionKeys;
        this.sessionKeyFile = p.sessionKeyFile;
        this.compressionThreshold = p.compressionThreshold;
        this.maxAttributeSize = p.maxAttributeSize;
        this.minBackupIntervalMillis = p.minBackupInterval;
        this.idleSessionCache = p.idleSessionCache;
        this.legacySessions = p.legacySessions;
        this.warnings = Collections.unmodifiableList(p.warnings);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The nodes of {@code memcachedNodes}, in configured order, with {@link MemcachedNode#isFailover()} set. */
    public List<MemcachedNode> nodes() {
        return nodes;
    }

    /** {@code false} only for a single node configured as {@code host:port}: then session ids carry no node id. */
    public boolean nodeIdsInSessionIds() {
        return nodeIdsInSessionIds;
    }

    /** {@code sticky}; defaults to {@value #DEFAULT_STICKY}. */
    public boolean sticky() {
        return sticky;
    }

    /** {@code lockingMode}; defaults to {@link LockingMode#NONE}. */
    public LockingMode lockingMode() {
        return lockingMode;
    }

    /** The regex of {@code lockingMode="uriPattern:<regex>"}, empty for other modes. */
    public Optional<Pattern> lockingUriPattern() {
        return Optional.ofNullable(lockingUriPattern);
    }

    /** {@code lockExpiration} in seconds; defaults to {@value #DEFAULT_LOCK_EXPIRATION_SECONDS}. */
    public int lockExpirationSeconds() {
        return lockExpirationSeconds;
    }

    /** {@code lockFailure}; defaults to {@link #DEFAULT_LOCK_FAILURE}. */
    public LockFailure lockFailure() {
        return lockFailure;
    }

    /** {@code operationTimeout} in milliseconds; defaults to {@value #DEFAULT_OPERATION_TIMEOUT_MILLIS}. */
    public int operationTimeoutMillis() {
        return operationTimeoutMillis;
    }

    /** {@code requestUriIgnorePattern}, matched against the whole request path (without query string). */
    public Optional<Pattern> requestUriIgnorePattern() {
        return Optional.ofNullable(requestUriIgnorePattern);
    }

    /** {@code sessionAttributeFilter}: only attributes whose names match are stored; empty stores all. */
    public Optional<Pattern> sessionAttributeFilter() {
        return Optional.ofNullable(sessionAttributeFilter);
    }

    /** {@code sessionBackupAsync}; defaults to {@value #DEFAULT_SESSION_BACKUP_ASYNC}. */
    public boolean sessionBackupAsync() {
        return sessionBackupAsync;
    }

    /** {@code backupThreadCount}; defaults to {@link #defaultBackupThreadCount()}. */
    public int backupThreadCount() {
        return backupThreadCount;
    }

    /** {@code sessionBackupTimeout} in ms; defaults to {@value #DEFAULT_SESSION_BACKUP_TIMEOUT_MILLIS}. */
    public int sessionBackupTimeoutMillis() {
        return sessionBackupTimeoutMillis;
    }

    /** {@code transcoderFactoryClass}, after mapping memcached-session-manager's class names to ours. */
    public String transcoderFactoryClass() {
        return transcoderFactoryClass;
    }

    public boolean copyCollectionsForSerialization() {
        return copyCollectionsForSerialization;
    }

    /** The class names of {@code customConverter}, in order. */
    public List<String> customConverters() {
        return customConverters;
    }

    public boolean enableStatistics() {
        return enableStatistics;
    }

    public MemcachedProtocol memcachedProtocol() {
        return memcachedProtocol;
    }

    /** The SASL user name, if configured. */
    public Optional<String> username() {
        return Optional.ofNullable(username);
    }

    /** The SASL password, if configured. Never log it. */
    public Optional<String> password() {
        return Optional.ofNullable(password);
    }

    public StorageKeyPrefix storageKeyPrefix() {
        return storageKeyPrefix;
    }

    /** {@code enabled}; when {@code false} the manager behaves like a plain in-memory manager. */
    public boolean enabled() {
        return enabled;
    }

    /**
     * {@code maxInactiveInterval} in seconds, overriding the context's session timeout for new sessions; empty when
     * not set. {@code <= 0} means sessions never expire.
     */
    public OptionalInt maxInactiveInterval() {
        return maxInactiveInterval == null ? OptionalInt.empty() : OptionalInt.of(maxInactiveInterval);
    }

    /**
     * {@code deserializationFilter}: a JEP 290 pattern ({@link java.io.ObjectInputFilter.Config#createFilter}) checked
     * before msm's built-in one; its limits apply to the Java serializer, its class patterns to both serializers.
     */
    public Optional<String> deserializationFilter() {
        return Optional.ofNullable(deserializationFilter);
    }

    /** {@code sessionProtection}; defaults to {@link SessionProtection#NONE}. */
    public SessionProtection sessionProtection() {
        return sessionProtection;
    }

    /**
     * The keys of {@code sessionKeys} or {@code sessionKeyFile} (each at least 32 bytes), the writing key first;
     * empty with {@link SessionProtection#NONE}. Secret: never log them.
     */
    public List<byte[]> sessionKeys() {
        List<byte[]> copy = new ArrayList<>();
        sessionKeys.forEach(k -> copy.add(k.clone()));
        return copy;
    }

    /** {@code compressionThreshold} in bytes, 0 = never compress; defaults to {@value #DEFAULT_COMPRESSION_THRESHOLD}. */
    public int compressionThreshold() {
        return compressionThreshold;
    }

    /** {@code maxAttributeSize} in bytes, 0 = no limit (the default). */
    public int maxAttributeSize() {
        return maxAttributeSize;
    }

    /**
     * {@code minBackupInterval} in ms (sticky mode, asynchronous backups): two backups of one session start at least
     * this far apart; changes made meanwhile go into the next one. 0: no minimum. Defaults to
     * {@value #DEFAULT_MIN_BACKUP_INTERVAL_MILLIS}.
     */
    public int minBackupIntervalMillis() {
        return minBackupIntervalMillis;
    }

    /**
     * {@code idleSessionCache} (non-sticky): how many sessions no request uses any more keep their attribute objects
     * in this Tomcat, reused by the session's next load here if memcached still holds the same attribute bytes; 0
     * turns it off. Defaults to {@value #DEFAULT_IDLE_SESSION_CACHE}.
     */
    public int idleSessionCache() {
        return idleSessionCache;
    }

    /** {@code legacySessions}; defaults to {@link #DEFAULT_LEGACY_SESSIONS}. */
    public LegacySessions legacySessions() {
        return legacySessions;
    }

    /** Doubtful but legal settings, each naming the values involved and what msm does; log each once at start. */
    public List<String> warnings() {
        return warnings;
    }

    /** The effective configuration, one attribute per line, with the password masked. */
    @Override
    public String toString() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(MEMCACHED_NODES, nodes);
        m.put(STICKY, sticky);
        m.put(LOCKING_MODE, lockingMode + (lockingUriPattern == null ? "" : ":" + lockingUriPattern));
        m.put(LOCK_EXPIRATION, lockExpirationSeconds + "s");
        m.put(LOCK_FAILURE, lockFailure.name().toLowerCase(Locale.ROOT));
        m.put(OPERATION_TIMEOUT, operationTimeoutMillis + "ms");
        m.put(REQUEST_URI_IGNORE_PATTERN, requestUriIgnorePattern);
        m.put(SESSION_ATTRIBUTE_FILTER, sessionAttributeFilter);
        m.put(SESSION_BACKUP_ASYNC, sessionBackupAsync);
        m.put(BACKUP_THREAD_COUNT, backupThreadCount);
        m.put(SESSION_BACKUP_TIMEOUT, sessionBackupTimeoutMillis + "ms");
        m.put(TRANSCODER_FACTORY_CLASS, transcoderFactoryClass);
        m.put(COPY_COLLECTIONS_FOR_SERIALIZATION, copyCollectionsForSerialization);
        m.put(CUSTOM_CONVERTER, customConverters);
        m.put(ENABLE_STATISTICS, enableStatistics);
        m.put(MEMCACHED_PROTOCOL, memcachedProtocol.name().toLowerCase(Locale.ROOT));
        m.put(USERNAME, username);
        m.put(PASSWORD, password == null ? null : "******");
        m.put(STORAGE_KEY_PREFIX, storageKeyPrefix);
        m.put(ENABLED, enabled);
        m.put(MAX_INACTIVE_INTERVAL, maxInactiveInterval);
        m.put(DESERIALIZATION_FILTER, deserializationFilter);
        m.put(SESSION_PROTECTION, sessionProtection.name().toLowerCase(Locale.ROOT));
        m.put(SESSION_KEYS, sessionKeys.isEmpty() ? null : sessionKeys.size() + " key(s), not shown");
        m.put(SESSION_KEY_FILE, sessionKeyFile);
        m.put(COMPRESSION_THRESHOLD, compressionThreshold);
        m.put(MAX_ATTRIBUTE_SIZE, maxAttributeSize);
        m.put(MIN_BACKUP_INTERVAL, minBackupIntervalMillis + "ms");
        m.put(IDLE_SESSION_CACHE, idleSessionCache);
        m.put(LEGACY_SESSIONS, legacySessions.attributeValue());
        StringBuilder sb = new StringBuilder("MsmConfig{");
        m.forEach((k, v) -> sb.append("\n  ").append(k).append('=').append(v));
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
            Parser p = new Parser(raw, classLoader);
            p.parse();
            if (!p.problems.isEmpty()) {
                throw new InvalidConfigurationException(p.problems);
            }
            return new MsmConfig(p);
        }
    }

    /** One-shot parser: every attribute is checked; problems are collected, never thrown one by one. */
    private static final class Parser {
        private final Map<String, String> raw;
        private final ClassLoader classLoader;
        final List<String> problems = new ArrayList<>();
        final List<String> warnings = new ArrayList<>();

        List<MemcachedNode> nodes = List.of();
        boolean nodeIdsInSessionIds = true;
        boolean sticky;
        LockingMode lockingMode;
        Pattern lockingUriPattern;
        int lockExpiration;
        LockFailure lockFailure;
        int operationTimeout;
        Pattern requestUriIgnorePattern;
        Pattern sessionAttributeFilter;
        boolean sessionBackupAsync;
        int backupThreadCount;
        int sessionBackupTimeout;
        String transcoderFactoryClass;
        boolean copyCollections;
        List<String> customConverters = List.of();
        boolean enableStatistics;
        MemcachedProtocol protocol;
        String username;
        String password;
        StorageKeyPrefix storageKeyPrefix;
        boolean enabled;
        Integer maxInactiveInterval;
        String deserializationFilter;
        SessionProtection sessionProtection;
        List<byte[]> sessionKeys = List.of();
        String sessionKeyFile;
        int compressionThreshold;
        int maxAttributeSize;
        int minBackupInterval;
        int idleSessionCache;
        LegacySessions legacySessions;

        Parser(Map<String, String> raw, ClassLoader classLoader) {
            this.raw = raw;
            this.classLoader = classLoader;
        }

        void parse() {
            parseNodes();
            sticky = bool(STICKY, DEFAULT_STICKY);
            parseLockingMode();
            lockExpiration = positiveInt(LOCK_EXPIRATION, DEFAULT_LOCK_EXPIRATION_SECONDS, "seconds");
            parseLockFailure();
            operationTimeout = positiveInt(OPERATION_TIMEOUT, DEFAULT_OPERATION_TIMEOUT_MILLIS, "milliseconds");
            requestUriIgnorePattern = regex(REQUEST_URI_IGNORE_PATTERN);
            sessionAttributeFilter = regex(SESSION_ATTRIBUTE_FILTER);
            sessionBackupAsync = bool(SESSION_BACKUP_ASYNC, DEFAULT_SESSION_BACKUP_ASYNC);
            backupThreadCount = positiveInt(BACKUP_THREAD_COUNT, defaultBackupThreadCount(), "threads");
            sessionBackupTimeout = positiveInt(SESSION_BACKUP_TIMEOUT, DEFAULT_SESSION_BACKUP_TIMEOUT_MILLIS,
                    "milliseconds");
            parseTranscoder();
            copyCollections = bool(COPY_COLLECTIONS_FOR_SERIALIZATION, DEFAULT_COPY_COLLECTIONS_FOR_SERIALIZATION);
            parseCustomConverters();
            enableStatistics = bool(ENABLE_STATISTICS, DEFAULT_ENABLE_STATISTICS);
            parseProtocolAndCredentials();
            parseStorageKeyPrefix();
            enabled = bool(ENABLED, DEFAULT_ENABLED);
            parseMaxInactiveInterval();
            parseDeserializationFilter();
            parseSessionProtection();
            compressionThreshold = nonNegativeInt(COMPRESSION_THRESHOLD, DEFAULT_COMPRESSION_THRESHOLD,
                    "bytes (0: never compress)");
            maxAttributeSize = nonNegativeInt(MAX_ATTRIBUTE_SIZE, DEFAULT_MAX_ATTRIBUTE_SIZE, "bytes (0: no limit)");
            minBackupInterval = nonNegativeInt(MIN_BACKUP_INTERVAL, DEFAULT_MIN_BACKUP_INTERVAL_MILLIS,
                    "milliseconds (0: no minimum)");
            idleSessionCache = nonNegativeInt(IDLE_SESSION_CACHE, DEFAULT_IDLE_SESSION_CACHE, "sessions (0: none)");
            parseLegacySessions();
            addWarnings();
        }

        private String value(String attribute) {
            String v = raw.get(attribute);
            return v == null || v.isBlank() ? null : v.trim();
        }

        private void problem(String attribute, String expectation) {
            String value = raw.get(attribute);
            problems.add((value == null ? attribute + " (not set, its default)" : attribute + "=\"" + value + "\"")
                    + ": " + expectation);
        }

        private boolean bool(String attribute, boolean dflt) {
            String v = value(attribute);
            if (v == null) {
                return dflt;
            }
            if (v.equalsIgnoreCase("true")) {
                return true;
            }
            if (v.equalsIgnoreCase("false")) {
                return false;
            }
            problem(attribute, "expected true or false");
            return dflt;
        }

        private int positiveInt(String attribute, int dflt, String unit) {
            String v = value(attribute);
            if (v == null) {
                return dflt;
            }
            try {
                int i = Integer.parseInt(v);
                if (i > 0) {
                    return i;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            problem(attribute, "expected a positive whole number of " + unit);
            return dflt;
        }

        private int nonNegativeInt(String attribute, int dflt, String unit) {
            String v = value(attribute);
            if (v == null) {
                return dflt;
            }
            try {
                int i = Integer.parseInt(v);
                if (i >= 0) {
                    return i;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            problem(attribute, "expected a whole number >= 0 of " + unit);
            return dflt;
        }

        private Pattern regex(String attribute) {
            String v = raw.get(attribute);
            if (v == null || v.isEmpty()) {
                return null;
            }
            return compile(attribute, v, "");
        }

        private Pattern compile(String attribute, String regex, String context) {
            try {
                return Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                problem(attribute, context + "not a valid regular expression: "
                        + e.getDescription() + " near index " + e.getIndex());
                return null;
            }
        }

        private void parseNodes() {
            String v = value(MEMCACHED_NODES);
            if (v == null) {
                problem(MEMCACHED_NODES, "required, e.g. n1:host1:11211,n2:host2:11211");
                return;
            }
            String[] entries = LIST_SEPARATOR.split(v);
            List<MemcachedNode> parsed = new ArrayList<>();
            Set<String> ids = new LinkedHashSet<>();
            Set<String> addresses = new LinkedHashSet<>();
            List<String> bad = new ArrayList<>();
            for (String entry : entries) {
                if (entry.isEmpty()) {
                    continue;
                }
                if (entry.startsWith("http://") || entry.startsWith("https://")) {
                    bad.add("\"" + entry + "\" is a Couchbase/Membase bucket URL, which msm does not support: list"
                            + " memcached nodes as <id>:<host>:<port>");
                    continue;
                }
                Matcher withId = NODE_WITH_ID.matcher(entry);
                Matcher withoutId = NODE_WITHOUT_ID.matcher(entry);
                String id;
                String host;
                String port;
                if (withId.matches()) {
                    id = withId.group(1);
                    host = withId.group(2);
                    port = withId.group(3);
                } else if (withoutId.matches() && entries.length == 1) {
                    host = withoutId.group(1);
                    port = withoutId.group(2);
                    id = null;
                } else {
                    bad.add("\"" + entry + "\" is not <id>:<host>:<port>"
                            + (entries.length == 1 ? " (or a single <host>:<port>)" : ""));
                    continue;
                }
                String bareHost = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
                int portNumber = Integer.parseInt(port);
                if (portNumber < 1 || portNumber > 65535) {
                    bad.add("\"" + entry + "\": port " + port + " is not in 1..65535");
                    continue;
                }
                if (new InetSocketAddress(bareHost, portNumber).isUnresolved()) {
                    bad.add("\"" + entry + "\": host " + bareHost + " cannot be resolved");
                    continue;
                }
                if (id == null) {
                    nodeIdsInSessionIds = false;
                    id = bareHost.indexOf(':') >= 0 ? "[" + bareHost + "]:" + port : bareHost + ":" + port;
                } else if (!ids.add(id)) {
                    bad.add("node id " + id + " is used twice");
                    continue;
                }
                if (!addresses.add(bareHost + "/" + portNumber)) {
                    bad.add("address " + host + ":" + port + " is listed twice");
                    continue;
                }
                parsed.add(new MemcachedNode(id, bareHost, portNumber, false));
            }
            if (!bad.isEmpty()) {
                problem(MEMCACHED_NODES, String.join("; ", bad));
                checkFailoverIdsAgainst(mentionedIds(entries));
                return;
            }
            if (parsed.isEmpty()) {
                problem(MEMCACHED_NODES, "required, e.g. n1:host1:11211,n2:host2:11211");
                return;
            }
            nodes = parsed;
            parseFailoverNodes();
        }

        /** Ids written in memcachedNodes, including those of entries that are otherwise bad. */
        private List<String> mentionedIds(String[] entries) {
            List<String> ids = new ArrayList<>();
            for (String entry : entries) {
                int colon = entry.indexOf(':');
                if (colon > 0 && NODE_ID.matcher(entry.substring(0, colon)).matches()) {
                    ids.add(entry.substring(0, colon));
                }
            }
            return ids;
        }

        /** With a bad memcachedNodes, still report failover ids that are named nowhere. */
        private void checkFailoverIdsAgainst(List<String> known) {
            String v = value(FAILOVER_NODES);
            if (v == null) {
                return;
            }
            List<String> unknown = new ArrayList<>();
            for (String id : LIST_SEPARATOR.split(v)) {
                if (!id.isEmpty() && !known.contains(id)) {
                    unknown.add(id);
                }
            }
            if (!unknown.isEmpty()) {
                problem(FAILOVER_NODES, "unknown node id" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
                        + " (memcachedNodes names " + (known.isEmpty() ? "no valid id" : String.join(", ", known))
                        + ")");
            }
        }

        private void parseFailoverNodes() {
            String v = value(FAILOVER_NODES);
            if (v == null) {
                nodes = List.copyOf(nodes);
                return;
            }
            if (!nodeIdsInSessionIds) {
                problem(FAILOVER_NODES, "needs node ids: write memcachedNodes as <id>:<host>:<port>,...");
                return;
            }
            Set<String> failover = new LinkedHashSet<>();
            List<String> unknown = new ArrayList<>();
            for (String id : LIST_SEPARATOR.split(v)) {
                if (id.isEmpty()) {
                    continue;
                }
                if (!NODE_ID.matcher(id).matches() || nodes.stream().noneMatch(n -> n.id().equals(id))) {
                    unknown.add(id);
                } else {
                    failover.add(id);
                }
            }
            if (!unknown.isEmpty()) {
                List<String> known = new ArrayList<>();
                nodes.forEach(n -> known.add(n.id()));
                problem(FAILOVER_NODES, "unknown node id" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
                        + " (memcachedNodes has " + String.join(", ", known) + ")");
                return;
            }
            if (failover.size() == nodes.size()) {
                problem(FAILOVER_NODES, "every node is a failover node; at least one node must be primary");
                return;
            }
            List<MemcachedNode> marked = new ArrayList<>();
            for (MemcachedNode n : nodes) {
                marked.add(failover.contains(n.id()) ? n.asFailover() : n);
            }
            nodes = List.copyOf(marked);
        }

        private void parseLockingMode() {
            lockingMode = DEFAULT_LOCKING_MODE;
            String v = value(LOCKING_MODE);
            if (v == null) {
                return;
            }
            if (v.startsWith("uriPattern:")) {
                String regex = v.substring("uriPattern:".length());
                if (regex.isEmpty()) {
                    problem(LOCKING_MODE, "uriPattern: needs a regular expression, e.g. uriPattern:/cart/.*");
                    return;
                }
                lockingUriPattern = compile(LOCKING_MODE, regex, "uriPattern: ");
                lockingMode = LockingMode.URI_PATTERN;
                return;
            }
            switch (v.toLowerCase(Locale.ROOT)) {
                case "none": lockingMode = LockingMode.NONE; break;
                case "all": lockingMode = LockingMode.ALL; break;
                case "auto": lockingMode = LockingMode.AUTO; break;
                default: problem(LOCKING_MODE, "expected none, all, auto or uriPattern:<regex>");
            }
        }

        private void parseLockFailure() {
            lockFailure = DEFAULT_LOCK_FAILURE;
            String v = value(LOCK_FAILURE);
            if (v == null) {
                return;
            }
            switch (v.toLowerCase(Locale.ROOT)) {
                case "proceed": lockFailure = LockFailure.PROCEED; break;
                case "fail": lockFailure = LockFailure.FAIL; break;
                default: problem(LOCK_FAILURE, "expected proceed or fail");
            }
        }

        private void parseLegacySessions() {
            legacySessions = DEFAULT_LEGACY_SESSIONS;
            String v = value(LEGACY_SESSIONS);
            if (v == null) {
                return;
            }
            switch (v.toLowerCase(Locale.ROOT)) {
                case "off": legacySessions = LegacySessions.OFF; break;
                case "read": legacySessions = LegacySessions.READ; break;
                case "readwrite": legacySessions = LegacySessions.READ_WRITE; break;
                default: problem(LEGACY_SESSIONS, "expected off, read or readWrite");
            }
            if (legacySessions == LegacySessions.READ_WRITE && sessionProtection != SessionProtection.NONE) {
                problem(LEGACY_SESSIONS, "not with " + SESSION_PROTECTION + "=\"" + value(SESSION_PROTECTION)
                        + "\": memcached-session-manager reads neither signed or encrypted sessions nor hashed keys "
                        + "(turn protection on once the switch is over, with " + LEGACY_SESSIONS + "=\"off\")");
            }
            String transcoder = value(TRANSCODER_FACTORY_CLASS);
            if (legacySessions == LegacySessions.READ_WRITE && transcoder != null
                    && transcoder.startsWith("de.javakaffee.")
                    && !DEFAULT_TRANSCODER_FACTORY_CLASS.equals(ANCHOR_TRANSCODER_ALIASES.get(transcoder))) {
                problem(LEGACY_SESSIONS, "not with " + TRANSCODER_FACTORY_CLASS + "=\"" + transcoder + "\": the old "
                        + "manager's Tomcats read attributes only in that serializer's format, and delete a session whose "
                        + "attributes they cannot read, while readWrite stores them with Java serialization (switch the "
                        + "old cluster to de.javakaffee.web.msm.JavaSerializationTranscoderFactory first, or use "
                        + LEGACY_SESSIONS + "=\"read\")");
            }
            if (legacySessions != LegacySessions.OFF && storageKeyPrefix != null) {
                try { // the old manager's rules: it refused to start with other tokens, so it never stored under them
                    io.msm.anchor.AnchorKeys.of(storageKeyPrefix.toString(), "host", "/context", "");
                } catch (IllegalArgumentException e) {
                    problem(STORAGE_KEY_PREFIX, "with " + LEGACY_SESSIONS + "=\"" + v + "\" it must be one "
                            + "memcached-session-manager accepted (" + e.getMessage() + ")");
                }
            }
        }

        private void parseTranscoder() {
            String v = value(TRANSCODER_FACTORY_CLASS);
            transcoderFactoryClass = v == null ? DEFAULT_TRANSCODER_FACTORY_CLASS : v;
            String alias = ANCHOR_TRANSCODER_ALIASES.get(transcoderFactoryClass);
            if (alias != null) {
                warnings.add(TRANSCODER_FACTORY_CLASS + "=\"" + transcoderFactoryClass
                        + "\" is memcached-session-manager's class; using msm's " + alias + " (update context.xml)");
                transcoderFactoryClass = alias;
            }
            Class<?> c = loadClass(TRANSCODER_FACTORY_CLASS, transcoderFactoryClass);
            if (c == null) {
                return;
            }
            if (!TranscoderFactory.class.isAssignableFrom(c)) {
                problem(TRANSCODER_FACTORY_CLASS, c.getName() + " does not implement " + TranscoderFactory.class.getName());
                return;
            }
            try {
                c.getConstructor();
            } catch (NoSuchMethodException e) {
                problem(TRANSCODER_FACTORY_CLASS, c.getName() + " has no public no-argument constructor");
            }
        }

        private void parseCustomConverters() {
            String v = value(CUSTOM_CONVERTER);
            if (v == null) {
                return;
            }
            List<String> names = new ArrayList<>();
            for (String name : LIST_SEPARATOR.split(v)) {
                if (!name.isEmpty()) {
                    names.add(name);
                }
            }
            List<String> missing = new ArrayList<>();
            for (String name : names) {
                if (loadClassQuietly(name) == null) {
                    missing.add(name);
                }
            }
            if (!missing.isEmpty()) {
                problem(CUSTOM_CONVERTER, "class" + (missing.size() > 1 ? "es " : " ") + String.join(", ", missing)
                        + " not found by the webapp class loader");
            }
            customConverters = List.copyOf(names);
        }

        private Class<?> loadClass(String attribute, String name) {
            Class<?> c = loadClassQuietly(name);
            if (c == null) {
                problem(attribute, "class " + name + " not found by the webapp class loader");
            }
            return c;
        }

        private Class<?> loadClassQuietly(String name) {
            try {
                return Class.forName(name, false, classLoader);
            } catch (ClassNotFoundException | LinkageError e) {
                return null;
            }
        }

        private void parseProtocolAndCredentials() {
            protocol = DEFAULT_MEMCACHED_PROTOCOL;
            String v = value(MEMCACHED_PROTOCOL);
            if (v != null) {
                switch (v.toLowerCase(Locale.ROOT)) {
                    case "text": protocol = MemcachedProtocol.TEXT; break;
                    case "binary": protocol = MemcachedProtocol.BINARY; break;
                    default: problem(MEMCACHED_PROTOCOL, "expected text or binary");
                }
            }
            username = value(USERNAME);
            password = raw.get(PASSWORD) == null || raw.get(PASSWORD).isEmpty() ? null : raw.get(PASSWORD);
            if (username != null || password != null) {
                if (v != null && protocol != MemcachedProtocol.BINARY) {
                    problem(MEMCACHED_PROTOCOL, "SASL (username/password) needs memcachedProtocol=\"binary\"");
                } else if (v == null) {
                    problems.add(MEMCACHED_PROTOCOL + " (not set, text): SASL (username/password) needs "
                            + "memcachedProtocol=\"binary\"");
                }
                if (username == null) {
                    problems.add(USERNAME + " (not set): a password is configured, so a username is needed too");
                }
                if (password == null) {
                    problems.add(PASSWORD + " (not set): a username is configured, so a password is needed too");
                }
            }
        }

        private void parseStorageKeyPrefix() {
            String v = raw.get(STORAGE_KEY_PREFIX);
            Object parsed = StorageKeyPrefix.parse(v == null ? StorageKeyPrefix.DEFAULT : v);
            if (parsed instanceof StorageKeyPrefix) {
                storageKeyPrefix = (StorageKeyPrefix) parsed;
            } else {
                problem(STORAGE_KEY_PREFIX, (String) parsed);
            }
        }

        private void parseMaxInactiveInterval() {
            String v = value(MAX_INACTIVE_INTERVAL);
            if (v == null) {
                return;
            }
            try {
                maxInactiveInterval = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                problem(MAX_INACTIVE_INTERVAL, "expected a whole number of seconds (<= 0: never expire)");
            }
        }

        private void parseDeserializationFilter() {
            deserializationFilter = value(DESERIALIZATION_FILTER);
            if (deserializationFilter == null) {
                return;
            }
            try {
                java.io.ObjectInputFilter.Config.createFilter(deserializationFilter);
            } catch (IllegalArgumentException e) {
                problem(DESERIALIZATION_FILTER, "not a valid JEP 290 filter pattern (" + e.getMessage()
                        + "), e.g. com.example.**;java.base/*;!*");
                deserializationFilter = null;
            }
        }

        private void parseSessionProtection() {
            sessionProtection = DEFAULT_SESSION_PROTECTION;
            String v = value(SESSION_PROTECTION);
            if (v != null) {
                switch (v.toLowerCase(Locale.ROOT)) {
                    case "none": sessionProtection = SessionProtection.NONE; break;
                    case "sign": sessionProtection = SessionProtection.SIGN; break;
                    case "encrypt": sessionProtection = SessionProtection.ENCRYPT; break;
                    default: problem(SESSION_PROTECTION, "expected none, sign or encrypt");
                }
            }
            String inline = raw.get(SESSION_KEYS) == null || raw.get(SESSION_KEYS).isBlank() ? null : raw.get(SESSION_KEYS);
            sessionKeyFile = value(SESSION_KEY_FILE);
            if (inline != null && sessionKeyFile != null) {
                problems.add(SESSION_KEYS + " and " + SESSION_KEY_FILE + " are both set: use one of them");
                return;
            }
            List<byte[]> keys = new ArrayList<>();
            if (inline != null) {
                parseKeys(SESSION_KEYS + " (value not shown)", List.of(LIST_SEPARATOR.split(inline.trim())), keys);
            } else if (sessionKeyFile != null) {
                readKeyFile(keys);
            }
            boolean keysGiven = inline != null || sessionKeyFile != null;
            if (sessionProtection == SessionProtection.NONE) {
                if (keysGiven) {
                    problems.add((v == null ? SESSION_PROTECTION + " (not set, none)" : SESSION_PROTECTION + "=\"" + v
                            + "\"") + ": keys are configured (" + (inline != null ? SESSION_KEYS : SESSION_KEY_FILE)
                            + "), so set sessionProtection=\"sign\" or \"encrypt\" (or remove the keys)");
                }
                return;
            }
            if (!keysGiven) {
                problem(SESSION_PROTECTION, "needs keys: set " + SESSION_KEYS + " (base64, e.g. from `openssl rand"
                        + " -base64 32`) or " + SESSION_KEY_FILE);
                return;
            }
            sessionKeys = List.copyOf(keys);
        }

        private void readKeyFile(List<byte[]> keys) {
            java.nio.file.Path file = java.nio.file.Path.of(sessionKeyFile);
            String base = System.getProperty("catalina.base");
            if (!file.isAbsolute() && base != null) {
                file = java.nio.file.Path.of(base).resolve(file);
            }
            List<String> lines;
            try {
                lines = java.nio.file.Files.readAllLines(file, java.nio.charset.StandardCharsets.US_ASCII);
            } catch (java.io.IOException | RuntimeException e) {
                problem(SESSION_KEY_FILE, "cannot read " + file.toAbsolutePath() + " (" + e.getClass().getSimpleName()
                        + ")");
                return;
            }
            List<String> entries = new ArrayList<>();
            for (String line : lines) {
                String t = line.trim();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    entries.add(t);
                }
            }
            parseKeys(SESSION_KEY_FILE + "=\"" + sessionKeyFile + "\"", entries, keys);
            try {
                Set<java.nio.file.attribute.PosixFilePermission> perms = java.nio.file.Files.getPosixFilePermissions(file);
                if (perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)) {
                    warnings.add(SESSION_KEY_FILE + "=\"" + sessionKeyFile + "\" is readable by every user of this "
                            + "machine; chmod o-r it");
                }
            } catch (java.io.IOException | UnsupportedOperationException e) {
                // not a POSIX file system: nothing to check
            }
        }

        /** Decodes base64 keys; problems name the key's position, never its value. */
        private void parseKeys(String what, List<String> entries, List<byte[]> keys) {
            if (entries.isEmpty()) {
                problems.add(what + ": no key found (one base64 key per entry, at least "
                        + io.msm.codec.BlobSealer.MIN_KEY_BYTES + " bytes)");
                return;
            }
            List<String> bad = new ArrayList<>();
            Set<String> seen = new java.util.HashSet<>();
            for (int i = 0; i < entries.size(); i++) {
                String where = "key " + (i + 1) + " of " + entries.size();
                byte[] k;
                try {
                    k = java.util.Base64.getDecoder().decode(entries.get(i));
                } catch (IllegalArgumentException e) {
                    bad.add(where + " is not base64");
                    continue;
                }
                if (k.length < io.msm.codec.BlobSealer.MIN_KEY_BYTES) {
                    bad.add(where + " has " + k.length + " bytes, at least " + io.msm.codec.BlobSealer.MIN_KEY_BYTES
                            + " are needed (e.g. `openssl rand -base64 32`)");
                    continue;
                }
                if (!seen.add(entries.get(i))) {
                    bad.add(where + " repeats an earlier key");
                    continue;
                }
                keys.add(k);
            }
            if (!bad.isEmpty()) {
                problems.add(what + ": " + String.join("; ", bad));
            }
        }

        private void addWarnings() {
            if (!problems.isEmpty()) {
                return;
            }
            // lockingMode="none" is what sticky mode does anyway: nothing to warn about
            if (sticky && (lockingMode != LockingMode.NONE || value(LOCK_EXPIRATION) != null
                    || value(LOCK_FAILURE) != null)) {
                warnings.add(LOCKING_MODE + "/" + LOCK_EXPIRATION + "/" + LOCK_FAILURE + " only apply with sticky=\"false\";"
                        + " ignored in sticky mode");
            }
            if (!sessionBackupAsync && sessionBackupTimeout > operationTimeout) {
                warnings.add(SESSION_BACKUP_TIMEOUT + "=\"" + sessionBackupTimeout + "\" is above " + OPERATION_TIMEOUT
                        + "=\"" + operationTimeout + "\"; a request may wait up to " + sessionBackupTimeout
                        + " ms for its backup");
            }
            if ((!sticky || !sessionBackupAsync) && minBackupInterval > 0 && value(MIN_BACKUP_INTERVAL) != null) {
                warnings.add(MIN_BACKUP_INTERVAL + "=\"" + minBackupInterval + "\" only applies to sticky sessions with "
                        + SESSION_BACKUP_ASYNC + "=\"true\"; ignored");
            }
            if (sticky && value(IDLE_SESSION_CACHE) != null) {
                warnings.add(IDLE_SESSION_CACHE + " only applies with sticky=\"false\"; ignored in sticky mode (every"
                        + " session stays in this Tomcat's memory)");
            }
            if (legacySessions != LegacySessions.OFF && sessionProtection != SessionProtection.NONE) {
                warnings.add(LEGACY_SESSIONS + "=\"" + value(LEGACY_SESSIONS) + "\" with " + SESSION_PROTECTION + "=\""
                        + value(SESSION_PROTECTION) + "\": sessions memcached-session-manager stored are read although "
                        + "they are neither signed nor encrypted (whoever can write to memcached can log in as anyone "
                        + "through them); set " + LEGACY_SESSIONS + "=\"off\" once the switch is over");
            }
            if (sessionBackupAsync && value(SESSION_BACKUP_TIMEOUT) != null) {
                warnings.add(SESSION_BACKUP_TIMEOUT + " only applies with " + SESSION_BACKUP_ASYNC
                        + "=\"false\"; asynchronous backups wait up to " + OPERATION_TIMEOUT + "=\"" + operationTimeout
                        + "\" on the backup threads");
            }
        }
    }
}
