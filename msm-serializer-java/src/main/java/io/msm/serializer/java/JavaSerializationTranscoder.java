package io.msm.serializer.java;

import io.msm.internal.GadgetClasses;
import io.msm.internal.HashWork;
import io.msm.internal.JavaStreamScan;
import io.msm.internal.RefusedInputException;
import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.NotSerializableException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.lang.System.Logger.Level;
import java.lang.reflect.Proxy;
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

    private final ClassLoader classLoader;
    private final boolean copyCollections;
    private final String name;
    private final ObjectInputFilter filter;
    private final Set<String> reportedUnserializable = ConcurrentHashMap.newKeySet();

    /**
     * @param configuredFilter a {@code deserializationFilter} pattern, or {@code null}
     */
    JavaSerializationTranscoder(ClassLoader classLoader, boolean copyCollections, String name, String configuredFilter) {
        this.filter = new DecisionCachingFilter(
                ObjectInputFilter.Config.createFilter(effectiveFilter(configuredFilter)));
        this.classLoader = classLoader;
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
            return writeLeavingOut(serializable, JavaSerializationTranscoder::write);
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
            return writeLeavingOut(serializable, JavaSerializationTranscoder::writeAnchor);
        } catch (RuntimeException e) {
            throw e instanceof TranscoderException ? e : copyRaced(e);
        }
    }

    private static byte[] writeAnchor(Map<String, Object> attributes) throws IOException {
        Buffer buffer = new Buffer();
        try (ObjectOutputStream out = new ObjectOutputStream(buffer)) {
            out.writeObject(Integer.valueOf(attributes.size()));
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                out.writeObject(e.getKey());
                out.writeObject(e.getValue());
            }
        }
        return buffer.toByteArray();
    }

    private static byte[] write(Map<String, Object> attributes) throws IOException {
        Buffer buffer = new Buffer();
        try (ObjectOutputStream out = new ObjectOutputStream(buffer)) {
            out.writeInt(attributes.size());
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                out.writeObject(e.getKey());
                out.writeObject(e.getValue());
            }
        }
        return buffer.toByteArray();
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

    /** What is read from a stream once msm's guard is in place. */
    private interface StreamBody<T> {
        T read(ObjectInputStream in) throws IOException, ClassNotFoundException;
    }

    private Map<String, Object> read(byte[] data, CountReader countReader, String leftOutMarker) {
        return guarded(data, "session attributes", in -> {
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
        return guarded(data, what, in -> {
            List<Object> objects = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                objects.add(in.readObject());
            }
            return objects;
        });
    }

    /**
     * Reads {@code data} under msm's guard: the hash-bomb scan, then an object stream through the webapp class loader
     * with msm's filter (and the JVM-wide one); every failure becomes a {@link TranscoderException} naming what was
     * read and, if a class was refused, the class and which filter refused it.
     */
    private <T> T guarded(byte[] data, String what, StreamBody<T> body) {
        try {
            JavaStreamScan.scan(data, 0, data.length, new HashWork(data.length));
        } catch (RefusedInputException e) {
            throw new TranscoderException(what + " " + e.getMessage(), e);
        }
        RecordingFilter recording = null;
        try (ObjectInputStream in = new WebappObjectInputStream(data, classLoader)) {
            // the stream starts with the JVM-wide filter (jdk.serialFilter, or a filter factory's choice); setting
            // msm's would replace it, so msm's filter applies it too (a filter factory still sees msm's)
            recording = new RecordingFilter(in.getObjectInputFilter(), filter, data.length);
            in.setObjectInputFilter(recording);
            return body.read(in);
        } catch (ClassNotFoundException e) {
            throw new TranscoderException("class " + e.getMessage() + " not found by the webapp class loader", e);
        } catch (InvalidClassException e) {
            if (recording != null && recording.rejected != null) {
                throw new TranscoderException("class " + recording.rejected.getName() + " refused by "
                        + recording.rejectedBy + " (" + e.getMessage() + ")", e);
            }
            if (e.classname == null) {
                throw new TranscoderException(what + " exceed the deserialization filter's limits ("
                        + e.getMessage() + ")", e);
            }
            throw new TranscoderException("class " + e.classname + " cannot be read: " + e.getMessage(), e);
        } catch (IOException | RuntimeException | StackOverflowError | LinkageError e) {
            if (e instanceof TranscoderException) {
                throw (TranscoderException) e;
            }
            throw new TranscoderException("cannot read " + what + ": " + e, e);
        }
    }

    /**
     * Applies the JVM-wide filter (if any) and msm's pattern filter (a class either rejects is refused), bounds
     * allocation by the input, and remembers which class was refused, and by which, so the error can name them.
     * Every array element takes at least one byte of the stream, so arrays that together declare more elements than
     * the stream has bytes are refused before they are allocated: a small hostile blob cannot make the reader
     * allocate more than a few times its own size.
     */
    private static final class RecordingFilter implements ObjectInputFilter {
        private final ObjectInputFilter jvmWide;
        private final ObjectInputFilter delegate;
        private final long streamBytes;
        private long arrayElements;
        Class<?> rejected;
        String rejectedBy;

        RecordingFilter(ObjectInputFilter jvmWide, ObjectInputFilter delegate, long streamBytes) {
            this.jvmWide = jvmWide;
            this.delegate = delegate;
            this.streamBytes = streamBytes;
        }

        @Override
        public Status checkInput(FilterInfo info) {
            if (info.arrayLength() >= 0) {
                arrayElements += info.arrayLength();
                if (arrayElements > streamBytes) {
                    return Status.REJECTED;
                }
            }
            Status admin = jvmWide == null ? Status.UNDECIDED : jvmWide.checkInput(info);
            if (admin == Status.REJECTED) {
                return rejected(info, "the JVM-wide deserialization filter (jdk.serialFilter)");
            }
            Status status = delegate.checkInput(info);
            if (status == Status.REJECTED) {
                return rejected(info, "msm's deserialization filter");
            }
            return admin == Status.ALLOWED ? admin : status;
        }

        private Status rejected(FilterInfo info, String by) {
            if (info.serialClass() != null && rejected == null) {
                rejected = info.serialClass();
                rejectedBy = by;
            }
            return Status.REJECTED;
        }
    }

    /**
     * A JEP 290 pattern filter ({@link ObjectInputFilter.Config#createFilter}) that decides each class once. The
     * pattern filter first checks the limits (depth, references, stream bytes, array length), then matches the class
     * (an array's component class) against every pattern in turn; the match depends on the class alone, but the JDK
     * redoes it for every class descriptor and every array of every session read, which was a sixth of reading a
     * typical session. Here the limits are checked on every call as before, and the class decision is remembered.
     */
    static final class DecisionCachingFilter implements ObjectInputFilter {
        /** Classes whose decision is remembered, at most: a webapp has far fewer serializable classes. */
        static final int MAX_CLASSES = 4096;
        private final ObjectInputFilter patterns;
        private final Map<Class<?>, Status> decisions = new ConcurrentHashMap<>();

        DecisionCachingFilter(ObjectInputFilter patterns) {
            this.patterns = patterns;
        }

        @Override
        public Status checkInput(FilterInfo info) {
            Class<?> type = info.serialClass();
            if (type == null) {
                return patterns.checkInput(info); // limits only
            }
            // the limits, with a class the patterns leave undecided (an array's length is checked for any array)
            Status limits = patterns.checkInput(new Info(type.isArray() ? byte[].class : null, info.arrayLength(),
                    info.depth(), info.references(), info.streamBytes()));
            if (limits == Status.REJECTED) {
                return limits;
            }
            Status decided = decisions.get(type);
            if (decided == null) {
                decided = patterns.checkInput(new Info(type, -1, 0, 0, 0)); // the class alone, within every limit
                if (decided == Status.UNDECIDED && GadgetClasses.denyingPattern(type) != null) {
                    decided = Status.REJECTED; // a subclass of a refused class
                }
                if (decisions.size() < MAX_CLASSES) {
                    decisions.put(type, decided);
                }
            }
            return decided;
        }

        int decidedClasses() {
            return decisions.size();
        }
    }

    /** A {@link ObjectInputFilter.FilterInfo} with chosen values. */
    static final class Info implements ObjectInputFilter.FilterInfo {
        private final Class<?> serialClass;
        private final long arrayLength;
        private final long depth;
        private final long references;
        private final long streamBytes;

        Info(Class<?> serialClass, long arrayLength, long depth, long references, long streamBytes) {
            this.serialClass = serialClass;
            this.arrayLength = arrayLength;
            this.depth = depth;
            this.references = references;
            this.streamBytes = streamBytes;
        }

        @Override
        public Class<?> serialClass() {
            return serialClass;
        }

        @Override
        public long arrayLength() {
            return arrayLength;
        }

        @Override
        public long depth() {
            return depth;
        }

        @Override
        public long references() {
            return references;
        }

        @Override
        public long streamBytes() {
            return streamBytes;
        }
    }

    /** Resolves classes and proxy interfaces through the webapp class loader. */
    private static final class WebappObjectInputStream extends ObjectInputStream {
        private final ClassLoader loader;

        WebappObjectInputStream(byte[] data, ClassLoader loader) throws IOException {
            super(new ByteArrayInputStream(data));
            this.loader = loader;
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            try {
                return Class.forName(desc.getName(), false, loader);
            } catch (ClassNotFoundException e) {
                String denied = GadgetClasses.denyingPattern(desc.getName());
                if (denied != null) { // not here, and refused if it were
                    throw new InvalidClassException(desc.getName(), "refused by msm's deserialization filter ("
                            + denied + ")");
                }
                return super.resolveClass(desc); // primitives and their arrays
            }
        }

        @Override
        @SuppressWarnings("deprecation")
        protected Class<?> resolveProxyClass(String[] interfaces) throws IOException, ClassNotFoundException {
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

    /** A ByteArrayOutputStream that hands out its array without a copy when it is exactly full. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(512);
        }

        @Override
        public synchronized byte[] toByteArray() {
            return count == buf.length ? buf : super.toByteArray();
        }
    }
}
