package io.msm.test.memcached;

import io.msm.test.tls.CertificateFiles;
import io.msm.test.tls.TestCertificates;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * How {@link MemcachedExtension#withTls} servers do TLS: which certificate of {@link TestCertificates} they present,
 * and whether they require a client certificate. Immutable; the certificates are made only when a server starts.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final MemcachedExtension tls = MemcachedExtension.servers(2)
 *         .withTls(MemcachedTls.serverCertificate().requireClientCertificate());
 * }</pre>
 *
 * <p>A TLS server is memcached {@code -Z} with a TLS listener on its {@link MemcachedServer#port() port} and a
 * plain-text listener on a second loopback port, which the extension's own checks and accessors use.
 */
public final class MemcachedTls {

    /** memcached's {@code ssl_verify_mode} that requires a client certificate (0 none, 1 request, 2 require). */
    private static final int VERIFY_REQUIRE = 2;

    private final String name;
    private final Function<TestCertificates, CertificateFiles> certificate;
    private final boolean requireClientCertificate;

    private MemcachedTls(String name, Function<TestCertificates, CertificateFiles> certificate,
            boolean requireClientCertificate) {
        this.name = name;
        this.certificate = certificate;
        this.requireClientCertificate = requireClientCertificate;
    }

    /**
     * Servers present {@link TestCertificates#server()}: signed by the test CA, valid for {@code 127.0.0.1},
     * {@code localhost} and {@code mc.test}, so a client trusting the test CA with hostname verification on accepts
     * them.
     *
     * @return the setting, without client certificates
     */
    public static MemcachedTls serverCertificate() {
        return new MemcachedTls("serverCertificate", TestCertificates::server, false);
    }

    /**
     * Servers present {@link TestCertificates#wrongHost()}: signed by the test CA but for
     * {@code wrong-host.invalid} only, so a client that verifies host names must refuse them.
     *
     * @return the setting, without client certificates
     */
    public static MemcachedTls wrongHost() {
        return new MemcachedTls("wrongHost", TestCertificates::wrongHost, false);
    }

    /**
     * Servers also require a client certificate signed by the test CA ({@code ssl_verify_mode=2},
     * {@code ssl_ca_cert} = {@link TestCertificates#caPem()}), as in {@link TestCertificates#clientKeyStore()}. A
     * client without one is refused: with TLS 1.3 its handshake completes, and its first read fails with the
     * server's {@code certificate_required} alert (or its write with a broken pipe, if the server closed first).
     *
     * @return a new setting
     */
    public MemcachedTls requireClientCertificate() {
        return new MemcachedTls(name, certificate, true);
    }

    /**
     * Tells whether servers require a client certificate.
     *
     * @return {@code true} after {@link #requireClientCertificate()}
     */
    public boolean requiresClientCertificate() {
        return requireClientCertificate;
    }

    /**
     * The memcached arguments, making the certificates on first use.
     *
     * @return {@code -Z -o ssl_chain_cert=...,ssl_key=...[,ssl_ca_cert=...,ssl_verify_mode=2]}
     */
    List<String> memcachedArgs() {
        TestCertificates certificates = TestCertificates.get();
        CertificateFiles files = certificate.apply(certificates);
        StringBuilder options = new StringBuilder("ssl_chain_cert=").append(option(files.chainPem()))
                .append(",ssl_key=").append(option(files.keyPem()));
        if (requireClientCertificate) {
            options.append(",ssl_ca_cert=").append(option(certificates.caPem()))
                    .append(",ssl_verify_mode=").append(VERIFY_REQUIRE);
        }
        return List.of("-Z", "-o", options.toString());
    }

    private static String option(Path file) {
        String value = file.toAbsolutePath().toString();
        if (value.indexOf(',') >= 0) {
            // memcached splits -o at commas
            throw new IllegalStateException("certificate path contains a comma, which memcached -o cannot take: "
                    + value);
        }
        return value;
    }

    @Override
    public String toString() {
        return "MemcachedTls." + name + "()" + (requireClientCertificate ? ".requireClientCertificate()" : "");
    }
}
