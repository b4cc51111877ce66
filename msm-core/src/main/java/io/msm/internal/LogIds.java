package io.msm.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * How a session id or a memcached key appears in a log line: a session id is a bearer token, so never in full. An id
 * becomes {@code #<8 hex digits of its SHA-256>} followed by its node and route ({@code #3f9a2c1b-n1.tc1}): the same
 * on every Tomcat, so lines about one session can be found across a cluster, and useless to log in with. A key keeps
 * its kind ({@code bak:}, {@code lock:}) and is hashed the same way; msm's own keys ({@code msm:...}) hold no id and
 * stay as they are.
 */
public final class LogIds {
    private LogIds() {
    }

    /** A session id as a log line shows it. */
    public static String of(String id) {
        if (id == null) {
            return "null";
        }
        int dot = id.indexOf('.');
        int dash = id.lastIndexOf('-', dot < 0 ? id.length() : dot);
        return "#" + hash(id) + (dash > 0 ? id.substring(dash) : dot > 0 ? id.substring(dot) : "");
    }

    /** A memcached key as a log line shows it. */
    public static String key(String key) {
        if (key == null) {
            return "null";
        }
        // msm's own keys; a prefix of msm: alone does not make a session key one of them, and the SHA-256 form of an
        // unsendable key (msm: and 43 base64url characters) is shown hashed too: a session key can have that shape
        if (key.contains("msm:taken:") || key.contains("msm:probe") || key.contains("msm:expiry:")) {
            return key;
        }
        int colon = key.startsWith("bak:") || key.startsWith("lock:") ? key.indexOf(':') + 1 : 0;
        return key.substring(0, colon) + "#" + hash(key);
    }

    private static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(8);
            for (int i = 0; i < 4; i++) {
                sb.append(Character.forDigit((d[i] >> 4) & 0xF, 16)).append(Character.forDigit(d[i] & 0xF, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
