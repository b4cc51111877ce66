package io.msm.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.anchor.AnchorBlob;
import io.msm.serializer.java.JavaSerializationTranscoder;
import io.msm.serializer.java.JavaSerializationTranscoderFactory;
import io.msm.spi.TranscoderContext;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * msm reads what memcached-session-manager 2.3.2 itself writes: a session serialized by the old manager's own
 * TranscoderService and Java transcoder (its published jars, in their own class loader) is parsed by
 * {@link AnchorBlob} and its attributes read by msm's Java serializer.
 */
class AnchorFormatTest {

    @Test
    void aSessionTheOldManagerSerializedReadsBackInMsm() throws Exception {
        ClassLoader l = AnchorCodec.loader();
        Class<?> sessionType = Class.forName("de.javakaffee.web.msm.MemcachedBackupSession", true, l);
        Object session = sessionType.getConstructor().newInstance();
        call(session, "setIdInternal", String.class, "0123456789ABCDEF0123456789ABCDEF-n1.tc1");
        call(session, "setCreationTimeInternal", long.class, 1700000000000L);
        call(session, "setLastAccessedTimeInternal", long.class, 1700000001000L);
        call(session, "setThisAccessedTimeInternal", long.class, 1700000002000L);
        call(session, "setIsNewInternal", boolean.class, false);
        call(session, "setIsValidInternal", boolean.class, true);
        call(session, "setMaxInactiveInterval", int.class, 1800);

        Object transcoder = oldJavaTranscoder(l);
        Class<?> api = Class.forName("de.javakaffee.web.msm.SessionAttributesTranscoder", true, l);
        Object service = Class.forName("de.javakaffee.web.msm.TranscoderService", true, l).getConstructor(api)
                .newInstance(transcoder);
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("user", "alice");
        attributes.put("cart", new ArrayList<>(List.of("book", "pen")));
        attributes.put("count", 3);
        byte[] attributeBytes = (byte[]) service.getClass().getMethod("serializeAttributes", sessionType,
                java.util.concurrent.ConcurrentMap.class).invoke(service, session, new ConcurrentHashMap<>(attributes));
        byte[] blob = (byte[]) service.getClass().getMethod("serialize", sessionType, byte[].class)
                .invoke(service, session, attributeBytes);

        AnchorBlob b = AnchorBlob.parse(blob);
        assertEquals(2, b.version());
        assertEquals("0123456789ABCDEF0123456789ABCDEF-n1.tc1", b.id());
        assertEquals(1700000000000L, b.creationTime());
        assertEquals(1700000001000L, b.lastAccessedTime());
        assertEquals(1700000002000L, b.thisAccessedTime());
        assertEquals(1800, b.maxInactiveInterval());
        assertFalse(b.isNew());
        assertTrue(b.isValid());
        assertNull(b.authType());
        JavaSerializationTranscoder msm = (JavaSerializationTranscoder) new JavaSerializationTranscoderFactory()
                .createTranscoder(context(getClass().getClassLoader()));
        assertEquals(attributes, msm.deserializeAnchorAttributes(b.attributes()));
    }

    private static TranscoderContext context(ClassLoader loader) {
        return new TranscoderContext() {
            @Override
            public ClassLoader classLoader() {
                return loader;
            }

            @Override
            public boolean copyCollectionsForSerialization() {
                return false;
            }

            @Override
            public List<String> customConverterClassNames() {
                return List.of();
            }

            @Override
            public String name() {
                return "/";
            }
        };
    }

    private static void call(Object target, String name, Class<?> type, Object arg) throws Exception {
        Method m = find(target.getClass(), name, type);
        m.setAccessible(true);
        m.invoke(target, arg);
    }

    private static Method find(Class<?> c, String name, Class<?> type) throws NoSuchMethodException {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            try {
                return k.getDeclaredMethod(name, type);
            } catch (NoSuchMethodException e) {
                // its superclass
            }
        }
        throw new NoSuchMethodException(name);
    }

    /** The old manager's JavaSerializationTranscoder, with a manager that only gives it its class loader. */
    private static Object oldJavaTranscoder(ClassLoader l) throws Exception {
        Class<?> managerType = Class.forName("de.javakaffee.web.msm.MemcachedSessionService$SessionManager", true, l);
        Object manager = Proxy.newProxyInstance(l, new Class<?>[] {managerType}, (proxy, method, args) -> {
            switch (method.getName()) {
                case "getContainerClassLoader": return l;
                case "getString": return String.valueOf(args[0]);
                case "hashCode": return 1;
                case "equals": return proxy == args[0];
                default: return method.getReturnType() == boolean.class ? Boolean.FALSE : null;
            }
        });
        return Class.forName("de.javakaffee.web.msm.JavaSerializationTranscoder", true, l).getConstructor(managerType)
                .newInstance(manager);
    }
}
