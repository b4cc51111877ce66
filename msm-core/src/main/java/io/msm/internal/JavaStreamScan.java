package io.msm.internal;

import static io.msm.internal.StreamBytes.bad;
import static io.msm.internal.StreamClassDesc.COLL_SER;
import static io.msm.internal.StreamClassDesc.HASH_MAP;
import static io.msm.internal.StreamClassDesc.HASH_SET;
import static io.msm.internal.StreamClassDesc.OPAQUE;
import static io.msm.internal.StreamClassDesc.kind;
import static io.msm.internal.StreamClassDesc.width;

import java.io.ObjectStreamConstants;
import java.util.Arrays;

/**
 * Walks a Java serialization stream's grammar (the Object Serialization Stream Protocol) before
 * {@link java.io.ObjectInputStream} reads it, without loading a class or making an object, and charges the hashing
 * reading it would cause to a {@link HashWork}: every object read into a {@code HashSet}, or as a key into a
 * {@code HashMap}, {@code Hashtable} or {@code ConcurrentHashMap}, or into {@code Set.of}/{@code Map.of}
 * ({@code java.util.CollSer}), is charged its weight. A weight is counted through objects of {@code java.util} and
 * {@code java.util.concurrent} classes (and their subclasses) and arrays; other objects weigh 1.
 *
 * <p>The walk reads every byte {@code ObjectInputStream} would read, the same way (field values, custom
 * {@code writeObject} data, externalizable data in block mode, class annotations, back-references); what it cannot
 * vouch for (protocol-1 externalizable data, resets, exceptions written into the stream, malformed input) is refused,
 * since {@code ObjectInputStream} would fail on most of it anyway.
 *
 * <p>The bytes are read by {@link StreamBytes}; class descriptors are kept as {@link StreamClassDesc}.
 */
public final class JavaStreamScan {
    private static final int MAX_DEPTH = 5_000;
    /**
     * Handles a stream may make (msm's maxrefs): ObjectInputStream checks maxrefs only at its next class, object or
     * array, so a stream of strings alone would make it, and this walk, keep a handle per string.
     */
    static final int MAX_HANDLES = 1_000_000;
    private static final int MAX_SUPERCLASSES = 64;
    private static final long IN_PROGRESS = -1;

    private final StreamBytes in;
    private final HashWork work;
    private int depth;
    private long[] weights = new long[64];
    private StreamClassDesc[] descs = new StreamClassDesc[64];
    private int handles;

    private JavaStreamScan(byte[] data, int offset, int length, HashWork work) {
        this.in = new StreamBytes(data, offset, length);
        this.work = work;
    }

    /**
     * Walks a whole stream (header, then block data and objects to its end) and charges its hashing to
     * {@code work}.
     *
     * @return the weight of the stream's last top-level object (0 if none)
     * @throws RefusedInputException if the hashing exceeds the allowance, or the stream is one the walk refuses
     */
    public static long scan(byte[] data, int offset, int length, HashWork work) {
        JavaStreamScan s = new JavaStreamScan(data, offset, length, work);
        try {
            return s.stream();
        } catch (StackOverflowError e) {
            throw new RefusedInputException("refused: the serialization stream nests too deep to check");
        }
    }

    private long stream() {
        if (in.u2() != (ObjectStreamConstants.STREAM_MAGIC & 0xFFFF)
                || in.u2() != ObjectStreamConstants.STREAM_VERSION) {
            throw bad("not a Java serialization stream");
        }
        long last = 0;
        while (in.more()) {
            int tc = in.peek();
            if (tc == ObjectStreamConstants.TC_BLOCKDATA || tc == ObjectStreamConstants.TC_BLOCKDATALONG) {
                in.skipBlockData();
            } else {
                last = object();
            }
        }
        return last;
    }

    // ------------------------------------------------------------------ objects

    private long object() {
        if (++depth > MAX_DEPTH) {
            throw bad("nesting deeper than " + MAX_DEPTH);
        }
        try {
            int tc = in.u1();
            switch (tc) {
                case ObjectStreamConstants.TC_NULL:
                    return 0;
                case ObjectStreamConstants.TC_REFERENCE:
                    return reference();
                case ObjectStreamConstants.TC_CLASSDESC:
                case ObjectStreamConstants.TC_PROXYCLASSDESC:
                    in.back();
                    classDesc();
                    return 1;
                case ObjectStreamConstants.TC_CLASS:
                    classDesc();
                    newHandle(1);
                    return 1;
                case ObjectStreamConstants.TC_STRING:
                    in.skip(in.u2());
                    newHandle(1);
                    return 1;
                case ObjectStreamConstants.TC_LONGSTRING:
                    in.skip(in.u8());
                    newHandle(1);
                    return 1;
                case ObjectStreamConstants.TC_ENUM: {
                    classDesc();
                    int h = newHandle(IN_PROGRESS);
                    typeString(); // the constant's name
                    weights[h] = 1;
                    return 1;
                }
                case ObjectStreamConstants.TC_ARRAY:
                    return array();
                case ObjectStreamConstants.TC_OBJECT:
                    return ordinaryObject();
                default:
                    throw bad("unexpected type code 0x" + Integer.toHexString(tc));
            }
        } finally {
            depth--;
        }
    }

    private long reference() {
        int h = in.u4() - ObjectStreamConstants.baseWireHandle;
        if (h < 0 || h >= handles) {
            throw bad("bad back-reference");
        }
        long w = weights[h];
        return w == IN_PROGRESS ? 1 : w; // an object still being read: a cycle, hashed no deeper
    }

    private long array() {
        StreamClassDesc d = classDesc();
        if (d == null || !d.name.startsWith("[") || d.name.length() < 2) {
            throw bad("array without an array class");
        }
        int h = newHandle(IN_PROGRESS);
        int length = in.u4();
        if (length < 0) {
            throw bad("negative array length");
        }
        char element = d.name.charAt(1);
        long weight = 1;
        if (element == 'L' || element == '[') {
            for (int i = 0; i < length; i++) {
                weight = HashWork.add(weight, object());
            }
        } else {
            in.skip((long) length * width(element));
        }
        weights[h] = weight;
        return weight;
    }

    private long ordinaryObject() {
        StreamClassDesc d = classDesc();
        if (d == null) {
            throw bad("object without a class");
        }
        int h = newHandle(IN_PROGRESS);
        d.checkHierarchy(MAX_SUPERCLASSES); // at the first object of this class
        long own;
        if ((d.flags & ObjectStreamConstants.SC_EXTERNALIZABLE) != 0) {
            if ((d.flags & ObjectStreamConstants.SC_BLOCK_DATA) == 0) {
                throw bad("externalizable data without block mode (stream protocol 1)");
            }
            own = contents(OPAQUE);
        } else {
            own = slots(d);
        }
        long weight = d.content ? HashWork.add(HashWork.leaf(d.url), own) : HashWork.leaf(d.url);
        weights[h] = weight;
        return weight;
    }

    /** The data of every class of the hierarchy, the topmost superclass first. */
    private long slots(StreamClassDesc c) {
        long above = c.superDesc == null ? 0 : slots(c.superDesc);
        return HashWork.add(above, slot(c));
    }

    /** One class's data in an object: primitive fields, object fields, then its writeObject data. */
    private long slot(StreamClassDesc c) {
        if ((c.flags & ObjectStreamConstants.SC_EXTERNALIZABLE) != 0) {
            throw bad("externalizable superclass " + c.name + " of a serializable class");
        }
        int tag = 0;
        if (c.tagOffset >= 0) {
            tag = in.intAhead(c.tagOffset);
        }
        in.skip(c.primBytes);
        long weight = 0;
        for (int i = 0; i < c.objectFields; i++) {
            weight = HashWork.add(weight, object());
        }
        if ((c.flags & ObjectStreamConstants.SC_WRITE_METHOD) != 0) {
            int keys = c.kind;
            if (c.kind == COLL_SER) { // java.util.CollSer: tag 2 is Set.of, 3 is Map.of
                int kind = tag & 0xFF;
                keys = kind == 2 ? HASH_SET : kind == 3 ? HASH_MAP : OPAQUE;
            }
            weight = HashWork.add(weight, contents(keys));
        }
        return weight;
    }

    /**
     * Block data and objects up to the end marker (a class annotation, writeObject data, externalizable data).
     * Objects at the positions the class hashes are charged.
     */
    private long contents(int keys) {
        long weight = 0;
        int index = 0;
        while (true) {
            int tc = in.peek();
            if (tc == ObjectStreamConstants.TC_ENDBLOCKDATA) {
                in.u1();
                return weight;
            }
            if (tc == ObjectStreamConstants.TC_BLOCKDATA || tc == ObjectStreamConstants.TC_BLOCKDATALONG) {
                in.skipBlockData();
                continue;
            }
            long w = object();
            if (keys == HASH_SET || (keys == HASH_MAP && index % 2 == 0)) {
                work.hashed(w);
            }
            index++;
            weight = HashWork.add(weight, w);
        }
    }

    // ------------------------------------------------------------------ class descriptors

    /** A class descriptor where one is expected: new, proxy, a back-reference to one, or null. */
    private StreamClassDesc classDesc() {
        if (++depth > MAX_DEPTH) {
            throw bad("nesting deeper than " + MAX_DEPTH);
        }
        try {
            return classDescAt(in.u1());
        } finally {
            depth--;
        }
    }

    private StreamClassDesc classDescAt(int tc) {
        switch (tc) {
            case ObjectStreamConstants.TC_NULL:
                return null;
            case ObjectStreamConstants.TC_REFERENCE: {
                int h = in.u4() - ObjectStreamConstants.baseWireHandle;
                if (h < 0 || h >= handles || descs[h] == null) {
                    throw bad("back-reference to a class descriptor that is none");
                }
                return descs[h];
            }
            case ObjectStreamConstants.TC_PROXYCLASSDESC: {
                StreamClassDesc d = new StreamClassDesc("$Proxy", OPAQUE);
                d.proxy = true;
                d.flags = ObjectStreamConstants.SC_SERIALIZABLE;
                int h = newHandle(1);
                descs[h] = d;
                int interfaces = in.u4();
                if (interfaces < 0 || interfaces > 65535) {
                    throw bad("bad proxy interface count");
                }
                for (int i = 0; i < interfaces; i++) {
                    in.skip(in.u2());
                }
                contents(OPAQUE);
                d.superDesc = classDesc();
                return d;
            }
            case ObjectStreamConstants.TC_CLASSDESC:
                return newClassDesc();
            default:
                throw bad("expected a class descriptor, found type code 0x" + Integer.toHexString(tc));
        }
    }

    private StreamClassDesc newClassDesc() {
        String name = in.utf();
        in.skip(8); // serialVersionUID
        StreamClassDesc d = new StreamClassDesc(name, kind(name));
        int h = newHandle(1);
        descs[h] = d;
        d.flags = (byte) in.u1();
        if ((d.flags & ObjectStreamConstants.SC_SERIALIZABLE) != 0
                && (d.flags & ObjectStreamConstants.SC_EXTERNALIZABLE) != 0) {
            throw bad("serializable and externalizable flags conflict");
        }
        int fields = in.u2();
        boolean objects = false;
        for (int i = 0; i < fields; i++) {
            char type = (char) in.u1();
            boolean tag = d.kind == COLL_SER && type == 'I' && in.utf().equals("tag");
            if (d.kind != COLL_SER || type != 'I') {
                in.skip(in.u2()); // the field's name
            }
            if (type == 'L' || type == '[') {
                objects = true;
                d.objectFields++;
                typeString();
            } else {
                if (objects) {
                    throw bad("illegal field order in " + name);
                }
                if (tag) {
                    d.tagOffset = d.primBytes;
                }
                d.primBytes += width(type);
            }
        }
        contents(OPAQUE); // class annotation
        d.superDesc = classDesc();
        return d;
    }

    /** A field's type name: a string, a back-reference to one, or null. */
    private void typeString() {
        int tc = in.u1();
        switch (tc) {
            case ObjectStreamConstants.TC_NULL:
                return;
            case ObjectStreamConstants.TC_REFERENCE:
                reference();
                return;
            case ObjectStreamConstants.TC_STRING:
                in.skip(in.u2());
                newHandle(1);
                return;
            case ObjectStreamConstants.TC_LONGSTRING:
                in.skip(in.u8());
                newHandle(1);
                return;
            default:
                throw bad("expected a type string, found type code 0x" + Integer.toHexString(tc));
        }
    }

    // ------------------------------------------------------------------ handles

    private int newHandle(long weight) {
        if (handles >= MAX_HANDLES) {
            throw bad("more than " + MAX_HANDLES + " handles");
        }
        if (handles == weights.length) {
            weights = Arrays.copyOf(weights, handles * 2);
            descs = Arrays.copyOf(descs, handles * 2);
        }
        weights[handles] = weight;
        return handles++;
    }
}
