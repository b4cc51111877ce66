package io.msm.engine;

import io.msm.codec.SessionData;
import io.msm.codec.UntrustedBlobException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * With {@code sessionProtection}: the webapp a stored session belongs to - virtual host, context path and key prefix
 * - written into every blob and required of every blob read. A blob is signed or encrypted with keys several
 * webapps may share; the binding keeps one webapp's blob from being read by another (copied to its key, or found
 * there because both use the same prefix).
 */
final class Binding {
    /** The blob note holding the binding. */
    static final String NOTE = "io.msm.binding";

    private final byte[] value;

    Binding(EngineContext ctx) {
        this.value = (nonNull(ctx.host()) + '\0' + nonNull(ctx.owner()) + '\0' + ctx.keyPrefix())
                .getBytes(StandardCharsets.UTF_8);
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }

    void addTo(SessionData.Builder meta) {
        meta.note(NOTE, value);
    }

    /**
     * {@code null} if {@code data} belongs to this webapp, else which webapp it belongs to.
     *
     * @throws UntrustedBlobException if it names no webapp
     */
    String otherWebapp(SessionData data) {
        byte[] stored = data.notes().get(NOTE);
        if (stored == null) {
            throw new UntrustedBlobException("the blob is bound to no webapp");
        }
        if (Arrays.equals(stored, value)) {
            return null;
        }
        return new String(stored, StandardCharsets.UTF_8).replace('\0', ' ').trim();
    }
}
