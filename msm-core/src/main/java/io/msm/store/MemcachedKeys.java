package io.msm.store;

import java.nio.charset.StandardCharsets;

/**
 * What memcached takes as a key, on every path of the store: at most {@value #MAX_BYTES} bytes of UTF-8 (the encoding
 * of the text protocol's command lines, {@link TextConnection#writeCommand}, and of spymemcached's keys), no space,
 * no control character. A key memcached would refuse with {@code CLIENT_ERROR} (which costs the connection) or that
 * would break the command line is never sent.
 */
public final class MemcachedKeys {
    /** memcached's longest key, in bytes. */
    public static final int MAX_BYTES = 250;

    private MemcachedKeys() {
    }

    /** {@code true} if {@code key} can be sent as it is. */
    public static boolean isSendable(String key) {
        int n = key.length();
        if (n == 0 || n > MAX_BYTES) {
            return false;
        }
        boolean ascii = true;
        for (int i = 0; i < n; i++) {
            char c = key.charAt(i);
            if (c > ' ' && c < 0x7f) {
                continue; // printable ASCII: one test for the usual key
            }
            if (c <= 0x9f) {
                return false; // a space, or a control character (C0, DEL, C1: Character.isISOControl)
            }
            ascii = false;
        }
        if (ascii) {
            return true;
        }
        byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
        // a lone surrogate is encoded as '?': two such keys would be one
        return utf8.length <= MAX_BYTES && new String(utf8, StandardCharsets.UTF_8).equals(key);
    }
}
