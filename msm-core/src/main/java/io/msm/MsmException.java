package io.msm;

/**
 * Root of msm's unchecked exceptions. Every exception msm throws across its API is one of these, so callers can
 * catch one type. Messages are part of the API: they name the attribute, session id, node or class concerned.
 */
public class MsmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MsmException(String message) {
        super(message);
    }

    public MsmException(String message, Throwable cause) {
        super(message, cause);
    }
}
