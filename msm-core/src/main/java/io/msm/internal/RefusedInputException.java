package io.msm.internal;

/** A session blob msm's serializers refuse to read (a hash bomb, or a stream the pre-read check cannot vouch for). */
public final class RefusedInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RefusedInputException(String message) {
        super(message);
    }
}
