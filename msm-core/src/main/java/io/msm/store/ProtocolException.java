package io.msm.store;

import java.io.IOException;

/** A memcached answer this client does not expect; the connection it came on is closed, never reused. */
class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    ProtocolException(String message) {
        super(message);
    }
}
