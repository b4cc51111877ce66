package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** lockingMode="auto" under a client that makes up paths: its bounds never free a path that changed a session. */
class LockingPathsTest {

    /**
     * A client fills the set of changing paths (any path under a servlet that changes the session, with made-up
     * suffixes). A real path that then changes a session is not remembered as changing; it must keep locking all
     * the same, not learn to skip the lock after 20 requests that left their session unchanged.
     */
    @Test
    void aPathThatChangedASessionKeepsLockingOnceTheChangingPathsAreFull() {
        LockingPaths paths = new LockingPaths();
        for (int i = 0; i < LockingPaths.MAX_PATHS; i++) {
            paths.learn("/cart/junk" + i, true);
        }
        paths.learn("/cart/add", true);
        for (int i = 0; i < LockingPaths.UNCHANGED_TO_LEARN; i++) {
            paths.learn("/cart/add", false);
        }
        assertTrue(paths.needsLock("/cart/add"), "a path that changed a session stopped locking");
    }

    /**
     * Paths are counted up to 10,000 of each kind, but a client chooses their length (up to Tomcat's header size,
     * 8 KB): 20,000 made-up paths of 8 KB would keep 160 MB per webapp. A path too long to be a real one is not kept;
     * it locks.
     */
    @Test
    void aMadeUpPathOfKilobytesIsNotKeptAndLocks() {
        LockingPaths paths = new LockingPaths();
        String junk = "/" + "x".repeat(8000);
        for (int i = 0; i < LockingPaths.UNCHANGED_TO_LEARN; i++) {
            paths.learn(junk, false);
        }
        paths.learn(junk + "/changed", true);
        assertEquals(0, paths.size(), "paths of 8 KB kept");
        assertTrue(paths.needsLock(junk));
    }
}
