package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.SerializerFactory;
import com.esotericsoftware.kryo.serializers.DefaultArraySerializers;
import com.esotericsoftware.kryo.serializers.CompatibleFieldSerializer;
import com.esotericsoftware.kryo.serializers.CompatibleFieldSerializer.CompatibleFieldSerializerConfig;
import com.esotericsoftware.kryo.serializers.EnumNameSerializer;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import io.msm.internal.GadgetClasses;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderContext;
import io.msm.spi.TranscoderException;
import io.msm.spi.TranscoderFactory;
import java.util.ArrayList;
import java.util.List;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * Session attributes with Kryo 5: smaller and faster than Java serialization, and attribute classes need not
 * implement {@link java.io.Serializable}. Select it with
 * {@code transcoderFactoryClass="io.msm.serializer.kryo.KryoTranscoderFactory"}.
 *
 * <p><b>What it stores.</b> Application classes field by field (no constructor is run on reading, through Objenesis,
 * so classes need no no-argument constructor); records through their canonical constructor; enums by constant name;
 * JDK collections, maps, wrappers ({@code Collections.unmodifiable*}, {@code synchronized*}), immutable collections
 * ({@code List.of}, ...), sub-lists, atomics, {@code java.time}, and the other JDK value types sessions hold with
 * serializers that use public JDK APIs only, so no {@code --add-opens} is needed on Java 11, 17 or 21. A JDK class
 * without such a serializer is stored with Java serialization if it is {@code Serializable}, and otherwise left out of
 * the session with a warning naming it; so are lambdas, hidden classes, and subclasses of JDK classes whose state
 * Kryo cannot reach. Nothing is stored in a form that reads back different.
 *
 * <p><b>Redeploys.</b> Application classes are written with Kryo's {@link CompatibleFieldSerializer}: field names once
 * per class per session, and each value's class. A new version of a class that adds fields (they keep their
 * default values), removes fields (their stored values are skipped) or reorders them reads the sessions stored by
 * the old version. What it cannot read (a field whose type changed incompatibly, a removed or renamed class) makes
 * that session unreadable with a {@link TranscoderException} naming the class; the session is then treated as
 * absent. Records likewise, by component name.
 *
 * <p><b>Security.</b> Reading never instantiates a class on {@link #DEFAULT_DENIED_CLASSES} or on a
 * {@link KryoCustomizer#deniedClasses() customizer's list}, nor a subclass of one (such attributes are also refused
 * when writing). Declared lengths of strings, arrays, collections and maps are checked against the bytes left before
 * anything is allocated. Hashing is bounded: an element or key hashed into a set or map is charged what its
 * {@code hashCode()} may visit, and a session whose charges exceed a bound for its size is refused
 * ({@link io.msm.internal.HashWork}: a hash bomb), as is a {@code java.net.URL} used as a hash key. Registration is optional: a {@link KryoCustomizer} may call {@code kryo.setRegistrationRequired(true)} and register
 * the application's classes, after which nothing else is read.
 *
 * <p><b>{@code copyCollectionsForSerialization}.</b> Collections are always written from a snapshot of their
 * elements taken before the elements are written; with this option a snapshot that meets a concurrent change
 * (another request changing the collection during a backup) is taken again instead of failing, so the backup does
 * not fail with {@code ConcurrentModificationException}. Synchronized wrappers are always copied under their lock.
 *
 * <p><b>{@code customConverter}.</b> Class names of {@link KryoCustomizer}s, loaded from the webapp.
 */
public final class KryoTranscoderFactory implements TranscoderFactory {

    /**
     * Classes never read from memcached: known deserialization gadget classes and JDK classes that run code or
     * reach the network or file system when built. The same list as the Java serializer's
     * ({@link GadgetClasses#PATTERNS}): a class name, or {@code <package>.**} (that package and every package below
     * it); a class is refused when it or one of its superclasses matches.
     */
    public static final List<String> DEFAULT_DENIED_CLASSES = GadgetClasses.PATTERNS;

    /** The first registration id a {@link KryoCustomizer} should use; lower ids belong to msm. */
    public static final int FIRST_APPLICATION_REGISTRATION_ID = 1000;

    /** Deepest object nesting written or read; deeper graphs fail instead of overflowing the stack. */
    public static final int MAX_DEPTH = 2000;

    @Override
    public SessionAttributesTranscoder createTranscoder(TranscoderContext context) {
        ClassLoader loader = context.classLoader();
        List<KryoCustomizer> customizers = new ArrayList<>();
        List<String> denied = new ArrayList<>(DEFAULT_DENIED_CLASSES);
        for (String className : context.customConverterClassNames()) {
            KryoCustomizer c = load(className, loader);
            customizers.add(c);
            denied.addAll(c.deniedClasses());
        }
        ClassPolicy policy;
        try {
            policy = new ClassPolicy(denied, context.deserializationFilter().orElse(null));
        } catch (IllegalArgumentException e) {
            throw new TranscoderException("customConverter: " + e.getMessage(), e);
        }
        boolean retry = context.copyCollectionsForSerialization();
        JavaSerializer java = new JavaSerializer(policy);
        // build one instance now, so a failing customizer stops the manager from starting
        newKryo(loader, policy, java, retry, customizers, context.name());
        return new KryoTranscoder(context.name(), () -> newKryo(loader, policy, java, retry, customizers,
                context.name()));
    }

    private static KryoCustomizer load(String className, ClassLoader loader) {
        Class<?> c;
        try {
            c = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new TranscoderException("customConverter " + className + " not found by the webapp class loader",
                    e);
        }
        if (!KryoCustomizer.class.isAssignableFrom(c)) {
            throw new TranscoderException("customConverter " + className + " does not implement "
                    + KryoCustomizer.class.getName() + (KryoCustomizer.class.getName().equals(className) ? ""
                    : " (as loaded by msm's class loader; is a second copy of msm-serializer-kryo in the webapp?)"));
        }
        try {
            return (KryoCustomizer) c.getConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new TranscoderException("customConverter " + className + " cannot be created (a public"
                    + " no-argument constructor is needed): " + e, e);
        }
    }

    /** Kryo's array serializers, behind a check of the declared length against the bytes left. */
    private static void installBoundedArrays(Kryo kryo) {
        kryo.addDefaultSerializer(byte[].class, BoundedInput.boundedArray(new DefaultArraySerializers.ByteArraySerializer()));
        kryo.addDefaultSerializer(char[].class, BoundedInput.boundedArray(new DefaultArraySerializers.CharArraySerializer()));
        kryo.addDefaultSerializer(short[].class,
                BoundedInput.boundedArray(new DefaultArraySerializers.ShortArraySerializer()));
        kryo.addDefaultSerializer(int[].class, BoundedInput.boundedArray(new DefaultArraySerializers.IntArraySerializer()));
        kryo.addDefaultSerializer(long[].class, BoundedInput.boundedArray(new DefaultArraySerializers.LongArraySerializer()));
        kryo.addDefaultSerializer(float[].class,
                BoundedInput.boundedArray(new DefaultArraySerializers.FloatArraySerializer()));
        kryo.addDefaultSerializer(double[].class,
                BoundedInput.boundedArray(new DefaultArraySerializers.DoubleArraySerializer()));
        kryo.addDefaultSerializer(boolean[].class,
                BoundedInput.boundedArray(new DefaultArraySerializers.BooleanArraySerializer()));
        kryo.addDefaultSerializer(String[].class,
                BoundedInput.boundedArray(new DefaultArraySerializers.StringArraySerializer()));
        kryo.addDefaultSerializer(Object[].class, new SerializerFactory.BaseSerializerFactory<Serializer<Object[]>>() {
            @Override
            @SuppressWarnings({"rawtypes", "unchecked"})
            public Serializer<Object[]> newSerializer(Kryo k, Class type) {
                return BoundedInput.boundedArray(new DefaultArraySerializers.ObjectArraySerializer(k, type));
            }
        });
    }

    static Kryo newKryo(ClassLoader loader, ClassPolicy policy, JavaSerializer java, boolean retry,
            List<KryoCustomizer> customizers, String name) {
        MsmKryo kryo = new MsmKryo(policy, java, retry);
        kryo.setClassLoader(loader);
        kryo.setRegistrationRequired(false);
        kryo.setReferences(true);
        kryo.setAutoReset(false); // one graph per session, reset by the transcoder
        kryo.setMaxDepth(MAX_DEPTH);
        kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
        CompatibleFieldSerializerConfig fields = new CompatibleFieldSerializerConfig();
        fields.setReadUnknownFieldData(true); // removed fields are skipped
        fields.setChunkedEncoding(false);
        fields.setIgnoreSyntheticFields(false); // inner classes keep their outer instance
        fields.setSerializeTransient(false);
        kryo.setDefaultSerializer(BoundedFieldSerializer.factory(fields));
        kryo.addDefaultSerializer(Enum.class, EnumNameSerializer.class);
        RecordSerializer.install(kryo);
        installBoundedArrays(kryo);
        Registrations.apply(kryo, java, retry);
        for (KryoCustomizer c : customizers) {
            try {
                c.customize(kryo);
            } catch (RuntimeException | LinkageError e) {
                throw new TranscoderException("[" + name + "] customConverter " + c.getClass().getName()
                        + " failed: " + e, e);
            }
        }
        return kryo;
    }
}
