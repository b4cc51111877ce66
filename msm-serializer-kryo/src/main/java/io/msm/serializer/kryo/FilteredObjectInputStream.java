package io.msm.serializer.kryo;

import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectStreamClass;
import java.lang.reflect.Proxy;

/**
 * Java serialization under msm's deny list, depth and allocation bounds, and the JVM-wide filter an
 * administrator may have set ({@code -Djdk.serialFilter} or a filter factory): setting a stream's filter replaces
 * the JVM-wide one, so this filter applies it first; a class either rejects is refused.
 */
final class FilteredObjectInputStream extends ObjectInputStream {
    private final ClassLoader loader;
    private final ClassPolicy policy;
    Class<?> rejected;
    String rejectedBy;

    FilteredObjectInputStream(InputStream in, ClassLoader loader, ClassPolicy policy, long streamBytes)
            throws IOException {
        super(in);
        this.loader = loader;
        this.policy = policy;
        ObjectInputFilter jvmWide = getObjectInputFilter();
        long[] arrayElements = new long[1];
        setObjectInputFilter(info -> {
            if (info.depth() > 100) {
                return ObjectInputFilter.Status.REJECTED;
            }
            if (info.arrayLength() >= 0) {
                arrayElements[0] += info.arrayLength();
                if (arrayElements[0] > streamBytes) {
                    return ObjectInputFilter.Status.REJECTED;
                }
            }
            ObjectInputFilter.Status admin = jvmWide == null ? ObjectInputFilter.Status.UNDECIDED
                    : jvmWide.checkInput(info);
            Class<?> c = info.serialClass();
            if (admin == ObjectInputFilter.Status.REJECTED) {
                return reject(c, "the JVM-wide deserialization filter (jdk.serialFilter)");
            }
            String denied = c == null ? null : policy.denyingPattern(c);
            if (denied != null) {
                return reject(c, denied.equals(ClassPolicy.CONFIGURED_FILTER)
                        ? "the configured deserializationFilter" : "msm's Kryo deny list (" + denied + ")");
            }
            return admin;
        });
    }

    private ObjectInputFilter.Status reject(Class<?> c, String by) {
        if (c != null && rejected == null) {
            rejected = c;
            rejectedBy = by;
        }
        return ObjectInputFilter.Status.REJECTED;
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
        try {
            return Class.forName(desc.getName(), false, loader);
        } catch (ClassNotFoundException e) {
            String denied = policy.denyingPattern(desc.getName());
            if (denied != null) { // not here, and refused if it were
                rejectedBy = "msm's Kryo deny list (" + denied + ")";
                throw new InvalidClassException(desc.getName(), "is refused by " + rejectedBy);
            }
            return super.resolveClass(desc);
        }
    }

    @Override
    @SuppressWarnings("deprecation")
    protected Class<?> resolveProxyClass(String[] interfaces) throws ClassNotFoundException {
        Class<?>[] resolved = new Class<?>[interfaces.length];
        for (int i = 0; i < interfaces.length; i++) {
            resolved[i] = Class.forName(interfaces[i], false, loader);
        }
        try {
            return Proxy.getProxyClass(loader, resolved);
        } catch (IllegalArgumentException e) {
            throw new ClassNotFoundException("proxy for " + String.join(", ", interfaces), e);
        }
    }
}
