package io.msm.codec;

import io.msm.MsmException;

/** A stored blob is not a readable msm session: wrong magic, unsupported version or flags, bad or short lengths. */
public class UnreadableBlobException extends MsmException {
    private static final long serialVersionUID = 1L;

    UnreadableBlobException(String reason) {
        super(reason);
    }
}
