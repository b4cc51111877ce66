package io.msm.anchor;

/** Bytes that are not a session as memcached-session-manager stored it, or are cut or altered. */
public final class AnchorFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public AnchorFormatException(String message) {
        super(message);
    }
}
