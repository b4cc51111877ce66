package io.msm.serializer.java;

import io.msm.internal.Backoff;
import java.lang.reflect.Method;
import java.util.Collection;
import java.util.Map;

/**
 * {@code copyCollectionsForSerialization}: a top-level {@code java.util} collection or map attribute is cloned (same
 * class, same elements) before it is serialized, so a request changing it meanwhile cannot break the backup. A clone
 * that itself meets a concurrent change fails with {@link java.util.ConcurrentModificationException}, which the
 * engine answers by serializing again.
 */
final class ShallowCopy {
    private ShallowCopy() {
    }

    /** Attempts at cloning a collection another thread keeps changing, before giving up to the engine's retry. */
    static final int ATTEMPTS = 20;

    static Object of(Object value) {
        if (!(value instanceof Collection || value instanceof Map) || !(value instanceof Cloneable)
                || !value.getClass().getName().startsWith("java.util.")) {
            return value;
        }
        Method clone;
        try {
            clone = value.getClass().getMethod("clone");
        } catch (NoSuchMethodException e) {
            return value;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return clone.invoke(value);
            } catch (ReflectiveOperationException | RuntimeException e) {
                Throwable cause = e.getCause();
                if (!(cause instanceof java.util.ConcurrentModificationException)) {
                    return value;
                }
                if (attempt == ATTEMPTS) {
                    throw (java.util.ConcurrentModificationException) cause;
                }
                Backoff.pause(attempt); // 19 pauses at most: spins, then yields, never parks
            }
        }
    }
}
