package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.DateSerializer;
import com.esotericsoftware.kryo.serializers.MapSerializer;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.MapReferenceResolver;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.Date;
import java.util.Map;

/**
 * Kryo as msm configures it. Two things differ from plain Kryo:
 *
 * <ul>
 *   <li>Default serializers never reflect into JDK internals. A JDK class (or a subclass of a JDK class with
 *       internal state) that has no serializer of its own is stored with Java serialization if it is
 *       {@link Serializable}, and otherwise refused at write time with the reason: never written in a form that
 *       reads back different, or that needs {@code --add-opens}.</li>
 *   <li>The class resolver applies the deny list and refuses classes that cannot be found again by name (lambdas,
 *       hidden classes, classes of another class loader).</li>
 * </ul>
 */
final class MsmKryo extends Kryo {
    private final JavaSerializer java;
    private final boolean retry;

    MsmKryo(ClassPolicy policy, JavaSerializer java, boolean retry) {
        super(new PolicyClassResolver(policy), new MapReferenceResolver());
        this.java = java;
        this.retry = retry;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Serializer getDefaultSerializer(Class type) {
        if (type.isEnum() || Enum.class.isAssignableFrom(type) || type.isArray() || type.isPrimitive()
                || type.isInterface() || isProxy(type)) {
            return super.getDefaultSerializer(type);
        }
        if (isClosedJdk(type)) {
            Serializer chosen = super.getDefaultSerializer(type); // never a field serializer: newDefaultSerializer
            boolean generic = chosen.getClass() == CollectionSerializer.class
                    || chosen.getClass() == MapSerializer.class
                    || (chosen instanceof DateSerializer && type != Date.class);
            return generic ? javaOrRefuse(type, "it is a JDK class msm has no Kryo serializer for") : chosen;
        }
        // an application class: where does its state live?
        boolean statefulJdkSuper = false;
        boolean ownFields = false;
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            boolean jdk = isClosedJdk(c);
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                if (jdk) {
                    statefulJdkSuper = true;
                } else if (!Modifier.isTransient(f.getModifiers())) {
                    ownFields = true;
                }
            }
        }
        boolean container = Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type);
        if (container && !ownFields) {
            if (!hasNoArgConstructor(type)) {
                return javaOrRefuse(type, "it is a collection or map without a no-argument constructor");
            }
            return Map.class.isAssignableFrom(type) ? new CollectionSerializers.MapSerializer(null, false, retry)
                    : new CollectionSerializers.CollectionSerializer(null, false, retry);
        }
        if (statefulJdkSuper) {
            return javaOrRefuse(type, "it extends " + firstClosedJdkSuperclass(type).getName()
                    + (container ? " and declares fields of its own" : ""));
        }
        if (container) {
            return newDefaultSerializer(type); // all state is in the application's own fields
        }
        return super.getDefaultSerializer(type);
    }

    /** Kryo's fallback (the field serializer), except for JDK classes, whose fields are out of reach. */
    @Override
    @SuppressWarnings("rawtypes")
    protected Serializer newDefaultSerializer(Class type) {
        if (isClosedJdk(type)) {
            return javaOrRefuse(type, "it is a JDK class msm has no Kryo serializer for");
        }
        return super.newDefaultSerializer(type);
    }

    private Serializer<?> javaOrRefuse(Class<?> type, String why) {
        if (Serializable.class.isAssignableFrom(type)) {
            return java;
        }
        return new RefusingSerializer("msm's Kryo transcoder cannot store " + type.getName()
                + " faithfully: " + why + " (whose state Kryo cannot reach without --add-opens) and it is not "
                + "java.io.Serializable; register a serializer for it with a customConverter (KryoCustomizer)");
    }

    private static boolean hasNoArgConstructor(Class<?> type) {
        try {
            type.getDeclaredConstructor();
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static Class<?> firstClosedJdkSuperclass(Class<?> type) {
        Class<?> c = type;
        while (c != null && !isClosedJdk(c)) {
            c = c.getSuperclass();
        }
        return c == null ? Object.class : c;
    }

    /** A class in a named module (the JDK's) whose package is not open to Kryo: its private state is out of reach. */
    static boolean isClosedJdk(Class<?> type) {
        Module module = type.getModule();
        return module.isNamed() && !module.isOpen(type.getPackageName(), Kryo.class.getModule());
    }

    /**
     * Resolves class names through the webapp loader (Kryo's {@link Kryo#setClassLoader}) and applies the deny
     * list to every class the first time a Kryo instance meets it, whether writing or reading: a denied class is
     * never registered, so it is refused every time.
     */
    static final class PolicyClassResolver extends DefaultClassResolver {
        private final ClassPolicy policy;

        PolicyClassResolver(ClassPolicy policy) {
            this.policy = policy;
        }

        @Override
        @SuppressWarnings("rawtypes")
        public Registration registerImplicit(Class type) {
            String denied = policy.denyingPattern(type);
            if (denied != null) {
                throw new KryoException("class " + type.getName() + " is refused by "
                        + (denied.equals(ClassPolicy.CONFIGURED_FILTER) ? "the configured deserializationFilter"
                        : "msm's Kryo deny list (" + denied + ")"));
            }
            Class<?> named = type;
            while (named.isArray()) {
                named = named.getComponentType();
            }
            if (!named.isPrimitive() && !resolvesToItself(named)) {
                throw new KryoException("class " + type.getName() + " cannot be found by name through the webapp"
                        + " class loader (a lambda, a hidden class, or a class of another class loader), so it could"
                        + " not be read back");
            }
            return super.registerImplicit(type);
        }

        private boolean resolvesToItself(Class<?> type) {
            try {
                return Class.forName(type.getName(), false, kryo.getClassLoader()) == type
                        || Class.forName(type.getName(), false, Kryo.class.getClassLoader()) == type;
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }

        /** The class name being resolved, for the message when it cannot be. */
        private String resolving;

        @Override
        @SuppressWarnings("rawtypes")
        protected Class getTypeByName(String className) {
            resolving = className;
            return super.getTypeByName(className);
        }

        @Override
        protected Registration readName(Input input) {
            resolving = null;
            try {
                return super.readName(input);
            } catch (KryoException e) {
                if (e.getCause() instanceof ClassNotFoundException) {
                    String denied = resolving == null ? null : policy.denyingPattern(resolving);
                    if (denied != null) { // not here, and refused if it were
                        throw new KryoException("class " + resolving + " is refused by msm's Kryo deny list ("
                                + denied + ")", e);
                    }
                    throw new KryoException(e.getMessage() + " (not found by the webapp class loader)", e);
                }
                throw e;
            }
        }
    }
}
