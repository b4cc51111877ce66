package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.msm.internal.ObjectPool;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderException;
import java.lang.System.Logger.Level;
import java.util.Collections;
import java.util.ConcurrentModificationException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Kryo serialization of session attributes: a format byte pair, the attribute count, then name and value per
 * attribute, all in one Kryo object graph (so an object held by two attributes is stored once and read back as
 * one object).
 *
 * <p>Kryo instances are not thread-safe; each one, with its buffers, lives in a pool and is used by one thread at a
 * time. Attributes that cannot be stored are left out and reported once per attribute and class, as the Java
 * transcoder does.
 */
final class KryoTranscoder implements SessionAttributesTranscoder {

    private static final System.Logger LOG = System.getLogger("io.msm.serializer.kryo");

    /** First byte of every blob: tells a Kryo blob from a Java-serialized one (0xAC). */
    static final byte MAGIC = 'K';
    /** Second byte: this layout. */
    static final byte FORMAT_VERSION = 1;
    /** An output buffer larger than this is not kept in the pool after use. */
    private static final int MAX_POOLED_BUFFER = 1 << 20;

    private final String name;
    /** Workers kept for reuse (without a lock: Kryo's own pool is a LinkedBlockingQueue, a lock per use). */
    private final ObjectPool<Worker> pool = new ObjectPool<>(ObjectPool.defaultCapacity());
    private final Supplier<Kryo> kryoFactory;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    KryoTranscoder(String name, Supplier<Kryo> kryoFactory) {
        this.name = name;
        this.kryoFactory = kryoFactory;
    }

    private Worker obtain() {
        Worker w = pool.take();
        return w != null ? w : new Worker(kryoFactory.get());
    }

    /** A Kryo instance with its reusable buffers. */
    private static final class Worker {
        final Kryo kryo;
        Output output = new Output(4096, -1);
        final Input input = new BoundedInput();

        Worker(Kryo kryo) {
            this.kryo = kryo;
        }
    }

    @Override
    public byte[] serialize(Map<String, Object> attributes) {
        Worker w = obtain();
        try {
            try {
                return write(w, attributes);
            } catch (RuntimeException | StackOverflowError e) {
                if (causedBy(e, ConcurrentModificationException.class)) {
                    throw new TranscoderException("a collection in the session changed while it was serialized"
                            + " (copyCollectionsForSerialization=true copies collections first): " + e, e);
                }
                // find the attributes at fault, store the others
                Map<String, Object> kept = new LinkedHashMap<>(attributes);
                kept.entrySet().removeIf(entry -> {
                    try {
                        write(w, Collections.singletonMap(entry.getKey(), entry.getValue()));
                        return false;
                    } catch (RuntimeException | StackOverflowError inner) {
                        report(entry.getKey(), entry.getValue(), inner);
                        return true;
                    }
                });
                try {
                    return write(w, kept);
                } catch (RuntimeException | StackOverflowError again) {
                    throw new TranscoderException("cannot serialize session attributes: " + again, again);
                }
            }
        } finally {
            if (w.output.getBuffer().length > MAX_POOLED_BUFFER) {
                w.output = new Output(4096, -1);
            }
            pool.give(w);
        }
    }

    private static byte[] write(Worker w, Map<String, Object> attributes) {
        Kryo kryo = w.kryo;
        Output out = w.output;
        out.reset();
        try {
            out.writeByte(MAGIC);
            out.writeByte(FORMAT_VERSION);
            out.writeVarInt(attributes.size(), true);
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                out.writeString(e.getKey());
                kryo.writeClassAndObject(out, e.getValue());
            }
            return out.toBytes();
        } finally {
            kryo.reset();
        }
    }

    private void report(String attribute, Object value, Throwable why) {
        String className = value == null ? "null" : value.getClass().getName();
        if (reported.add(attribute + "/" + className)) {
            LOG.log(Level.WARNING, () -> "[" + name + "] session attribute " + attribute + " (" + className
                    + ") is not stored in memcached: " + firstLine(why) + " (reported once per attribute and class)");
        }
    }

    @Override
    public Map<String, Object> deserialize(byte[] data) {
        if (data.length < 2 || data[0] != MAGIC) {
            throw new TranscoderException("not a blob of msm's Kryo transcoder (starts with "
                    + (data.length == 0 ? "nothing" : String.format("0x%02X", data[0] & 0xFF))
                    + "; was it written with another transcoderFactoryClass?)");
        }
        if (data[1] != FORMAT_VERSION) {
            throw new TranscoderException("unknown Kryo blob format version " + data[1]);
        }
        Worker w = obtain();
        Kryo kryo = w.kryo;
        Input in = w.input;
        String attribute = null;
        try {
            in.setBuffer(data, 2, data.length - 2);
            JdkSerializers.startHashWork(kryo, data.length);
            int count = JdkSerializers.count(in, 2);
            Map<String, Object> attributes = new LinkedHashMap<>(Math.max(4, count * 2));
            for (int i = 0; i < count; i++) {
                attribute = null;
                String key = in.readString();
                if (key == null) {
                    throw new TranscoderException("attribute name " + i + " is missing");
                }
                attribute = key;
                attributes.put(key, kryo.readClassAndObject(in));
            }
            if (in.position() != in.limit()) {
                throw new TranscoderException((in.limit() - in.position()) + " bytes after the last attribute");
            }
            return attributes;
        } catch (TranscoderException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            throw new TranscoderException("cannot read session attributes" + (attribute == null ? ""
                    : " (attribute " + attribute + ")") + ": " + firstLine(e), e);
        } finally {
            kryo.reset();
            in.setBuffer(new byte[0]);
            pool.give(w);
        }
    }

    /** Kryo appends a multi-line serialization trace to its messages; the first line carries the cause. */
    private static String firstLine(Throwable e) {
        String text = String.valueOf(e.getMessage());
        int nl = text.indexOf('\n');
        String first = nl < 0 ? text : text.substring(0, nl);
        return e.getClass().getSimpleName() + ": " + first;
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }
}
