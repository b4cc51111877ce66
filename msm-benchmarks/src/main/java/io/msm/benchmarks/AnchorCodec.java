package io.msm.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Proxy;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.objenesis.ObjenesisStd;

/**
 * memcached-session-manager 2.3.2's published transcoders (the anchor), loaded from its jars on Maven Central in a
 * class loader of their own: they see the JDK, Tomcat 9 and their own dependencies (Kryo 4, kryo-serializers), never
 * msm's classes or Kryo 5; only the session payload classes ({@code io.msm.benchmarks.model}) are shared, so both
 * sides serialize the very same objects. Called through method handles.
 */
final class AnchorCodec implements Codec {

    /** The anchor's jars, copied into {@code anchor-lib/} of this module's classes by the build. */
    static final List<String> JARS = List.of("memcached-session-manager.jar", "msm-kryo-serializer.jar", "kryo.jar",
            "kryo-serializers.jar", "minlog.jar", "reflectasm.jar", "asm.jar", "objenesis.jar",
            "tomcat-embed-core.jar");

    private static volatile ClassLoader loader;

    private final Object transcoder;
    private final Object session;
    private final MethodHandle serialize;
    private final MethodHandle deserialize;

    private AnchorCodec(Object transcoder) throws ReflectiveOperationException {
        this.transcoder = transcoder;
        ClassLoader l = transcoder.getClass().getClassLoader();
        Class<?> backupSession = Class.forName("de.javakaffee.web.msm.MemcachedBackupSession", true, l);
        Class<?> api = Class.forName("de.javakaffee.web.msm.SessionAttributesTranscoder", true, l);
        // the anchor's Java transcoder asks the session whether an attribute is excluded; with no manager, none is
        this.session = new ObjenesisStd().newInstance(backupSession);
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        this.serialize = lookup.findVirtual(api, "serializeAttributes",
                MethodType.methodType(byte[].class, backupSession, ConcurrentMap.class));
        this.deserialize = lookup.findVirtual(api, "deserializeAttributes",
                MethodType.methodType(ConcurrentMap.class, byte[].class));
    }

    static Codec java() {
        try {
            ClassLoader l = loader();
            Class<?> managerType = Class.forName("de.javakaffee.web.msm.MemcachedSessionService$SessionManager",
                    true, l);
            Object manager = Proxy.newProxyInstance(l, new Class<?>[] {managerType}, (proxy, method, args) -> {
                switch (method.getName()) {
                    case "getContainerClassLoader": return l;
                    case "getString": return String.valueOf(args[0]);
                    case "hashCode": return 1;
                    case "equals": return proxy == args[0];
                    case "toString": return "benchmark manager";
                    default: return defaultValue(method.getReturnType());
                }
            });
            Object t = Class.forName("de.javakaffee.web.msm.JavaSerializationTranscoder", true, l)
                    .getConstructor(managerType).newInstance(manager);
            return new AnchorCodec(t);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create memcached-session-manager's Java transcoder: " + e, e);
        }
    }

    static Codec kryo() {
        try {
            ClassLoader l = loader();
            Object t = Class.forName("de.javakaffee.web.msm.serializer.kryo.KryoTranscoder", true, l)
                    .getConstructor(ClassLoader.class, String[].class, boolean.class)
                    .newInstance(l, new String[0], false);
            return new AnchorCodec(t);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create memcached-session-manager's Kryo transcoder: " + e, e);
        }
    }

    private static Object defaultValue(Class<?> type) {
        if (type == boolean.class) {
            return false;
        }
        if (type == int.class || type == long.class || type == short.class || type == byte.class) {
            return java.lang.reflect.Array.get(java.lang.reflect.Array.newInstance(type, 1), 0);
        }
        return null;
    }

    @Override
    public byte[] serialize(Map<String, Object> attributes) {
        try {
            return (byte[]) serialize.invoke(transcoder, session, new ConcurrentHashMap<>(attributes));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public Map<String, Object> deserialize(byte[] bytes) {
        try {
            return (Map<String, Object>) deserialize.invoke(transcoder, bytes);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** The anchor's class loader: its jars, extracted once, over a parent that shares only the payload classes. */
    static ClassLoader loader() {
        ClassLoader l = loader;
        if (l == null) {
            synchronized (AnchorCodec.class) {
                l = loader;
                if (l == null) {
                    loader = l = createLoader();
                }
            }
        }
        return l;
    }

    private static ClassLoader createLoader() {
        try {
            Path dir = Files.createTempDirectory("msm-anchor");
            dir.toFile().deleteOnExit();
            URL[] urls = new URL[JARS.size()];
            for (int i = 0; i < urls.length; i++) {
                String resource = "anchor-lib/" + JARS.get(i);
                try (InputStream in = AnchorCodec.class.getClassLoader().getResourceAsStream(resource)) {
                    if (in == null) {
                        throw new IllegalStateException(resource + " is missing: build msm-benchmarks with Maven");
                    }
                    Path jar = dir.resolve(JARS.get(i));
                    Files.copy(in, jar, StandardCopyOption.REPLACE_EXISTING);
                    jar.toFile().deleteOnExit();
                    urls[i] = jar.toUri().toURL();
                }
            }
            return new URLClassLoader("anchor-msm-2.3.2", urls, new PayloadOnly(AnchorCodec.class.getClassLoader()));
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Delegates the payload classes to the benchmark's loader and everything else to the JDK's platform loader. */
    private static final class PayloadOnly extends ClassLoader {
        private static final String PAYLOAD = "io.msm.benchmarks.model.";
        private final ClassLoader app;

        PayloadOnly(ClassLoader app) {
            super("anchor-parent", ClassLoader.getPlatformClassLoader());
            this.app = app;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith(PAYLOAD)) {
                return app.loadClass(name);
            }
            return super.loadClass(name, resolve);
        }
    }
}
