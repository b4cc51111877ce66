package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedTls;
import io.msm.test.tls.TestCertificates;
import io.msm.testing.TestTranscoderFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A reconnect resumes the TLS session of an earlier connection (TLS 1.3 session tickets, which memcached's OpenSSL
 * issues by default): the store's one {@link SSLContext} keeps them, so a new connection skips the certificate
 * exchange and its checks. A resumed session carries the creation time of the one it resumes; a full handshake (a
 * new context every time) has its own. Prints the median handshake time of each.
 */
class TlsResumptionIT {
    private static final int CONNECTIONS = 20;

    @RegisterExtension
    static final MemcachedExtension TLS = MemcachedExtension.servers(1).withTls(MemcachedTls.serverCertificate());

    private static SSLContext newContext() {
        TestCertificates c = TestCertificates.get();
        return MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, "n1:127.0.0.1:1")
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .set(MsmConfig.TLS, "true").set(MsmConfig.TLS_TRUST_STORE, c.trustStore().toString())
                .set(MsmConfig.TLS_TRUST_STORE_PASSWORD, c.trustStorePassword())
                .build(TlsResumptionIT.class.getClassLoader()).tlsContext().orElseThrow();
    }

    /** Opens a connection with {@code context}, and closes it: {creation time of its TLS session, nanos to open}. */
    private static long[] connect(SSLContext context) throws Exception {
        try (WriteDeadline wd = new WriteDeadline("tls-resumption-test");
             DirectConnections pool = new DirectConnections(new InetSocketAddress("127.0.0.1", TLS.server(0).port()),
                     wd, new TlsLayer(context, "tls-test"))) {
            long start = System.nanoTime();
            TextConnection c = pool.open(new DeadlineSocket(), start + TimeUnit.SECONDS.toNanos(5));
            long took = System.nanoTime() - start;
            long created = ((SSLSocket) c.socket).getSession().getCreationTime();
            DirectConnections.ready(c, System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
            assertEquals(String.valueOf(TLS.server(0).stat("pid")), TextCommands.stats(c, "").get("pid"),
                    "memcached answers over it");
            c.close();
            return new long[] {created, took};
        }
    }

    @Test
    void aReconnectResumesTheTlsSession() throws Exception {
        SSLContext shared = newContext();
        long first = connect(shared)[0];
        List<Long> resumed = new ArrayList<>();
        List<Long> full = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++) { // interleaved, so that both see the same machine
            long[] r = connect(shared);
            assertEquals(first, r[0], "connection " + i + " resumed the first one's session");
            resumed.add(r[1]);
            long[] f = connect(newContext());
            assertNotEquals(first, f[0], "a new context makes a full handshake");
            full.add(f[1]);
        }
        System.out.printf("TlsResumptionIT: connect + TLS handshake, median of %d: resumed %d µs, full %d µs%n",
                CONNECTIONS, median(resumed) / 1000, median(full) / 1000);
    }

    private static long median(List<Long> nanos) {
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
