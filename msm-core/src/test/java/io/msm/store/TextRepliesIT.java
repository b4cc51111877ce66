package io.msm.store;

import static io.msm.store.FakeMemcached.ascii;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.testing.TestTranscoderFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Answers a real memcached does not give, from a server that is broken or hostile ({@link FakeMemcached}): the
 * client must not read what is left over after an answer, or a value for another key, as the answer to its own
 * command.
 */
class TextRepliesIT {
    private static final long TIMEOUT = 3000;

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
        assertTrue(connected.await(2, TimeUnit.SECONDS), "the store did not connect to the fake server");
    }

    @AfterEach
    void stop() throws Exception {
        store.close();
        server.close();
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
                out.write(ascii("VALUE other 0 1" + cas + "\r\nx\r\nEND\r\n"));
                out.flush();
                return true;
            }
            return false;
        };
        StoreException get = assertThrows(StoreException.class, () -> store.get("n1", "k", TIMEOUT));
        assertTrue(get.getCause() instanceof ProtocolException, get::toString);
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
