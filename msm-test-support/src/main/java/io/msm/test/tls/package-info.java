/**
 * Certificates for TLS tests, made at test time with the JDK's {@code keytool}:
 * {@link io.msm.test.tls.TestCertificates}.
 */
package io.msm.test.tls;
