package io.msm.anchor;

import java.nio.charset.Charset;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

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
        List<String> values = new ArrayList<>();
        for (String token : spec.split(",")) {
            String v = resolve(token, host, contextName, webappVersion);
            if (v != null && !v.trim().isEmpty()) {
                values.add(v);
            }
        }
        return new AnchorKeys(values.isEmpty() ? "" : String.join(":", values) + "_");
    }

    private static String resolve(String token, String host, String contextName, String webappVersion) {
        if (token.startsWith("static:")) {
            String text = token.substring("static:".length());
            if (text.isEmpty() || text.contains(":")) {
                throw new IllegalArgumentException("Unsupported config token " + token);
            }
            return text;
        }
        switch (token) {
            case "host": return host;
            case "host.hash": return host == null ? null : hash(host);
            case "context": return contextName;
            case "context.hash": return contextName == null ? null : hash(contextName);
            case "webappVersion": return webappVersion;
            default: throw new IllegalArgumentException("Unsupported config token " + token);
        }
    }

    /** SHA-256 of the text's bytes in the platform's charset (as the old manager hashed), first 8 hex digits. */
    static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(Charset.defaultCharset()));
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 4; i++) {
                sb.append(Character.forDigit((d[i] >> 4) & 0xf, 16)).append(Character.forDigit(d[i] & 0xf, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
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
