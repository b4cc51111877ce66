package io.msm.spring.boot;

import io.msm.config.InvalidConfigurationException;
import io.msm.config.MsmConfig;
import io.msm.tomcat.MemcachedSessionManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.util.unit.DataSize;

/**
 * {@link MsmProperties} as the {@code <Manager>} attribute strings msm reads, checked at once: every bad property is
 * reported in one {@link MsmPropertiesException}, named as the application wrote it ({@code msm.memcached-nodes}).
 */
final class ManagerAttributes {

    private final Map<String, String> attributes = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();

    private ManagerAttributes() {
    }

    /**
     * The attributes of {@code p}, validated as msm validates a {@code <Manager>} at its start.
     *
     * @throws MsmPropertiesException naming every bad property and its value
     */
    static ManagerAttributes validated(MsmProperties p, ClassLoader classLoader) {
        return validated(p, List.of(), classLoader);
    }

    /** {@link #validated(MsmProperties, ClassLoader)}, with problems found elsewhere (unknown properties) first. */
    static ManagerAttributes validated(MsmProperties p, List<String> otherProblems, ClassLoader classLoader) {
        ManagerAttributes a = new ManagerAttributes();
        a.problems.addAll(otherProblems);
        a.collect(p);
        MsmConfig.Builder b = MsmConfig.builder();
        a.attributes.forEach(b::set);
        try {
            b.build(classLoader);
        } catch (InvalidConfigurationException e) {
            for (String problem : e.problems()) {
                a.problems.add(inPropertyNames(problem));
            }
        }
        if (!a.problems.isEmpty()) {
            throw new MsmPropertiesException(a.problems);
        }
        return a;
    }

    /** Sets every attribute on {@code manager}. */
    void applyTo(MemcachedSessionManager manager) {
        attributes.forEach(manager::setConfigAttribute);
    }

    Map<String, String> attributes() {
        return Collections.unmodifiableMap(attributes);
    }

    private void collect(MsmProperties p) {
        put(MsmConfig.MEMCACHED_NODES, p.getMemcachedNodes() == null ? null : String.join(",", p.getMemcachedNodes()));
        put(MsmConfig.FAILOVER_NODES, p.getFailoverNodes());
        seconds(MsmConfig.DISCOVERY_INTERVAL, p.getDiscoveryInterval());
        put(MsmConfig.STICKY, p.getSticky());
        put(MsmConfig.LOCKING_MODE, p.getLockingMode());
        seconds(MsmConfig.LOCK_EXPIRATION, p.getLockExpiration());
        put(MsmConfig.LOCK_FAILURE, p.getLockFailure());
        millis(MsmConfig.OPERATION_TIMEOUT, p.getOperationTimeout());
        put(MsmConfig.REQUEST_URI_IGNORE_PATTERN, p.getRequestUriIgnorePattern());
        put(MsmConfig.SESSION_ATTRIBUTE_FILTER, p.getSessionAttributeFilter());
        put(MsmConfig.SESSION_BACKUP_ASYNC, p.getSessionBackupAsync());
        put(MsmConfig.BACKUP_THREAD_COUNT, p.getBackupThreadCount());
        millis(MsmConfig.SESSION_BACKUP_TIMEOUT, p.getSessionBackupTimeout());
        put(MsmConfig.TRANSCODER_FACTORY_CLASS, p.getTranscoderFactoryClass());
        put(MsmConfig.COPY_COLLECTIONS_FOR_SERIALIZATION, p.getCopyCollectionsForSerialization());
        put(MsmConfig.CUSTOM_CONVERTER, p.getCustomConverter());
        put(MsmConfig.ENABLE_STATISTICS, p.getEnableStatistics());
        put(MsmConfig.MEMCACHED_PROTOCOL, p.getMemcachedProtocol());
        put(MsmConfig.USERNAME, p.getUsername());
        put(MsmConfig.PASSWORD, p.getPassword());
        put(MsmConfig.TLS, p.getTls());
        put(MsmConfig.TLS_TRUST_STORE, p.getTlsTrustStore());
        put(MsmConfig.TLS_TRUST_STORE_PASSWORD, p.getTlsTrustStorePassword());
        put(MsmConfig.TLS_KEY_STORE, p.getTlsKeyStore());
        put(MsmConfig.TLS_KEY_STORE_PASSWORD, p.getTlsKeyStorePassword());
        put(MsmConfig.STORAGE_KEY_PREFIX, p.getStorageKeyPrefix());
        seconds(MsmConfig.MAX_INACTIVE_INTERVAL, p.getMaxInactiveInterval());
        put(MsmConfig.DESERIALIZATION_FILTER, p.getDeserializationFilter());
        put(MsmConfig.SESSION_PROTECTION, p.getSessionProtection());
        put(MsmConfig.SESSION_KEYS, p.getSessionKeys());
        put(MsmConfig.SESSION_KEY_FILE, p.getSessionKeyFile());
        bytes(MsmConfig.COMPRESSION_THRESHOLD, p.getCompressionThreshold());
        bytes(MsmConfig.MAX_ATTRIBUTE_SIZE, p.getMaxAttributeSize());
        millis(MsmConfig.MIN_BACKUP_INTERVAL, p.getMinBackupInterval());
        put(MsmConfig.IDLE_SESSION_CACHE, p.getIdleSessionCache());
        put(MsmConfig.LEGACY_SESSIONS, p.getLegacySessions());
    }

    private void put(String attribute, Object value) {
        if (value != null) {
            attributes.put(attribute, value.toString());
        }
    }

    private void millis(String attribute, Duration d) {
        if (d == null) {
            return;
        }
        if (d.getNano() % 1_000_000 != 0) {
            problems.add(propertyName(attribute) + "=" + d + ": expected whole milliseconds");
        } else if (d.abs().getSeconds() > Integer.MAX_VALUE / 1000) {
            problems.add(propertyName(attribute) + "=" + d + ": too long");
        } else {
            put(attribute, d.toMillis());
        }
    }

    private void seconds(String attribute, Duration d) {
        if (d == null) {
            return;
        }
        if (d.getNano() != 0) {
            problems.add(propertyName(attribute) + "=" + d + ": expected whole seconds");
        } else if (d.abs().getSeconds() > Integer.MAX_VALUE) {
            problems.add(propertyName(attribute) + "=" + d + ": too long");
        } else {
            put(attribute, d.getSeconds());
        }
    }

    private void bytes(String attribute, DataSize size) {
        if (size == null) {
            return;
        }
        if (size.toBytes() > Integer.MAX_VALUE) {
            problems.add(propertyName(attribute) + "=" + size + ": expected at most " + Integer.MAX_VALUE + "B");
            return;
        }
        put(attribute, size.toBytes());
    }

    /** {@code memcachedNodes} -> {@code msm.memcached-nodes}. */
    static String propertyName(String attribute) {
        StringBuilder sb = new StringBuilder("msm.");
        for (char c : attribute.toCharArray()) {
            if (Character.isUpperCase(c)) {
                sb.append('-').append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * msm's problem text with each attribute name it starts with or refers to ({@code memcachedNodes="x": ...},
     * {@code username (not set): ...}, {@code sessionKeys and sessionKeyFile are both set}) as its property name.
     */
    static String inPropertyNames(String problem) {
        String s = problem;
        for (String attribute : MsmConfig.ATTRIBUTES) {
            Matcher m = Pattern.compile("(?<![\\w.-])" + attribute + "(?=(=\"| \\(| and | are |: |:$))").matcher(s);
            s = m.replaceAll(Matcher.quoteReplacement(propertyName(attribute)));
        }
        return s;
    }
}
