package io.msm.anchor;

import io.msm.codec.SessionData;
import java.util.Map;

/**
 * Turns a session memcached-session-manager stored into msm's form; supplied by the container adapter, which knows
 * the container classes the old manager serialized (its principal, its saved FORM request).
 */
public interface AnchorConverter {
    /**
     * Puts the login state of {@code blob} (principal, saved FORM request and principal) into {@code into} in the
     * adapter's own encoding, and returns the session's attributes (with whatever the adapter keeps as attributes),
     * read under msm's deserialization guard.
     *
     * @throws io.msm.spi.TranscoderException if the attributes or a container object cannot be read
     * @throws AnchorFormatException if a part is malformed
     */
    Map<String, Object> convert(AnchorBlob blob, SessionData.Builder into);

    /**
     * The blob the old manager reads for a session msm holds ({@link AnchorBlob#encode}): its login state turned
     * back into the container objects the old manager serialized, its attributes in the old manager's Java
     * serialization format.
     *
     * @param data the session's fields, principal and notes as the adapter encodes them
     * @param attributes its attributes, as the adapter hands them to the engine
     * @throws AnchorFormatException if the old manager could not read the session (an auth type or a part it does
     *         not take)
     * @throws io.msm.spi.TranscoderException if the attributes cannot be serialized
     */
    byte[] encode(SessionData data, Map<String, Object> attributes, long lastBackupTime);
}
