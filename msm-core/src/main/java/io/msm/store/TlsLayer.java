package io.msm.store;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * TLS over a connected memcached socket ({@code tls="true"}): TLS 1.3 or 1.2 only, the server's certificate checked
 * against the trust store and its names against the node's host as configured (an IP address against the
 * certificate's IP entries), and the handshake within the connection's deadline ({@link DeadlineSocket}). One
 * {@link SSLContext} serves every connection of the store, so a reconnect resumes the TLS session of an earlier one
 * (no full handshake) when memcached offers resumption.
 */
final class TlsLayer {
    private static final System.Logger LOG = System.getLogger("io.msm.store");
    private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private final SSLSocketFactory factory;
    private final String[] protocols;
    private final String context;

    /** @param context the context's name, for log lines */
    TlsLayer(SSLContext sslContext, String context) {
        this.factory = sslContext.getSocketFactory();
        List<String> supported = Arrays.asList(sslContext.getSupportedSSLParameters().getProtocols());
        List<String> use = new ArrayList<>(PROTOCOLS);
        use.retainAll(supported);
        this.protocols = use.toArray(new String[0]);
        this.context = context;
    }

    /**
     * Makes the TLS handshake on {@code transport}, connected to {@code address}, by the transport's deadline.
     *
     * @param failing whether the last handshake with this node failed: a failure is logged once until a connection
     *     answers again ({@link #answered})
     * @throws SSLException the handshake failed (e.g. the certificate does not verify); the caller closes
     *     {@code transport}
     */
    SSLSocket handshake(DeadlineSocket transport, InetSocketAddress address, AtomicBoolean failing)
            throws IOException {
        SSLSocket ssl = (SSLSocket) factory.createSocket(transport, address.getHostString(), address.getPort(), true);
        SSLParameters p = ssl.getSSLParameters();
        p.setProtocols(protocols);
        p.setEndpointIdentificationAlgorithm("HTTPS"); // the host name (or IP address) checked against the certificate
        ssl.setSSLParameters(p);
        try {
            ssl.startHandshake();
        } catch (SocketTimeoutException | SSLException e) {
            throw failed(e, transport, address, failing);
        }
        return ssl;
    }

    /** A failed handshake, logged once per node until a connection answers: what to throw. */
    private IOException failed(IOException e, DeadlineSocket transport, InetSocketAddress address,
            AtomicBoolean failing) {
        String node = "[" + context + "] memcached " + address.getHostString() + ":" + address.getPort();
        if (e instanceof SocketTimeoutException) {
            if (failing.compareAndSet(false, true)) {
                LOG.log(Level.WARNING, () -> node + ": the TLS handshake did not finish within the call's time "
                        + "(operationTimeout); TLS adds a round trip or two to a connect, so a timeout that is "
                        + "enough for TCP may be too short; logged once until a connection answers");
            }
            return e;
        }
        String plain = plainText(transport.firstBytes());
        if (plain != null) {
            if (failing.compareAndSet(false, true)) {
                LOG.log(Level.WARNING, () -> node + " answered in plain text, not TLS (\"" + plain + "\"): a memcached "
                        + "started without TLS (-Z), or one at its connection limit (-c), which refuses a "
                        + "connection before any TLS; logged once until a connection answers");
            }
            // not a certificate's fault: memcached at maxconns stays up, as it does over plain TCP
            ProtocolException answered = new ProtocolException("memcached answered in plain text to the TLS "
                    + "handshake: \"" + plain + "\"");
            answered.initCause(e);
            return answered;
        }
        if (failing.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, () -> node + " refused: the TLS handshake failed (" + e.getMessage() + "); check "
                    + "that the node speaks TLS, that tlsTrustStore holds its certificate's issuer, that the "
                    + "certificate names this host and, if memcached asks for client certificates "
                    + "(ssl_verify_mode), that tlsKeyStore holds one it accepts; logged once until a connection "
                    + "answers");
        }
        return e;
    }

    /**
     * The first exchange on a new connection failed before any answer: under TLS 1.3 memcached checks the client's
     * certificate after the client's side of the handshake is done, and refuses it only now (an alert, or a close).
     */
    void refusedAfterHandshake(InetSocketAddress address, AtomicBoolean failing, IOException e) {
        if (failing.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, () -> "[" + context + "] memcached " + address.getHostString() + ":"
                    + address.getPort() + " closed a new TLS connection before answering (" + e.getMessage()
                    + "); a memcached that requires client certificates (ssl_verify_mode) does so when it refuses "
                    + "one: check that tlsKeyStore holds one it accepts; logged once until a connection answers");
        }
    }

    /** A new connection answered: the node's TLS works (again). */
    void answered(InetSocketAddress address, AtomicBoolean failing) {
        if (failing.compareAndSet(true, false)) {
            LOG.log(Level.WARNING, () -> "[" + context + "] memcached " + address.getHostString() + ":"
                    + address.getPort() + ": TLS connections work again");
        }
    }

    /**
     * The peer's first bytes as text if they are a plain-text line (memcached's {@code ERROR Too many open
     * connections}, or a memcached without TLS answering the ClientHello), {@code null} if they are TLS records
     * (whose first byte, the content type, is 20 to 23) or nothing.
     */
    static String plainText(byte[] first) {
        if (first.length == 0 || (first[0] >= 20 && first[0] <= 23)) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (byte b : first) {
            if (b == '\r' || b == '\n') {
                break;
            }
            if (b < 0x20 || b > 0x7e) {
                return null; // neither TLS nor a line of text
            }
            sb.append((char) b);
        }
        return sb.length() == 0 ? null : sb.toString();
    }
}
