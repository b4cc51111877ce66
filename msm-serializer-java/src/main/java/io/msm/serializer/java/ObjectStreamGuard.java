package io.msm.serializer.java;

import io.msm.internal.GadgetClasses;
import io.msm.internal.HashWork;
import io.msm.internal.JavaStreamScan;
import io.msm.internal.RefusedInputException;
import io.msm.spi.TranscoderException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectStreamClass;
import java.lang.reflect.Proxy;

/**
 * Reading a Java serialization stream under msm's guard: the hash-bomb scan, the webapp class loader, msm's
 * deserialization filter combined with the JVM-wide one, and error messages that name a refused class and its filter.
 * The same guard reads msm's own attribute streams and what memcached-session-manager 2.x stored.
 */
final class ObjectStreamGuard {
    private final ClassLoader classLoader;
    private final ObjectInputFilter filter;

    /** {@code filter}: msm's filter for this context (a {@link DecisionCachingFilter} over the effective pattern). */
    ObjectStreamGuard(ClassLoader classLoader, ObjectInputFilter filter) {
        this.classLoader = classLoader;
        this.filter = filter;
    }

    /** What is read from a stream once msm's guard is in place. */
    interface StreamBody<T> {
        T read(ObjectInputStream in) throws IOException, ClassNotFoundException;
    }

    /**
     * Reads {@code data} under msm's guard: the hash-bomb scan, then an object stream through the webapp class loader
     * with msm's filter (and the JVM-wide one); every failure becomes a {@link TranscoderException} naming what was
     * read and, if a class was refused, the class and which filter refused it.
     */
    <T> T read(byte[] data, String what, StreamBody<T> body) {
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
}
