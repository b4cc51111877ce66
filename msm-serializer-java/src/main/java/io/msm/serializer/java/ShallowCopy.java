package io.msm.serializer.java;

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

    static Object of(Object value) {
        if (!(value instanceof Collection || value instanceof Map) || !(value instanceof Cloneable)
                || !value.getClass().getName().startsWith("java.util.")) {
            return value;
        }
        try {
            Method clone = value.getClass().getMethod("clone");
            return clone.invoke(value);
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (e.getCause() instanceof java.util.ConcurrentModificationException) {
                throw (java.util.ConcurrentModificationException) e.getCause();
            }
            return value;
        }
    }
}
