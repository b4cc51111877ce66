package io.msm.benchmarks.e2e;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import io.msm.test.memcached.MemcachedTls;
import io.msm.test.tls.TestCertificates;
import java.util.List;

/**
 * The end-to-end benchmark's memcached processes: a plain pair for the rows without TLS, and a pair started with TLS
 * ({@code memcached -Z}, the test CA's server certificate) for the rows whose attributes have {@code tls=true},
 * started only when such a row is selected. Each row's Tomcat, calls per request and memcached CPU are on its own
 * pair, so a TLS row and its plain twin are measured alike and apart.
 */
final class BenchmarkServers implements AutoCloseable {
    /** msm's attribute, which also marks a TLS row. */
    static final String TLS = "tls";

    private final MemcachedExtension plain;
    /** {@code null}: no selected row is a TLS row. */
    private final MemcachedExtension tls;

    private BenchmarkServers(MemcachedExtension plain, MemcachedExtension tls) {
        this.plain = plain;
        this.tls = tls;
    }

    /** Starts the plain pair, and the TLS pair if one of {@code rows} is a TLS row. */
    static BenchmarkServers start(List<String> rows) {
        MemcachedExtension plain = MemcachedExtension.servers(2);
        plain.startServers();
        MemcachedExtension tls = null;
        if (rows.stream().anyMatch(BenchmarkServers::isTls)) {
            tls = MemcachedExtension.servers(2).withTls(MemcachedTls.serverCertificate());
            try {
                tls.startServers();
            } catch (RuntimeException e) {
                plain.stopServers();
                throw e;
            }
        }
        return new BenchmarkServers(plain, tls);
    }

    static boolean isTls(String row) {
        return "true".equals(EndToEndBenchmark.ROWS.get(row).get(TLS));
    }

    /** memcached's version, from the plain pair. */
    String version() {
        return plain.server(0).stats().get("version");
    }

    /** The row's {@code memcachedNodes}: two nodes, n1 and n2, of its pair. */
    String nodes(String row) {
        return pair(row).nodesAttribute("n1", "n2");
    }

    /** The row's pair, whose {@code stats} (on the plain control port of a TLS server) count its calls. */
    List<MemcachedServer> servers(String row) {
        return pair(row).servers();
    }

    /**
     * The attributes a TLS row's Tomcat needs besides its row's: the test CA as {@code tlsTrustStore}, as its PEM
     * file, which needs no password (a password would stand on the forked JVM's command line). None for other rows.
     */
    List<String> tlsAttributes(String row) {
        return isTls(row) ? List.of("tlsTrustStore=" + TestCertificates.get().caPem()) : List.of();
    }

    /** Empties every server: no session of a workload stays for the next. */
    void flushAll() {
        for (MemcachedExtension pair : tls == null ? List.of(plain) : List.of(plain, tls)) {
            pair.servers().forEach(MemcachedServer::flushAll);
        }
    }

    private MemcachedExtension pair(String row) {
        return isTls(row) ? tls : plain;
    }

    @Override
    public void close() {
        try {
            plain.stopServers();
        } finally {
            if (tls != null) {
                tls.stopServers();
            }
        }
    }
}
