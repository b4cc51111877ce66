package io.msm.codec;

/**
 * A stored blob is refused because it is not protected as this manager requires: unsigned or unencrypted where
 * {@code sessionProtection} asks for it, written with a key this manager does not have, or altered after writing.
 */
public final class UntrustedBlobException extends UnreadableBlobException {
    private static final long serialVersionUID = 1L;

    UntrustedBlobException(String reason) {
        super(reason);
    }
}
