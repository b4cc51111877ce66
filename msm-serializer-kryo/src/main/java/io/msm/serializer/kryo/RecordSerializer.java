package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.SerializerFactory;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.ObjectMap;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;

/**
 * Records (Java 16+), tolerant of redeploys like the field serializer: component names once per class per session,
 * then each value with its class; reading matches components by name, skips removed ones, gives added ones their
 * default (null, 0, false), and refuses a stored value whose type no longer fits. Built through the canonical
 * constructor, found through the public {@code Class.getRecordComponents()} API by reflection, so this compiles for
 * Java 11 and is only installed where records exist.
 */
final class RecordSerializer extends Serializer<Object> {
    private static final Method GET_RECORD_COMPONENTS;
    private static final Method COMPONENT_NAME;
    private static final Method COMPONENT_TYPE;
    private static final Method COMPONENT_ACCESSOR;
    static final Class<?> RECORD;

    static {
        Method components = null;
        Method name = null;
        Method type = null;
        Method accessor = null;
        Class<?> record = null;
        try {
            record = Class.forName("java.lang.Record");
            components = Class.class.getMethod("getRecordComponents");
            Class<?> component = Class.forName("java.lang.reflect.RecordComponent");
            name = component.getMethod("getName");
            type = component.getMethod("getType");
            accessor = component.getMethod("getAccessor");
        } catch (ReflectiveOperationException e) {
            record = null; // before Java 16
        }
        RECORD = record;
        GET_RECORD_COMPONENTS = components;
        COMPONENT_NAME = name;
        COMPONENT_TYPE = type;
        COMPONENT_ACCESSOR = accessor;
    }

    /** Installs the serializer for all records, where the JDK has them. */
    static void install(Kryo kryo) {
        if (RECORD != null) {
            kryo.addDefaultSerializer(RECORD, new SerializerFactory.BaseSerializerFactory<RecordSerializer>() {
                @Override
                @SuppressWarnings("rawtypes")
                public RecordSerializer newSerializer(Kryo k, Class type) {
                    return new RecordSerializer(type);
                }
            });
        }
    }

    private final Class<?> type;
    private final String[] names;
    private final Class<?>[] types;
    private final Method[] accessors;
    private final Constructor<?> canonical;

    RecordSerializer(Class<?> type) {
        this.type = type;
        setImmutable(true);
        try {
            Object[] components = (Object[]) GET_RECORD_COMPONENTS.invoke(type);
            names = new String[components.length];
            types = new Class<?>[components.length];
            accessors = new Method[components.length];
            for (int i = 0; i < components.length; i++) {
                names[i] = (String) COMPONENT_NAME.invoke(components[i]);
                types[i] = (Class<?>) COMPONENT_TYPE.invoke(components[i]);
                accessors[i] = (Method) COMPONENT_ACCESSOR.invoke(components[i]);
                accessors[i].setAccessible(true);
            }
            canonical = type.getDeclaredConstructor(types);
            canonical.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new KryoException("cannot serialize record " + type.getName() + ": " + e, e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void write(Kryo kryo, Output output, Object record) {
        ObjectMap<Object, Object> context = kryo.getGraphContext();
        if (!context.containsKey(this)) {
            context.put(this, null);
            output.writeVarInt(names.length, true);
            for (String n : names) {
                output.writeString(n);
            }
        }
        for (int i = 0; i < accessors.length; i++) {
            Object value;
            try {
                value = accessors[i].invoke(record);
            } catch (ReflectiveOperationException e) {
                throw new KryoException("cannot read component " + names[i] + " of " + type.getName() + ": " + e, e);
            }
            kryo.writeClassAndObject(output, value);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public Object read(Kryo kryo, Input input, Class<?> ignored) {
        ObjectMap<Object, Object> context = kryo.getGraphContext();
        int[] slots = (int[]) context.get(this);
        if (slots == null) {
            slots = new int[JdkSerializers.count(input, 1)];
            for (int i = 0; i < slots.length; i++) {
                slots[i] = indexOf(input.readString());
            }
            context.put(this, slots);
        }
        Object[] values = new Object[names.length];
        for (int i = 0; i < types.length; i++) {
            if (types[i].isPrimitive()) {
                values[i] = Array.get(Array.newInstance(types[i], 1), 0); // the default: 0, false
            }
        }
        for (int slot : slots) {
            Object value = kryo.readClassAndObject(input);
            if (slot < 0) {
                continue; // a component this version of the record no longer has
            }
            if (value == null ? types[slot].isPrimitive() : !boxed(types[slot]).isInstance(value)) {
                throw new KryoException("record " + type.getName() + " component " + names[slot] + " is now "
                        + types[slot].getName() + " but was stored as "
                        + (value == null ? "null" : value.getClass().getName()));
            }
            values[slot] = value;
        }
        try {
            return canonical.newInstance(values);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new KryoException("cannot create record " + type.getName() + ": " + e, e);
        }
    }

    private int indexOf(String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static Class<?> boxed(Class<?> c) {
        if (!c.isPrimitive()) {
            return c;
        }
        return Array.get(Array.newInstance(c, 1), 0).getClass();
    }
}
