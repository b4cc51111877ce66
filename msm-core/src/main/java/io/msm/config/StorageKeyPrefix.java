package io.msm.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The {@code storageKeyPrefix} attribute: which parts make up the prefix of every memcached key of a webapp, so that
 * several webapps (or several versions of one) can share one memcached. A comma separated list of tokens:
 * <ul>
 *   <li>{@code static:<text>} - the given text</li>
 *   <li>{@code host} / {@code host.hash} - the Tomcat host name, or a short hash of it</li>
 *   <li>{@code context} / {@code context.hash} - the context's name ({@code /shop}; nothing for the root context;
 *       {@code /shop##2} for a version of a parallel deployment), or a short hash of it</li>
 *   <li>{@code webappVersion} - the parallel-deployment version ({@code app##2}); empty when there is none</li>
 * </ul>
 * Non-blank parts are joined with {@code :} and followed by {@code _}, as memcached-session-manager joined them, so
 * both managers name a session's keys alike. Defaults to {@value #DEFAULT}.
 */
public final class StorageKeyPrefix {
    public static final String DEFAULT = "webappVersion";

    private enum Kind { STATIC, HOST, HOST_HASH, CONTEXT, CONTEXT_HASH, WEBAPP_VERSION }

    private static final class Part {
        final Kind kind;
        final String text;

        Part(Kind kind, String text) {
            this.kind = kind;
            this.text = text;
        }
    }

    private final String spec;
    private final List<Part> parts;

    private StorageKeyPrefix(String spec, List<Part> parts) {
        this.spec = spec;
        this.parts = Collections.unmodifiableList(parts);
    }

    /** Parses the attribute value; returns an error text (not an exception) so config validation can collect it. */
    static Object parse(String spec) {
        List<Part> parts = new ArrayList<>();
        for (String raw : spec.split(",")) {
            String token = raw.trim();
            if (token.isEmpty()) {
                continue;
            }
            if (token.startsWith("static:")) {
                String text = token.substring("static:".length());
                if (text.isEmpty() || !isKeySafe(text)) {
                    return "static:<text> needs a non-empty text without whitespace or control characters";
                }
                parts.add(new Part(Kind.STATIC, text));
                continue;
            }
            switch (token.toLowerCase(Locale.ROOT)) {
                case "host": parts.add(new Part(Kind.HOST, null)); break;
                case "host.hash": parts.add(new Part(Kind.HOST_HASH, null)); break;
                case "context": parts.add(new Part(Kind.CONTEXT, null)); break;
                case "context.hash": parts.add(new Part(Kind.CONTEXT_HASH, null)); break;
                case "webappversion": parts.add(new Part(Kind.WEBAPP_VERSION, null)); break;
                default:
                    return "unknown token \"" + token
                            + "\" (expected static:<text>, host, host.hash, context, context.hash, webappVersion)";
            }
        }
        return new StorageKeyPrefix(spec, parts);
    }

    /**
     * The prefix of {@code spec}, for code that has no configuration to report a bad value in.
     *
     * @throws IllegalArgumentException naming what is wrong with it
     */
    public static StorageKeyPrefix of(String spec) {
        Object parsed = parse(spec);
        if (parsed instanceof StorageKeyPrefix) {
            return (StorageKeyPrefix) parsed;
        }
        throw new IllegalArgumentException((String) parsed);
    }

    /**
     * The prefix for one webapp, as memcached-session-manager built it (so that both name a session's keys alike): the
     * non-blank values of the tokens joined with {@code :}, then {@code _}; nothing when every value is blank.
     *
     * @param host the host name, e.g. {@code localhost}
     * @param contextName the context's name: {@code ""} for the root context, {@code /shop}, {@code /shop##002}
     * @param webappVersion the parallel-deployment version, {@code ""} when there is none
     */
    public String resolve(String host, String contextName, String webappVersion) {
        StringBuilder sb = new StringBuilder();
        for (Part p : parts) {
            String value;
            switch (p.kind) {
                case STATIC: value = p.text; break;
                case HOST: value = host; break;
                case HOST_HASH: value = host == null ? null : shortHash(host); break;
                case CONTEXT: value = contextName; break;
                case CONTEXT_HASH: value = contextName == null ? null : shortHash(contextName); break;
                case WEBAPP_VERSION: value = webappVersion; break;
                default: throw new AssertionError(p.kind);
            }
            if (value != null && !value.trim().isEmpty()) {
                sb.append(sb.length() == 0 ? "" : ":").append(sanitize(value));
            }
        }
        return sb.length() == 0 ? "" : sb.append('_').toString();
    }

    /** {@code true} if two webapps on one host get different prefixes ({@code context}, {@code context.hash} or a {@code static:} text). */
    public boolean distinguishesWebapps() {
        for (Part p : parts) {
            if (p.kind == Kind.CONTEXT || p.kind == Kind.CONTEXT_HASH || p.kind == Kind.STATIC) {
                return true;
            }
        }
        return false;
    }

    /** The first 8 hex digits of the SHA-256 of the text's UTF-8 bytes (memcached-session-manager's short hash). */
    static String shortHash(String s) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(8);
            for (int i = 0; i < 4; i++) {
                sb.append(Character.forDigit((d[i] >> 4) & 0xf, 16)).append(Character.forDigit(d[i] & 0xf, 16));
            }
            return sb.toString();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static boolean isKeySafe(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** memcached keys may not hold whitespace or control characters. */
    private static String sanitize(String s) {
        if (isKeySafe(s)) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c <= ' ' || c == 0x7f ? '_' : c);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return spec;
    }
}
