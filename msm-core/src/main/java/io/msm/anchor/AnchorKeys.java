package io.msm.anchor;


/**
 * The memcached keys memcached-session-manager 2.x used for a session, from the same {@code storageKeyPrefix}
 * attribute: its tokens ({@code static:<text>}, {@code host}, {@code host.hash}, {@code context},
 * {@code context.hash}, {@code webappVersion}; default {@code webappVersion}) are resolved, the non-blank values
 * joined with {@code :} and followed by {@code _} (no prefix when none is left). The session's key is the prefix and
 * the id; non-sticky mode adds {@code validity:<key>}, and on the next node {@code bak:<key>} and
 * {@code bak:<prefix>validity:<key>} (the prefix twice, as the old manager wrote it).
 */
public final class AnchorKeys {
    public static final String DEFAULT = "webappVersion";

    private final String prefix;

    private static final java.util.Set<String> OLD_TOKENS = java.util.Set.of("host", "host.hash", "context",
            "context.hash", "webappVersion");

    private AnchorKeys(String prefix) {
        this.prefix = prefix;
    }

    /**
     * The keys of a webapp.
     *
     * @param storageKeyPrefix the attribute's value ({@code null}: the default)
     * @param host the Tomcat host's name, e.g. {@code localhost}
     * @param contextName the context's name: {@code ""} for the root, {@code /shop}, {@code /shop##002}
     * @param webappVersion the parallel-deployment version, {@code ""} when there is none
     * @throws IllegalArgumentException for a token the old manager did not know (it refused to start then)
     */
    public static AnchorKeys of(String storageKeyPrefix, String host, String contextName, String webappVersion) {
        String spec = storageKeyPrefix == null ? DEFAULT : storageKeyPrefix;
        for (String token : spec.split(",")) { // split as it did, no trimming
            if (token.startsWith("static:") ? token.length() == "static:".length()
                    || token.indexOf(':', "static:".length()) >= 0 : !OLD_TOKENS.contains(token)) {
                throw new IllegalArgumentException("Unsupported config token " + token);
            }
        }
        return new AnchorKeys(io.msm.config.StorageKeyPrefix.of(spec).resolve(host, contextName, webappVersion));
    }

    /** The keys under the prefix msm resolved for the webapp (msm builds it as the old manager did). */
    public static AnchorKeys withPrefix(String prefix) {
        return new AnchorKeys(prefix);
    }

    public String prefix() {
        return prefix;
    }

    public String session(String id) {
        return prefix + id;
    }

    public String validity(String id) {
        return "validity:" + session(id);
    }

    public String backup(String id) {
        return "bak:" + session(id);
    }

    public String backupValidity(String id) {
        return "bak:" + prefix + validity(id);
    }

    public String lock(String id) {
        return "lock:" + session(id);
    }
}
