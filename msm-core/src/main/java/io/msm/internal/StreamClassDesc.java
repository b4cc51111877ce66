package io.msm.internal;

/**
 * A class descriptor of a Java serialization stream as {@link JavaStreamScan} keeps it: the class's name, what the
 * class says about its objects' hashing (its kind), and the layout of its fields in an object.
 */
final class StreamClassDesc {
    /** What a class descriptor says about its objects. */
    static final int OPAQUE = 0;
    static final int CONTENT = 1;
    static final int URL = 2;
    static final int HASH_SET = 3;
    static final int HASH_MAP = 4;
    static final int COLL_SER = 5;

    final String name;
    final int kind;
    byte flags;
    int primBytes;
    int objectFields;
    int tagOffset = -1;
    StreamClassDesc superDesc;
    boolean proxy;
    /** Classes in its hierarchy once checked (0 before), and what they say about its objects. */
    int chain;
    boolean content;
    boolean url;

    StreamClassDesc(String name, int kind) {
        this.name = name;
        this.kind = kind;
    }

    /** Looks at the hierarchy once, at the first object of this class: what its classes say about its objects. */
    void checkHierarchy(int maxClasses) {
        if (chain != 0) {
            return;
        }
        int n = 0;
        for (StreamClassDesc c = this; c != null; c = c.superDesc) {
            if (++n > maxClasses) {
                throw StreamBytes.bad("class hierarchy too deep or circular");
            }
            content |= c.kind != OPAQUE && c.kind != URL;
            url |= c.kind == URL;
        }
        chain = n;
    }

    /**
     * The kind of class {@code name}: URL, the hashing collections, {@code java.util.CollSer}, arrays and other
     * classes of {@code java.util} and {@code java.util.concurrent} (their content counts), or opaque.
     */
    static int kind(String name) {
        switch (name) {
            case "java.net.URL":
                return URL;
            case "java.util.HashSet":
                return HASH_SET;
            case "java.util.HashMap":
            case "java.util.Hashtable":
            case "java.util.concurrent.ConcurrentHashMap":
                return HASH_MAP;
            case "java.util.CollSer":
                return COLL_SER;
            default:
                if (name.startsWith("[")) {
                    return CONTENT;
                }
                String rest = name.startsWith("java.util.concurrent.") ? name.substring(21)
                        : name.startsWith("java.util.") ? name.substring(10) : null;
                return rest != null && rest.indexOf('.') < 0 ? CONTENT : OPAQUE;
        }
    }

    /** The bytes a primitive field of {@code type} takes. */
    static int width(char type) {
        switch (type) {
            case 'B':
            case 'Z':
                return 1;
            case 'C':
            case 'S':
                return 2;
            case 'I':
            case 'F':
                return 4;
            case 'J':
            case 'D':
                return 8;
            default:
                throw StreamBytes.bad("unknown field type '" + type + "'");
        }
    }
}
