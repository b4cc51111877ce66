package io.msm.store;

import static io.msm.store.FakeMemcached.ascii;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.testing.TestTranscoderFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Answers a real memcached does not give, from a server that is broken or hostile ({@link FakeMemcached}): the
 * client must neither trust a value's announced size (and allocate whatever it says) nor read what is left over
 * after an answer, or a value for another key, as the answer to its own command.
 */
class TextRepliesIT {
    private static final int KEEP = SessionStore.KEEP_EXPIRATION;
    /** Long, so that a client that keeps reading is told apart from one that stopped at the header. */
    private static final long TIMEOUT = 3000;
    /** At most this many bytes of a hostile value are streamed (what a client that reads on would hold). */
    private static final long STREAM_LIMIT = 64L * 1024 * 1024;

    private FakeMemcached server;
    private SessionStore store;

    @BeforeEach
    void start() throws Exception {
        server = new FakeMemcached();
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, server.nodes())
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(TextRepliesIT.class.getClassLoader());
        CountDownLatch connected = new CountDownLatch(1);
        store = MemcachedSessionStore.open(config, MemcachedSessionStore.listener(n -> connected.countDown(), n -> {
        }));
        // the store forgets what a node told about its item size when it connects: told only after that
        assertTrue(connected.await(2, TimeUnit.SECONDS), "the store did not connect to the fake server");
    }

    @AfterEach
    void stop() throws Exception {
        store.close();
        server.close();
    }

    /**
     * The server answers the command starting with {@code prefix} with {@code header} and then zeros, up to
     * {@link #STREAM_LIMIT}; the call must fail at once, not after reading them, and the client must stop reading.
     */
    private void refusesAHugeAnnouncedValue(String prefix, String header, Executable call) throws Exception {
        CompletableFuture<Long> streamed = new CompletableFuture<>();
        server.odd = (command, normal, out) -> {
            if (!command.startsWith(prefix)) {
                return false;
            }
            out.write(ascii(header + "\r\n"));
            streamZeros(out, streamed);
            return true;
        };
        long start = System.nanoTime();
        StoreException e = assertThrows(StoreException.class, call);
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertFalse(e.isTimeout(), () -> "read the announced value until the call's timeout: " + e);
        assertTrue(e.getCause() instanceof ProtocolException, e::toString);
        assertTrue(waited < TIMEOUT / 2, "failed after " + waited + " ms");
        long sent = streamed.get(5, TimeUnit.SECONDS);
        assertTrue(sent < STREAM_LIMIT, "the client read all " + sent + " bytes streamed");
    }

    private static void streamZeros(OutputStream out, CompletableFuture<Long> streamed) {
        byte[] zeros = new byte[64 * 1024];
        long sent = 0;
        try {
            while (sent < STREAM_LIMIT) {
                out.write(zeros);
                sent += zeros.length;
            }
            out.flush();
        } catch (IOException e) {
            // the client closed the connection
        } finally {
            streamed.complete(sent);
        }
    }

    @Test
    void aMetaGetHitAnnouncingTwoGigabytesFailsAtItsHeader() throws Exception {
        refusesAHugeAnnouncedValue("mg ", "VA 2000000000 t-1 c1", () -> store.getWithTtl("n1", "k", KEEP, TIMEOUT));
    }

    @Test
    void aGetAnnouncingTwoGigabytesFailsAtItsHeader() throws Exception {
        refusesAHugeAnnouncedValue("get ", "VALUE k 0 2000000000", () -> store.get("n1", "k", TIMEOUT));
    }

    @Test
    void aGetsAnnouncingTwoGigabytesFailsAtItsHeader() throws Exception {
        refusesAHugeAnnouncedValue("gets ", "VALUE k 0 2000000000 1", () -> store.gets("n1", "k", TIMEOUT));
    }

    /**
     * ElastiCache Serverless answers {@code stats settings} (any {@code stats} but the plain one) with {@code ERROR}: a
     * large value is still stored, and the node is not asked again for each one, nor its connection dropped for it.
     */
    @Test
    void aNodeThatRefusesStatsSettingsIsAskedOnceAndKeepsItsConnection() {
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        server.odd = (command, normal, out) -> {
            if (!command.startsWith("stats ")) {
                return false;
            }
            asked.incrementAndGet();
            out.write(ascii("ERROR\r\n"));
            out.flush();
            return true;
        };
        int ended = server.connectionsEnded();
        for (int i = 0; i < 5; i++) {
            store.set("n1", "large" + i, 100, new byte[600 * 1024], TIMEOUT);
            assertArrayEquals(new byte[600 * 1024], store.get("n1", "large" + i, TIMEOUT));
        }
        assertEquals(ended, server.connectionsEnded(), "its answer is complete: the connection stays");
        assertEquals(1, asked.get(), "asked once, not per large value");
        assertThrows(StoreException.class, () -> store.set("n1", "larger", 100, new byte[1100 * 1024], TIMEOUT),
                "a value over memcached's default is refused, as when a node does not answer");
        assertFalse(server.items.containsKey("larger"), "without being sent");
        assertEquals(1, asked.get());
    }

    @Test
    void aValueLargerThanTheNodeSaidItHoldsIsRefused() {
        server.itemSizeMax = 1024 * 1024;
        store.set("n1", "large", 100, new byte[600 * 1024], TIMEOUT); // large: the node's item size is asked first
        byte[] twoMegabytes = new byte[2 * 1024 * 1024 + 2];
        twoMegabytes[twoMegabytes.length - 2] = '\r';
        twoMegabytes[twoMegabytes.length - 1] = '\n';
        server.items.put("k", twoMegabytes);
        StoreException e = assertThrows(StoreException.class, () -> store.getWithTtl("n1", "k", KEEP, TIMEOUT));
        assertTrue(e.getCause() instanceof ProtocolException, e::toString);
        assertArrayEquals(new byte[600 * 1024], store.get("n1", "large", TIMEOUT), "a value it holds is read");
    }

    @Test
    void bytesLeftAfterACompleteAnswerAreNotReadAsTheNextCallsAnswer() {
        AtomicBoolean first = new AtomicBoolean(true);
        server.odd = (command, normal, out) -> {
            if (command.startsWith("set ") && first.getAndSet(false)) {
                out.write(ascii("STORED\r\nEND\r\n")); // one write: both reach the client's buffer together
                out.flush();
                return true;
            }
            return false;
        };
        store.set("n1", "k", 100, new byte[] {1, 2, 3}, TIMEOUT);
        assertArrayEquals(new byte[] {1, 2, 3}, store.get("n1", "k", TIMEOUT), "the stored value, not a miss");
    }

    @Test
    void aValueForAnotherKeyIsNotTakenForTheOneAsked() {
        server.odd = (command, normal, out) -> {
            if (command.equals("get k") || command.equals("gets k")) {
                String cas = command.startsWith("gets") ? " 7" : "";
                out.write(ascii("VALUE someone-elses 0 1" + cas + "\r\nx\r\nEND\r\n"));
                out.flush();
                return true;
            }
            return false;
        };
        StoreException get = assertThrows(StoreException.class, () -> store.get("n1", "k", TIMEOUT));
        assertTrue(get.getCause() instanceof ProtocolException, get::toString);
        assertFalse(get.getMessage().contains("someone-elses"), () -> "names the other key: " + get.getMessage());
        StoreException gets = assertThrows(StoreException.class, () -> store.gets("n1", "k", TIMEOUT));
        assertTrue(gets.getCause() instanceof ProtocolException, gets::toString);
    }

    @Test
    void aValueForTheKeyAskedIsTakenAlsoWhenTheKeyIsNotAscii() {
        String key = "schl\u00fcssel-\u4e2d";
        byte[] value = "v".getBytes(StandardCharsets.UTF_8);
        store.set("n1", key, 100, value, TIMEOUT);
        assertArrayEquals(value, store.get("n1", key, TIMEOUT));
        assertArrayEquals(value, store.gets("n1", key, TIMEOUT).value());
    }
}
