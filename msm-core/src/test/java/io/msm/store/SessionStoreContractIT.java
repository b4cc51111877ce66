package io.msm.store;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.testing.TestTranscoderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The real stores keep the store contract on a real memcached, on both protocols. */
class SessionStoreContractIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(1);

    static SessionStore open(String protocol) throws Exception {
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, MEMCACHED.nodesAttribute("n1"))
                .set(MsmConfig.MEMCACHED_PROTOCOL, protocol)
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(SessionStoreContractIT.class.getClassLoader());
        SessionStore s = MemcachedSessionStore.open(config, MemcachedSessionStore.ConnectionListener.NONE);
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!s.isConnected("n1") && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return s;
    }

    /** A fresh store on a memcached emptied before each test. */
    abstract static class OnMemcached extends SessionStoreContract {
        private SessionStore store;

        abstract String protocol();

        @BeforeEach
        void open() throws Exception {
            store = SessionStoreContractIT.open(protocol());
        }

        @AfterEach
        void close() {
            store.close();
        }

        @Override
        protected SessionStore store() {
            return store;
        }
    }

    @Nested
    class TextProtocol extends OnMemcached {
        @Override
        String protocol() {
            return "text";
        }
    }

    @Nested
    class BinaryProtocol extends OnMemcached {
        @Override
        String protocol() {
            return "binary";
        }

        @Override
        protected boolean readsTtl() {
            return false;
        }
    }
}
