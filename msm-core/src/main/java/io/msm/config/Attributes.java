package io.msm.config;

import static io.msm.config.Attribute.bool;
import static io.msm.config.Attribute.choice;
import static io.msm.config.Attribute.nonNegativeInt;
import static io.msm.config.Attribute.positiveInt;
import static io.msm.config.Attribute.regex;

import io.msm.anchor.AnchorKeys;
import io.msm.config.Attribute.Text;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Every attribute of the {@code <Manager>} element, each declared once, in the order of README's configuration
 * reference (the order they are read in: a reader may use the values of the attributes above it).
 */
final class Attributes {

    /** The value of {@code lockingMode}: the mode and, for {@code uriPattern:<regex>}, its pattern. */
    static final class Locking {
        final LockingMode mode;
        final Pattern uriPattern;

        Locking(LockingMode mode, Pattern uriPattern) {
            this.mode = mode;
            this.uriPattern = uriPattern;
        }

        @Override
        public String toString() {
            return mode + (uriPattern == null ? "" : ":" + uriPattern);
        }
    }

    static final Attribute<NodeList> MEMCACHED_NODES = Attribute.of(MsmConfig.MEMCACHED_NODES, NodeList::none,
            "(required)", NodeList::read).readsUnset();
    /** Read with {@code memcachedNodes}; its value is only shown. */
    static final Attribute<String> FAILOVER_NODES = Attribute.of(MsmConfig.FAILOVER_NODES, (String) null, (t, r) -> t);
    /** Seconds between two questions for the nodes, with {@code memcachedNodes="discover:..."} or {@code "dns:..."}. */
    static final Attribute<Integer> DISCOVERY_INTERVAL = Attribute.of(MsmConfig.DISCOVERY_INTERVAL, 30,
            Attributes::discoveryInterval).shown(v -> v + "s");
    private static final Attribute<Integer> DISCOVERY_INTERVAL_VALUES = positiveInt(MsmConfig.DISCOVERY_INTERVAL, 30,
            "seconds");
    static final Attribute<Boolean> STICKY = bool(MsmConfig.STICKY, true);
    static final Attribute<Locking> LOCKING_MODE = Attribute.of(MsmConfig.LOCKING_MODE,
            () -> new Locking(LockingMode.NONE, null), "`none`", Attributes::locking);
    /** Seconds a non-sticky lock lives in memcached if its owner dies. */
    static final Attribute<Integer> LOCK_EXPIRATION = positiveInt(MsmConfig.LOCK_EXPIRATION, 5, "seconds")
            .shown(v -> v + "s");
    static final Attribute<LockFailure> LOCK_FAILURE = choice(MsmConfig.LOCK_FAILURE, LockFailure.PROCEED,
            Map.of("proceed", LockFailure.PROCEED, "fail", LockFailure.FAIL), "proceed or fail")
            .shown(v -> v.name().toLowerCase(Locale.ROOT));
    static final Attribute<Integer> OPERATION_TIMEOUT = positiveInt(MsmConfig.OPERATION_TIMEOUT,
            MsmConfig.DEFAULT_OPERATION_TIMEOUT_MILLIS, "milliseconds").shown(v -> v + "ms");
    static final Attribute<Pattern> REQUEST_URI_IGNORE_PATTERN = regex(MsmConfig.REQUEST_URI_IGNORE_PATTERN);
    static final Attribute<Pattern> SESSION_ATTRIBUTE_FILTER = regex(MsmConfig.SESSION_ATTRIBUTE_FILTER);
    static final Attribute<Boolean> SESSION_BACKUP_ASYNC = bool(MsmConfig.SESSION_BACKUP_ASYNC, true);
    static final Attribute<Integer> BACKUP_THREAD_COUNT = positiveInt(MsmConfig.BACKUP_THREAD_COUNT, 1, "threads")
            .defaultsTo(() -> Runtime.getRuntime().availableProcessors(), "number of CPUs");
    /** Milliseconds a synchronous backup ({@code sessionBackupAsync="false"}) waits for memcached. */
    static final Attribute<Integer> SESSION_BACKUP_TIMEOUT = positiveInt(MsmConfig.SESSION_BACKUP_TIMEOUT, 100,
            "milliseconds").shown(v -> v + "ms");
    static final Attribute<String> TRANSCODER_FACTORY_CLASS = Attribute.of(MsmConfig.TRANSCODER_FACTORY_CLASS,
            MsmConfig.DEFAULT_TRANSCODER_FACTORY_CLASS, ClassNames::transcoderFactory).readsUnset();
    static final Attribute<Boolean> COPY_COLLECTIONS_FOR_SERIALIZATION =
            bool(MsmConfig.COPY_COLLECTIONS_FOR_SERIALIZATION, false);
    static final Attribute<List<String>> CUSTOM_CONVERTER = Attribute.<List<String>>of(MsmConfig.CUSTOM_CONVERTER,
            List::of, "none", ClassNames::customConverters);
    static final Attribute<Boolean> ENABLE_STATISTICS = bool(MsmConfig.ENABLE_STATISTICS, true);
    static final Attribute<MemcachedProtocol> MEMCACHED_PROTOCOL = choice(MsmConfig.MEMCACHED_PROTOCOL,
            MemcachedProtocol.TEXT, Map.of("text", MemcachedProtocol.TEXT, "binary", MemcachedProtocol.BINARY),
            "text or binary").shown(v -> v.name().toLowerCase(Locale.ROOT));
    static final Attribute<String> USERNAME = Attribute.of(MsmConfig.USERNAME, (String) null, (t, r) -> t);
    static final Attribute<String> PASSWORD = Attribute.of(MsmConfig.PASSWORD, (String) null, Attributes::password)
            .text(Text.AS_WRITTEN).readsUnset().secret();
    static final Attribute<TlsSettings> TLS = Attribute.of(MsmConfig.TLS, () -> TlsSettings.OFF, "`false`",
            TlsSettings::read).readsUnset();
    /** Read with {@code tls}; only shown. */
    static final Attribute<String> TLS_TRUST_STORE = Attribute.of(MsmConfig.TLS_TRUST_STORE, () -> null,
            "the JVM's trust store", (t, r) -> t);
    /** Read with {@code tls}; never shown. */
    static final Attribute<String> TLS_TRUST_STORE_PASSWORD = Attribute.of(MsmConfig.TLS_TRUST_STORE_PASSWORD,
            (String) null, (t, r) -> t).text(Text.AS_WRITTEN).secret();
    /** Read with {@code tls}; only shown. */
    static final Attribute<String> TLS_KEY_STORE = Attribute.of(MsmConfig.TLS_KEY_STORE, (String) null, (t, r) -> t);
    /** Read with {@code tls}; never shown. */
    static final Attribute<String> TLS_KEY_STORE_PASSWORD = Attribute.of(MsmConfig.TLS_KEY_STORE_PASSWORD,
            (String) null, (t, r) -> t).text(Text.AS_WRITTEN).secret();
    static final Attribute<StorageKeyPrefix> STORAGE_KEY_PREFIX = Attribute.of(MsmConfig.STORAGE_KEY_PREFIX,
            () -> StorageKeyPrefix.of(StorageKeyPrefix.DEFAULT), "`" + StorageKeyPrefix.DEFAULT + "`",
            Attributes::storageKeyPrefix).text(Text.EVEN_EMPTY);
    static final Attribute<Boolean> ENABLED = bool(MsmConfig.ENABLED, true);
    /** Seconds; {@code null}: the context's session timeout. */
    static final Attribute<Integer> MAX_INACTIVE_INTERVAL = Attribute.of(MsmConfig.MAX_INACTIVE_INTERVAL,
            () -> null, "the context's session timeout", Attributes::maxInactiveInterval);
    static final Attribute<String> DESERIALIZATION_FILTER = Attribute.of(MsmConfig.DESERIALIZATION_FILTER,
            () -> null, "none (msm's built-in filter alone)", Attributes::deserializationFilter);
    static final Attribute<SessionProtection> SESSION_PROTECTION = choice(MsmConfig.SESSION_PROTECTION,
            SessionProtection.NONE, Map.of("none", SessionProtection.NONE, "sign", SessionProtection.SIGN,
                    "encrypt", SessionProtection.ENCRYPT), "none, sign or encrypt")
            .shown(v -> v.name().toLowerCase(Locale.ROOT));
    static final Attribute<List<byte[]>> SESSION_KEYS = Attribute.<List<byte[]>>of(MsmConfig.SESSION_KEYS, List::of, "none",
            SessionKeys::read).text(Text.AS_WRITTEN).readsUnset()
            .shown(v -> v.isEmpty() ? null : v.size() + " key(s), not shown");
    static final Attribute<String> SESSION_KEY_FILE = Attribute.of(MsmConfig.SESSION_KEY_FILE, (String) null,
            (t, r) -> t);
    /** Bytes: blobs this large or larger are deflated (memcached refuses items over 1 MB by default). */
    static final Attribute<Integer> COMPRESSION_THRESHOLD = nonNegativeInt(MsmConfig.COMPRESSION_THRESHOLD,
            MsmConfig.DEFAULT_COMPRESSION_THRESHOLD, "bytes (0: never compress)");
    static final Attribute<Integer> MAX_ATTRIBUTE_SIZE = nonNegativeInt(MsmConfig.MAX_ATTRIBUTE_SIZE, 0,
            "bytes (0: no limit)").defaultsTo(() -> 0, "`0` (no limit)");
    /**
     * Milliseconds; 0: a session's next backup starts as soon as its previous one ends. 10: a session changed by
     * thousands of requests a second is serialized at most 100 times a second, while a user's clicks (far more than
     * 10 ms apart) are each backed up at once.
     */
    static final Attribute<Integer> MIN_BACKUP_INTERVAL = nonNegativeInt(MsmConfig.MIN_BACKUP_INTERVAL, 10,
            "milliseconds (0: no minimum)").shown(v -> v + "ms");
    /** Sessions; 0: every non-sticky load deserializes. */
    static final Attribute<Integer> IDLE_SESSION_CACHE = nonNegativeInt(MsmConfig.IDLE_SESSION_CACHE, 1000,
            "sessions (0: none)");
    /** The values of {@code legacySessions}; its reader adds the rules it must meet. */
    private static final Attribute<LegacySessions> LEGACY_SESSIONS_VALUES = choice(MsmConfig.LEGACY_SESSIONS,
            LegacySessions.OFF, Map.of("off", LegacySessions.OFF, "read", LegacySessions.READ, "readwrite",
                    LegacySessions.READ_WRITE), "off, read or readWrite");
    static final Attribute<LegacySessions> LEGACY_SESSIONS = Attribute.of(MsmConfig.LEGACY_SESSIONS,
            LegacySessions.OFF, Attributes::legacySessions).shown(LegacySessions::attributeValue);

    /** Every attribute, in README's order. */
    static final List<Attribute<?>> ALL = List.of(MEMCACHED_NODES, FAILOVER_NODES, DISCOVERY_INTERVAL, STICKY, LOCKING_MODE,
            LOCK_EXPIRATION, LOCK_FAILURE, OPERATION_TIMEOUT, REQUEST_URI_IGNORE_PATTERN, SESSION_ATTRIBUTE_FILTER,
            SESSION_BACKUP_ASYNC, BACKUP_THREAD_COUNT, SESSION_BACKUP_TIMEOUT, TRANSCODER_FACTORY_CLASS,
            COPY_COLLECTIONS_FOR_SERIALIZATION, CUSTOM_CONVERTER, ENABLE_STATISTICS, MEMCACHED_PROTOCOL, USERNAME,
            PASSWORD, TLS, TLS_TRUST_STORE, TLS_TRUST_STORE_PASSWORD, TLS_KEY_STORE, TLS_KEY_STORE_PASSWORD,
            STORAGE_KEY_PREFIX, ENABLED, MAX_INACTIVE_INTERVAL, DESERIALIZATION_FILTER, SESSION_PROTECTION,
            SESSION_KEYS, SESSION_KEY_FILE, COMPRESSION_THRESHOLD, MAX_ATTRIBUTE_SIZE, MIN_BACKUP_INTERVAL,
            IDLE_SESSION_CACHE, LEGACY_SESSIONS);

    private Attributes() {
    }

    static List<String> names() {
        List<String> names = new ArrayList<>();
        ALL.forEach(a -> names.add(a.name));
        return List.copyOf(names);
    }

    private static Locking locking(String t, Reading r) {
        if (t.startsWith("uriPattern:")) {
            String regex = t.substring("uriPattern:".length());
            if (regex.isEmpty()) {
                r.problem(MsmConfig.LOCKING_MODE, "uriPattern: needs a regular expression, e.g. uriPattern:/cart/.*");
                return null;
            }
            Pattern p = Attribute.compile(regex, r, MsmConfig.LOCKING_MODE, "uriPattern: ");
            return new Locking(LockingMode.URI_PATTERN, p);
        }
        switch (t.toLowerCase(Locale.ROOT)) {
            case "none": return new Locking(LockingMode.NONE, null);
            case "all": return new Locking(LockingMode.ALL, null);
            case "auto": return new Locking(LockingMode.AUTO, null);
            default:
                r.problem(MsmConfig.LOCKING_MODE, "expected none, all, auto or uriPattern:<regex>");
                return null;
        }
    }

    private static Integer discoveryInterval(String t, Reading r) {
        if (!NodeList.isDiscovery(r.text(MsmConfig.MEMCACHED_NODES))) {
            r.problem(MsmConfig.DISCOVERY_INTERVAL, "only used with memcachedNodes=\"discover:<host>:<port>\" or"
                    + " \"dns:<name>:<port>\"");
            return null;
        }
        return DISCOVERY_INTERVAL_VALUES.read(t, r);
    }

    /** The password as written, and SASL's rules for the credentials (checked whether they are set or not). */
    private static String password(String password, Reading r) {
        String username = r.value(USERNAME);
        if (username != null || password != null) {
            String protocol = r.text(MsmConfig.MEMCACHED_PROTOCOL);
            if (protocol != null && r.value(MEMCACHED_PROTOCOL) != MemcachedProtocol.BINARY) {
                r.problem(MsmConfig.MEMCACHED_PROTOCOL, "SASL (username/password) needs memcachedProtocol=\"binary\"");
            } else if (protocol == null) {
                r.problems.add(MsmConfig.MEMCACHED_PROTOCOL + " (not set, text): SASL (username/password) needs "
                        + "memcachedProtocol=\"binary\"");
            }
            if (username == null) {
                r.problems.add(MsmConfig.USERNAME + " (not set): a password is configured, so a username is needed too");
            }
            if (password == null) {
                r.problems.add(MsmConfig.PASSWORD + " (not set): a username is configured, so a password is needed too");
            }
        }
        return password;
    }

    private static StorageKeyPrefix storageKeyPrefix(String t, Reading r) {
        Object parsed = StorageKeyPrefix.parse(t);
        if (parsed instanceof StorageKeyPrefix) {
            return (StorageKeyPrefix) parsed;
        }
        r.problem(MsmConfig.STORAGE_KEY_PREFIX, (String) parsed);
        return null;
    }

    private static Integer maxInactiveInterval(String t, Reading r) {
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            r.problem(MsmConfig.MAX_INACTIVE_INTERVAL, "expected a whole number of seconds (<= 0: never expire)");
            return null;
        }
    }

    private static String deserializationFilter(String t, Reading r) {
        try {
            java.io.ObjectInputFilter.Config.createFilter(t);
            return t;
        } catch (IllegalArgumentException e) {
            r.problem(MsmConfig.DESERIALIZATION_FILTER, "not a valid JEP 290 filter pattern (" + e.getMessage()
                    + "), e.g. com.example.**;java.base/*;!*");
            return null;
        }
    }

    private static LegacySessions legacySessions(String t, Reading r) {
        LegacySessions legacy = LEGACY_SESSIONS_VALUES.read(t, r);
        legacy = legacy == null ? LegacySessions.OFF : legacy;
        if (legacy == LegacySessions.READ_WRITE && r.value(SESSION_PROTECTION) != SessionProtection.NONE) {
            r.problem(MsmConfig.LEGACY_SESSIONS, "not with " + MsmConfig.SESSION_PROTECTION + "=\""
                    + r.text(MsmConfig.SESSION_PROTECTION) + "\": memcached-session-manager reads neither signed or "
                    + "encrypted sessions nor hashed keys (turn protection on once the switch is over, with "
                    + MsmConfig.LEGACY_SESSIONS + "=\"off\")");
        }
        String transcoder = r.text(MsmConfig.TRANSCODER_FACTORY_CLASS);
        if (legacy == LegacySessions.READ_WRITE && transcoder != null && transcoder.startsWith("de.javakaffee.")
                && !MsmConfig.DEFAULT_TRANSCODER_FACTORY_CLASS.equals(ClassNames.ANCHOR_TRANSCODER_ALIASES
                        .get(transcoder))) {
            r.problem(MsmConfig.LEGACY_SESSIONS, "not with " + MsmConfig.TRANSCODER_FACTORY_CLASS + "=\"" + transcoder
                    + "\": the old manager's Tomcats read attributes only in that serializer's format, and delete a "
                    + "session whose attributes they cannot read, while readWrite stores them with Java serialization "
                    + "(switch the old cluster to de.javakaffee.web.msm.JavaSerializationTranscoderFactory first, or "
                    + "use " + MsmConfig.LEGACY_SESSIONS + "=\"read\")");
        }
        StorageKeyPrefix prefix = r.value(STORAGE_KEY_PREFIX);
        if (legacy != LegacySessions.OFF && prefix != null) {
            try { // the old manager's rules: it refused to start with other tokens, so it never stored under them
                AnchorKeys.of(prefix.toString(), "host", "/context", "");
            } catch (IllegalArgumentException e) {
                r.problem(MsmConfig.STORAGE_KEY_PREFIX, "with " + MsmConfig.LEGACY_SESSIONS + "=\"" + t + "\" it must be "
                        + "one memcached-session-manager accepted (" + e.getMessage() + ")");
            }
        }
        return legacy;
    }
}
