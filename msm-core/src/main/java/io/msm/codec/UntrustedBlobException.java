package io.msm.codec;

/**
 * A stored blob is refused because it is not protected as this manager requires: unsigned or unencrypted where
 * {@code sessionProtection} asks for it, written with a key this manager does not have, altered after writing, or
 * (checked by the engine) bound to no webapp.
 */
public final class UntrustedBlobException extends UnreadableBlobException {
    private static final long serialVersionUID = 1L;

    public UntrustedBlobException(String reason) {
        super(reason);
    }
}
