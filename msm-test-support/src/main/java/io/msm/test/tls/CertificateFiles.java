package io.msm.test.tls;

import java.nio.file.Path;

/**
 * One test identity as the PEM files OpenSSL programs such as memcached read: the certificate chain (the
 * identity's own certificate first, then the CA that signed it) and the private key, unencrypted PKCS#8
 * ({@code -----BEGIN PRIVATE KEY-----}). For memcached: {@code -o ssl_chain_cert=<chainPem>,ssl_key=<keyPem>}.
 */
public final class CertificateFiles {

    private final Path chainPem;
    private final Path keyPem;

    CertificateFiles(Path chainPem, Path keyPem) {
        this.chainPem = chainPem;
        this.keyPem = keyPem;
    }

    /**
     * Returns the certificate chain file.
     *
     * @return a PEM file with the identity's certificate, then its CA's
     */
    public Path chainPem() {
        return chainPem;
    }

    /**
     * Returns the private key file.
     *
     * @return an unencrypted PKCS#8 PEM file
     */
    public Path keyPem() {
        return keyPem;
    }

    @Override
    public String toString() {
        return "CertificateFiles[" + chainPem + ", " + keyPem + "]";
    }
}
