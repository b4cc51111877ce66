package io.msm.serializer.java;

import io.msm.internal.GadgetClasses;
import io.msm.internal.HashWork;
import io.msm.internal.ObjectPool;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderException;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Java serialization of session attributes: an int count, then name and value per attribute, in one object stream.
 *
 * <p>Attributes whose values are not serializable are left out (Tomcat's own session persistence does the same) and
 * reported once per attribute name and class. Reading first walks the stream's grammar and refuses it if reading
 * it would hash more than a bound for its size ({@link HashWork}: a hash bomb), then resolves classes through the
 * webapp class loader under a JEP 290 filter that refuses known deserialization gadget classes and bounds depth,
 * references and array sizes, combined with the JVM-wide filter if an administrator set one.
 */
public final class JavaSerializationTranscoder implements SessionAttributesTranscoder {

    private static final System.Logger LOG = System.getLogger("io.msm.serializer.java");

    /** The default JEP 290 limits: object nesting, references and array lengths in one session. */
    public static final String DEFAULT_LIMITS = String.join(";", "maxdepth=100", "maxrefs=1000000", "maxarray=10000000");

    /**
     * The default JEP 290 filter: limits, then the classes on msm's deny list refused ({@link GadgetClasses#PATTERNS},
     * the list the Kryo serializer refuses too; {@code pkg.**} is that package and every package below it). On top
     * of this pattern, a class whose superclass is on the list is refused too (a subclass of
     * {@code java.rmi.server.UnicastRemoteObject}, say). Everything else is allowed (a session may hold any of the
     * webapp's serializable classes). A {@code deserializationFilter} pattern goes between the limits and the
     * refused classes: its limits replace these, its class patterns are checked before the refused classes. An
     * administrator's JVM-wide filter ({@code -Djdk.serialFilter}, a filter factory) applies as well: a class either
     * rejects is refused.
     */
    public static final String DEFAULT_FILTER = DEFAULT_LIMITS + ";" + GadgetClasses.filterPattern();

    private final ObjectStreamGuard guard;
    private final boolean copyCollections;
    private final String name;
    private final Set<String> reportedUnserializable = ConcurrentHashMap.newKeySet();
    /** Object streams kept for reuse (a write's bytes are those of a new stream). */
    private final ObjectPool<ReusableObjectOutput> streams = new ObjectPool<>(ObjectPool.defaultCapacity());

    /**
     * @param configuredFilter a {@code deserializationFilter} pattern, or {@code null}
     */
    JavaSerializationTranscoder(ClassLoader classLoader, boolean copyCollections, String name, String configuredFilter) {
        this.guard = new ObjectStreamGuard(classLoader, new DecisionCachingFilter(
                ObjectInputFilter.Config.createFilter(effectiveFilter(configuredFilter))));
        this.copyCollections = copyCollections;
        this.name = name;
    }

    /**
     * A reader of what memcached-session-manager 2.x stored with Java serialization (whatever serializer msm itself
     * uses), under msm's guard with the configured {@code deserializationFilter} ({@code null}: the default).
     */
    public static JavaSerializationTranscoder forLegacySessions(ClassLoader classLoader, String name,
            boolean copyCollections, String configuredFilter) {
        return new JavaSerializationTranscoder(classLoader, copyCollections, name, configuredFilter);
    }

    /** The filter pattern used with a {@code deserializationFilter} pattern (or {@code null}). */
    static String effectiveFilter(String configured) {
        if (configured == null || configured.isBlank()) {
            return DEFAULT_FILTER;
        }
        return DEFAULT_LIMITS + ";" + configured.trim() + ";" + DEFAULT_FILTER.substring(DEFAULT_LIMITS.length() + 1);
    }

    @Override
    public byte[] serialize(Map<String, Object> attributes) {
        Map<String, Object> serializable = new LinkedHashMap<>();
        attributes.forEach((k, v) -> {
            if (v == null || v instanceof Serializable) {
                serializable.put(k, copyCollections ? ShallowCopy.of(v) : v);
            } else {
                reportUnserializable(k, v, "does not implement java.io.Serializable");
            }
        });
        try {
            return writeLeavingOut(serializable, this::write);
        } catch (RuntimeException e) {
            throw e instanceof TranscoderException ? e : copyRaced(e);
        }
    }

    /** One way to write attributes as a stream. */
    private interface StreamWriter {
        byte[] write(Map<String, Object> attributes) throws IOException;
    }

    /**
     * {@code attributes} written by {@code writer}; if something nested is not serializable, the attributes at fault
     * are left out (and reported) and the others written.
     */
    private byte[] writeLeavingOut(Map<String, Object> attributes, StreamWriter writer) {
        try {
            return writer.write(attributes);
        } catch (NotSerializableException e) {
            attributes.entrySet().removeIf(entry -> {
                try {
                    writer.write(Map.of(entry.getKey(), entry.getValue()));
                    return false;
                } catch (IOException inner) {
                    reportUnserializable(entry.getKey(), entry.getValue(), inner.toString());
                    return true;
                }
            });
            try {
                return writer.write(attributes);
            } catch (IOException again) {
                throw new TranscoderException("cannot serialize session attributes: " + again, again);
            }
        } catch (IOException e) {
            throw new TranscoderException("cannot serialize session attributes: " + e, e);
        }
    }

    /**
     * With {@code copyCollectionsForSerialization}, a collection cloned while another thread changed it can be
     * inconsistent without the clone failing (e.g. an {@code ArrayList} whose size exceeds its array, which then
     * throws {@code ArrayIndexOutOfBoundsException} while it is written). That is the same concurrent change the copy
     * is for, so it is reported as one: the engine serializes the session again.
     */
    private RuntimeException copyRaced(RuntimeException e) {
        if (!copyCollections || e instanceof ConcurrentModificationException) {
            return e;
        }
        ConcurrentModificationException raced = new ConcurrentModificationException(
                "a collection attribute changed while it was copied for serialization: " + e);
        raced.initCause(e);
        return raced;
    }

    private void reportUnserializable(String attribute, Object value, String why) {
        String key = attribute + "/" + value.getClass().getName();
        if (reportedUnserializable.add(key)) {
            LOG.log(Level.WARNING, () -> "[" + name + "] session attribute " + attribute + " ("
                    + value.getClass().getName() + ") is not stored in memcached: " + why
                    + " (reported once per attribute and class)");
        }
    }

    /**
     * The attributes as memcached-session-manager 2.x's Java transcoder wrote them (an {@code Integer} count, then
     * name and value pairs in one stream), so that it reads a session msm stored; attributes that cannot be
     * serialized are left out and reported, as by {@link #serialize(Map)}.
     *
     * @throws TranscoderException if the attributes cannot be serialized
     */
    public byte[] serializeAnchorAttributes(Map<String, Object> attributes) {
        Map<String, Object> serializable = new LinkedHashMap<>();
        attributes.forEach((k, v) -> {
            if (v instanceof Serializable) {
                serializable.put(k, copyCollections ? ShallowCopy.of(v) : v);
            } else if (v != null) {
                reportUnserializable(k, v, "does not implement java.io.Serializable");
            }
        });
        try {
            return writeLeavingOut(serializable, this::writeAnchor);
        } catch (RuntimeException e) {
            throw e instanceof TranscoderException ? e : copyRaced(e);
        }
    }

    private byte[] writeAnchor(Map<String, Object> attributes) throws IOException {
        return pooled(out -> {
            out.writeObject(Integer.valueOf(attributes.size()));
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                out.writeObject(e.getKey());
                out.writeObject(e.getValue());
            }
        });
    }

    private byte[] write(Map<String, Object> attributes) throws IOException {
        return pooled(out -> {
            out.writeInt(attributes.size());
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                out.writeObject(e.getKey());
                out.writeObject(e.getValue());
            }
        });
    }

    /** {@code body} written by a stream from the pool (or a new one); a stream whose write threw is dropped. */
    private byte[] pooled(ReusableObjectOutput.Body body) throws IOException {
        ReusableObjectOutput stream = streams.take();
        if (stream == null) {
            stream = new ReusableObjectOutput();
        }
        byte[] bytes = stream.write(body);
        if (stream.reusable()) {
            streams.give(stream);
        }
        return bytes;
    }

    @Override
    public Map<String, Object> deserialize(byte[] data) {
        return read(data, ObjectInputStream::readInt, null);
    }

    /** memcached-session-manager's stand-in for a value it could not serialize: the attribute is left out. */
    static final String ANCHOR_NOT_SERIALIZABLE = "___NOT_SERIALIZABLE_EXCEPTION___";

    /**
     * Reads the attributes of a session memcached-session-manager 2.x stored with its Java serialization transcoder
     * (an {@code Integer} count, then name and value pairs), under the same guard as msm's own: the hash-bomb scan,
     * the deserialization filter, the webapp class loader. Attributes it could not serialize are left out, as it
     * did.
     *
     * @throws TranscoderException as {@link #deserialize(byte[])}
     */
    public Map<String, Object> deserializeAnchorAttributes(byte[] data) {
        return read(data, in -> {
            Object count = in.readObject();
            if (!(count instanceof Integer)) {
                throw new TranscoderException("the attribute count is a " + (count == null ? "null"
                        : count.getClass().getName()) + ", not an Integer");
            }
            return (Integer) count;
        }, ANCHOR_NOT_SERIALIZABLE);
    }

    /** How a stream states its attribute count. */
    private interface CountReader {
        int read(ObjectInputStream in) throws IOException, ClassNotFoundException;
    }

    private Map<String, Object> read(byte[] data, CountReader countReader, String leftOutMarker) {
        return guard.read(data, "session attributes", in -> {
            int count = countReader.read(in);
            if (count < 0 || count > data.length) {
                throw new TranscoderException("bad attribute count " + count);
            }
            Map<String, Object> attributes = new LinkedHashMap<>(Math.max(4, count * 2));
            for (int i = 0; i < count; i++) {
                Object key = in.readObject();
                if (!(key instanceof String)) {
                    throw new TranscoderException("attribute name " + i + " is not a string");
                }
                Object value = in.readObject();
                if (leftOutMarker == null || !leftOutMarker.equals(value)) {
                    attributes.put((String) key, value);
                }
            }
            return attributes;
        });
    }

    /**
     * Reads the first {@code count} objects of a Java serialization stream memcached-session-manager 2.x wrote
     * besides the attributes (a session's principal, its saved FORM request), under the same guard as attributes.
     *
     * @param what what the stream holds, for the error message
     * @throws TranscoderException as {@link #deserialize(byte[])}
     */
    public List<Object> deserializeAnchorObjects(byte[] data, int count, String what) {
        return guard.read(data, what, in -> {
            List<Object> objects = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                objects.add(in.readObject());
            }
            return objects;
        });
    }
}
