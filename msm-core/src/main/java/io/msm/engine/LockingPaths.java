package io.msm.engine;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code lockingMode="auto"}: which request paths take their session's lock. Every path locks until
 * {@link #UNCHANGED_TO_LEARN} requests on it in a row left their session unchanged; a path on which a request changed
 * the session locks from then on, for good (a path that changed the session once may do it again, for another user
 * or another parameter). At most {@link #MAX_PATHS} paths are counted and at most as many remembered as changing;
 * past that, new paths simply keep locking, and once no more changing paths can be remembered no path learns to skip
 * the lock any more (a path that changed a session could not be told from one that never did). Paths longer than
 * {@link #MAX_PATH_LENGTH} (a client's invention, not the webapp's) are not kept: they lock.
 */
final class LockingPaths {
    /** Unchanged requests in a row after which a path takes no lock. */
    static final int UNCHANGED_TO_LEARN = 20;
    /** Paths counted, and paths remembered as changing, at most (each). */
    static final int MAX_PATHS = 10_000;
    /** Characters of the longest path kept (the bounds above then bound the memory too). */
    static final int MAX_PATH_LENGTH = 512;

    /** Unchanged requests in a row per path, up to {@link #UNCHANGED_TO_LEARN}. */
    private final Map<String, Integer> unchanged = new ConcurrentHashMap<>();
    /** Paths seen to change the session: they always lock. */
    private final Set<String> changing = ConcurrentHashMap.newKeySet();

    /** Whether a request for {@code path} takes its session's lock. */
    boolean needsLock(String path) {
        if (path == null || path.length() > MAX_PATH_LENGTH) {
            return true;
        }
        Integer n = unchanged.get(path);
        return n == null || n < UNCHANGED_TO_LEARN || changing.contains(path);
    }

    /** A request for {@code path} that used a session ended, having changed it or not. */
    void learn(String path, boolean changed) {
        if (path == null || path.length() > MAX_PATH_LENGTH) {
            return;
        }
        if (changed) {
            unchanged.remove(path);
            if (changing.size() < MAX_PATHS) {
                changing.add(path);
            }
        } else if (changing.size() < MAX_PATHS && !changing.contains(path)
                && (unchanged.containsKey(path) || unchanged.size() < MAX_PATHS)) {
            unchanged.merge(path, 1, (a, b) -> Math.min(UNCHANGED_TO_LEARN, a + b));
        }
    }

    /** Paths counted or remembered (tests). */
    int size() {
        return unchanged.size() + changing.size();
    }
}
