package io.msm.spi;

import io.msm.MsmException;

/**
 * The one exception type a {@link SessionAttributesTranscoder} throws: the bytes could not be produced or read. The
 * message names the class or attribute that failed where the transcoder knows it.
 */
public class TranscoderException extends MsmException {
    private static final long serialVersionUID = 1L;

    public TranscoderException(String message) {
        super(message);
    }

    public TranscoderException(String message, Throwable cause) {
        super(message, cause);
    }
}
