package io.msm.discovery;

import java.io.IOException;

/**
 * An answer of a configuration endpoint that is not a cluster configuration msm accepts. The message is the reason,
 * fit for one log line: it names what was wrong and never quotes more than a short, printable part of the answer.
 * An {@link IOException} like the failures of the connection it came on, which is not to be reused after it.
 */
public final class ConfigAnswerException extends IOException {
    private static final long serialVersionUID = 1L;

    ConfigAnswerException(String message) {
        super(message);
    }
}
