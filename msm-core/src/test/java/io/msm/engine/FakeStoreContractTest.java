package io.msm.engine;

import io.msm.store.MemcachedSessionStore;
import io.msm.store.SessionStore;
import io.msm.store.SessionStoreContract;

/** The engine tests' in-memory store keeps the store contract the real stores keep. */
class FakeStoreContractTest extends SessionStoreContract {
    private final FakeStore store = new FakeStore(() -> 1_000_000L, MemcachedSessionStore.ConnectionListener.NONE);

    @Override
    protected SessionStore store() {
        return store;
    }
}
