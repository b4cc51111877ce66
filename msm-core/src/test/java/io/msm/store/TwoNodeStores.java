package io.msm.store;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.testing.TestTranscoderFactory;

/** Opens a store on the two memcached nodes "n1" and "n2" of an extension and waits until both are connected. */
final class TwoNodeStores {
    private TwoNodeStores() {
    }

    static SessionStore open(MemcachedExtension memcached) throws Exception {
        MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, memcached.nodesAttribute("n1", "n2"))
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(TwoNodeStores.class.getClassLoader());
        SessionStore s = MemcachedSessionStore.open(config, MemcachedSessionStore.ConnectionListener.NONE);
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!(s.isConnected("n1") && s.isConnected("n2")) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return s;
    }
}
