package io.msm.discovery;

/**
 * The nodes could not be found: the endpoint refused, did not answer in time or answered something that is not a
 * node list, or the name did not resolve. The message says which and why, fit for one log line.
 */
public final class DiscoveryException extends Exception {
    private static final long serialVersionUID = 1L;

    DiscoveryException(String message, Throwable cause) {
        super(message, cause);
    }
}
