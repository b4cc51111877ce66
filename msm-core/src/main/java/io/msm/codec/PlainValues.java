package io.msm.codec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * msm's own form of attributes holding plain values: strings, the boxed primitives and booleans, exact classes. A
 * non-sticky write stores such attributes in a chunk of this form ({@link SessionData#plainChunk()}), not through the
 * transcoder: a request that sets a counter or a token then serializes a few bytes per value, with no stream header,
 * class names or reference tables (Java serialization spent more than a microsecond on five such values). Reading it
 * loads no class. Big-endian:
 * <pre>
 *   count i32 | count x (name: a string | value: tag u8, then what the tag says)
 *   string: tag 1 (Latin-1) or 2 (UTF-16), i32 length in bytes, the characters
 *   other tags: 3 Integer i32 | 4 Long i64 | 5 Boolean u8 (0 or 1) | 6 Short i16 | 7 Byte i8 | 8 Character u16
 *               9 Double i64 bits | 10 Float i32 bits
 * </pre>
 * A string is Latin-1 if each of its characters fits in a byte, else UTF-16: it reads back equal to what was
 * written, unpaired surrogates included. Every length is checked against the bytes left.
 */
public final class PlainValues {
    private static final int LATIN1 = 1;
    private static final int UTF16 = 2;
    private static final int INTEGER = 3;
    private static final int LONG = 4;
    private static final int BOOLEAN = 5;
    private static final int SHORT = 6;
    private static final int BYTE = 7;
    private static final int CHARACTER = 8;
    private static final int DOUBLE = 9;
    private static final int FLOAT = 10;

    private PlainValues() {
    }

    /** Whether {@code value} can be stored in this form (its exact class is one of those listed above). */
    public static boolean canHold(Object value) {
        if (value == null) {
            return false;
        }
        Class<?> c = value.getClass();
        return c == String.class || c == Integer.class || c == Long.class || c == Boolean.class
                || c == Short.class || c == Byte.class || c == Character.class || c == Double.class
                || c == Float.class;
    }

    /**
     * The bytes of {@code values}, every one of which {@link #canHold}.
     *
     * @throws IllegalArgumentException if a value cannot be held
     */
    public static byte[] encode(Map<String, Object> values) {
        return encodeHeld(values, values.size());
    }

    /**
     * The bytes of those of {@code attributes} whose values {@link #canHold}, in the map's order (no map of them is
     * made).
     *
     * @param count how many there are
     * @throws IllegalArgumentException if {@code count} is not their number (the map changed meanwhile), or (from
     *     {@link #encode}) a value cannot be held
     */
    public static byte[] encodeHeld(Map<String, Object> attributes, int count) {
        boolean all = count == attributes.size();
        int size = 4;
        int seen = 0;
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            if (all || canHold(e.getValue())) {
                size += 1 + stringSize(e.getKey()) + 1 + valueSize(e.getValue()); // each with its tag
                seen++;
            }
        }
        if (seen != count) {
            throw new IllegalArgumentException(seen + " plain values, not " + count);
        }
        Out w = new Out(size);
        w.i32(count);
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            if (all || canHold(e.getValue())) {
                w.string(e.getKey());
                w.value(e.getValue());
            }
        }
        if (w.pos != size) {
            throw new IllegalArgumentException("encoded " + w.pos + " bytes, expected " + size);
        }
        return w.buf;
    }

    /**
     * The attributes in {@code bytes}, in the order written.
     *
     * @throws UnreadableBlobException saying what is wrong (never any other exception)
     */
    public static Map<String, Object> decode(byte[] bytes) {
        In r = new In(bytes);
        int count = r.i32();
        if (count < 0 || count > r.remaining() / 7) { // a name (tag and length), a value's tag and a byte at least
            throw new UnreadableBlobException("bad plain value count " + count);
        }
        Map<String, Object> values = new LinkedHashMap<>(Math.max(4, count * 2));
        for (int i = 0; i < count; i++) {
            r.entry = i;
            String name = r.string(r.u8(), true);
            if (values.put(name, r.value()) != null) {
                throw new UnreadableBlobException("plain value " + i + " has the name of an earlier one");
            }
        }
        if (r.remaining() != 0) {
            throw new UnreadableBlobException(r.remaining() + " unexpected bytes after the plain values");
        }
        return values;
    }

    private static boolean latin1(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0xFF) {
                return false;
            }
        }
        return true;
    }

    /** Length and characters (the tag not counted). */
    private static int stringSize(String s) {
        return 4 + (latin1(s) ? s.length() : 2 * s.length());
    }

    private static int valueSize(Object v) {
        Class<?> c = v.getClass();
        if (c == String.class) {
            return stringSize((String) v);
        } else if (c == Integer.class || c == Float.class) {
            return 4;
        } else if (c == Long.class || c == Double.class) {
            return 8;
        } else if (c == Boolean.class || c == Byte.class) {
            return 1;
        } else if (c == Short.class || c == Character.class) {
            return 2;
        }
        throw new IllegalArgumentException("not a plain value: " + c.getName());
    }

    private static final class Out extends ByteWriter {
        Out(int size) {
            super(size);
        }

        /** A tag, the length in bytes, the characters. */
        void string(String s) {
            int n = s.length();
            if (latin1(s)) {
                buf[pos++] = LATIN1;
                i32(n);
                for (int i = 0; i < n; i++) {
                    buf[pos++] = (byte) s.charAt(i);
                }
            } else {
                buf[pos++] = UTF16;
                i32(2 * n);
                for (int i = 0; i < n; i++) {
                    i16(s.charAt(i));
                }
            }
        }

        void value(Object v) {
            Class<?> c = v.getClass();
            if (c == String.class) {
                string((String) v);
                return;
            }
            if (c == Integer.class) {
                buf[pos++] = INTEGER;
                i32((Integer) v);
            } else if (c == Long.class) {
                buf[pos++] = LONG;
                i64((Long) v);
            } else if (c == Boolean.class) {
                buf[pos++] = BOOLEAN;
                buf[pos++] = (byte) ((Boolean) v ? 1 : 0);
            } else if (c == Short.class) {
                buf[pos++] = SHORT;
                i16((Short) v);
            } else if (c == Byte.class) {
                buf[pos++] = BYTE;
                buf[pos++] = (Byte) v;
            } else if (c == Character.class) {
                buf[pos++] = CHARACTER;
                i16((Character) v);
            } else if (c == Double.class) {
                buf[pos++] = DOUBLE;
                i64(Double.doubleToRawLongBits((Double) v));
            } else if (c == Float.class) {
                buf[pos++] = FLOAT;
                i32(Float.floatToRawIntBits((Float) v));
            } else {
                throw new IllegalArgumentException("not a plain value: " + c.getName());
            }
        }
    }

    /** Its messages name an entry by its index: a name read from memcached never reaches a log line. */
    private static final class In extends ByteReader {
        /** The entry being read. */
        int entry;

        In(byte[] buf) {
            super(buf);
        }

        private String what(boolean name) {
            return "plain value " + entry + (name ? "'s name" : "");
        }

        String string(int tag, boolean name) {
            if (tag != LATIN1 && tag != UTF16) {
                throw new UnreadableBlobException(what(name) + ": tag " + tag + " is not a string's");
            }
            int len = i32();
            if (len < 0 || tag == UTF16 && len % 2 != 0) {
                throw new UnreadableBlobException(what(name) + ": bad length " + len);
            }
            if (len > remaining()) {
                need(len, what(name));
            }
            String s;
            if (tag == LATIN1) {
                s = new String(buf, pos, len, java.nio.charset.StandardCharsets.ISO_8859_1);
            } else {
                char[] chars = new char[len / 2];
                for (int i = 0; i < chars.length; i++) {
                    chars[i] = (char) (((buf[pos + 2 * i] & 0xFF) << 8) | (buf[pos + 2 * i + 1] & 0xFF));
                }
                s = new String(chars);
            }
            pos += len;
            return s;
        }

        Object value() {
            int tag = u8();
            switch (tag) {
                case LATIN1:
                case UTF16:
                    return string(tag, false);
                case INTEGER:
                    return i32();
                case LONG:
                    return i64();
                case BOOLEAN:
                    int b = u8();
                    if (b > 1) {
                        throw new UnreadableBlobException(what(false) + ": boolean " + b);
                    }
                    return b == 1;
                case SHORT:
                    return (short) i16();
                case BYTE:
                    need(1, "a byte");
                    return buf[pos++];
                case CHARACTER:
                    return (char) i16();
                case DOUBLE:
                    return Double.longBitsToDouble(i64());
                case FLOAT:
                    return Float.intBitsToFloat(i32());
                default:
                    throw new UnreadableBlobException(what(false) + ": unknown tag " + tag);
            }
        }
    }
}
