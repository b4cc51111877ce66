package io.msm.engine;

import io.msm.codec.PlainValues;
import io.msm.spi.SessionAttributesTranscoder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Serializes a session's attributes for a write, reusing what the session's last write serialized when it can.
 * <p>
 * A session whose attributes serialize to less than {@link #CHUNKED_SESSION_BYTES} is written in one chunk, whole, on
 * every write. A larger one is written in chunks from its next write on: each attribute that serializes alone to at
 * least {@link #OWN_CHUNK_BYTES} gets a chunk of its own, and the smaller ones share one chunk. A write reuses the
 * bytes of an attribute's own chunk while it holds the same object and no request wrote, removed, or read it as a
 * value that may be changed in place ({@link SessionState#attributeAccessed(String)}); the shared chunk is serialized
 * on every write. So a request that changes a counter in a 100 KB session serializes the counter and the other small
 * attributes, not the 100 KB.
 * <p>
 * Attributes in different chunks are serialized separately: an object two of them share is read back as two copies
 * (as with a session moved between Tomcats by DeltaManager, or stored by Spring Session).
 * <p>
 * Non-sticky, a smaller session holding both kinds of values is written in two chunks: the attributes whose values
 * may change in place (a cart, a user object, a list) in one, those holding immutable values ({@link ImmutableValues}:
 * strings, numbers, dates) in the other. The first chunk's bytes are reused while its attributes hold the same objects
 * and no request wrote, removed or read any of them, so a request that only sets a counter or a token serializes the
 * immutable values alone. Objects the mutable attributes share are still in one graph; an immutable value is stored
 * apart from a mutable object that also holds it, and read back as an equal copy. An attribute the container cannot
 * watch ({@link ManagedSession#unwatchedAttributes()}) goes with the mutable ones, so objects it shares with them stay
 * shared; while the session holds one, their chunk is serialized on every write. Of the immutable values, the plain
 * ones (strings, boxed primitives, booleans) are written by msm itself in a third form ({@link PlainValues}), not by
 * the transcoder: a few bytes each, no stream to set up; the others (dates, decimals, enums) stay the transcoder's.
 */
final class AttributeChunker {
    /** Attributes serializing to at least this many bytes are written in chunks from the session's next write. */
    static final int CHUNKED_SESSION_BYTES = 16 * 1024;
    /** In a chunked session, an attribute serializing alone to at least this many bytes gets a chunk of its own. */
    static final int OWN_CHUNK_BYTES = 2 * 1024;

    /** Told of an attribute left out of the stored copy as larger than {@code maxAttributeSize}. */
    interface TooLarge {
        void attribute(String name, int size);
    }

    /** The attributes a write stores, in chunks, and the objects they were serialized from. */
    static final class Serialized {
        final List<byte[]> chunks;
        /** For each chunk, the one attribute it holds, or {@code null} for the shared one; {@code null}: written whole. */
        final List<String> names;
        final Map<String, Object> attributes;
        /** The index of the chunk in msm's own form ({@link PlainValues}); {@code -1} if none. */
        final int plainChunk;

        Serialized(List<byte[]> chunks, List<String> names, Map<String, Object> attributes) {
            this(chunks, names, attributes, -1);
        }

        Serialized(List<byte[]> chunks, List<String> names, Map<String, Object> attributes, int plainChunk) {
            this.chunks = chunks;
            this.names = names;
            this.attributes = attributes;
            this.plainChunk = plainChunk;
        }
    }

    /** How a chunked session's last write chunked its attributes. */
    static final class Layout {
        /** Attributes with a chunk of their own: the object serialized, and its bytes. */
        final Map<String, Piece> pieces = new HashMap<>();
        /** Attributes known to serialize small: they go to the shared chunk without being serialized alone. */
        final Set<String> small = new HashSet<>();
        /** The shared chunk's size when the small attributes were last sorted again (it grew past the threshold). */
        int sharedBytesSorted;
        /** A smaller session written split: its mutable values' chunk; {@code null} otherwise. */
        Piece mutable;
    }

    /** Bytes and what they were serialized from: one attribute's object, or (split) the map of mutable values. */
    static final class Piece {
        final Object value;
        final byte[] bytes;

        Piece(Object value, byte[] bytes) {
            this.value = value;
            this.bytes = bytes;
        }
    }

    /**
     * The layout of a session just read from {@code data} (its attribute objects and, if it was deserialized from
     * chunks, what each chunk held: {@code read}), so that its first write reuses the chunks no request touched;
     * {@code null} if it was stored whole.
     */
    static Layout layoutOf(io.msm.codec.SessionData data, IdleSessionCache.Version read) {
        if (!data.isChunked()) {
            return null;
        }
        Map<String, Object> attributes = read.attributes;
        List<String> names = data.attributeChunkNames();
        if (!names.stream().anyMatch(java.util.Objects::nonNull)
                && SessionDecoder.length(data.attributeChunks()) < CHUNKED_SESSION_BYTES) {
            return splitLayoutOf(data, read);
        }
        Layout layout = new Layout();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            byte[] chunk = data.attributeChunks().get(i);
            Object value = name == null ? null : attributes.get(name);
            if (name == null) {
                layout.sharedBytesSorted = chunk.length;
            } else if (value != null) {
                layout.pieces.put(name, new Piece(value, chunk));
            }
        }
        for (String name : attributes.keySet()) {
            if (!layout.pieces.containsKey(name)) {
                layout.small.add(name);
            }
        }
        return layout;
    }

    /**
     * A smaller session read from chunks (written split): the chunk that held its mutable values alone, reused while
     * they are untouched; {@code null} if there is none, or it is not known what each chunk held.
     */
    private static Layout splitLayoutOf(io.msm.codec.SessionData data, IdleSessionCache.Version read) {
        List<Set<String>> held = read.chunkNames;
        if (held == null || held.stream().mapToInt(Set::size).sum() != read.attributes.size()) {
            return null; // an attribute in two chunks: which object is whose is unclear
        }
        for (int i = 0; i < held.size(); i++) {
            Map<String, Object> mutable = new LinkedHashMap<>();
            for (String name : held.get(i)) {
                Object value = read.attributes.get(name);
                if (ImmutableValues.cannotChange(value)) {
                    mutable = null;
                    break;
                }
                mutable.put(name, value);
            }
            if (mutable != null && !mutable.isEmpty()) {
                Layout layout = new Layout();
                layout.mutable = new Piece(mutable, data.attributeChunks().get(i));
                return layout;
            }
        }
        return null;
    }

    private final SessionAttributesTranscoder transcoder;
    /** {@code maxAttributeSize}; 0 for none. */
    private final int cap;
    private final TooLarge tooLarge;
    /** Non-sticky: smaller sessions are written split (see the class comment). */
    private final boolean split;

    AttributeChunker(SessionAttributesTranscoder transcoder, int cap, TooLarge tooLarge, boolean split) {
        this.transcoder = transcoder;
        this.cap = cap;
        this.tooLarge = tooLarge;
        this.split = split;
    }

    /**
     * Serializes {@code attributes} and records in {@code st} how, for the next write. The runner of the session
     * calls it (one at a time per session); if it throws, the next write serializes the session whole.
     *
     * @param accessed attributes that may have changed since the last call; {@code null} if any may have
     */
    Serialized serialize(SessionState st, Map<String, Object> attributes, Set<String> accessed) {
        return serialize(st, attributes, accessed, Set.of());
    }

    /**
     * As {@link #serialize(SessionState, Map, Set)}, with attributes whose values may change in place unseen
     * ({@link ManagedSession#unwatchedAttributes()}): serialized on every write.
     */
    Serialized serialize(SessionState st, Map<String, Object> attributes, Set<String> accessed, Set<String> unwatched) {
        if (accessed != null && holdsAny(attributes, unwatched)) {
            Set<String> all = new java.util.HashSet<>(accessed);
            all.addAll(unwatched);
            accessed = all;
        }
        Layout last = st.layout;
        st.layout = null;
        if (split && (last == null || last.mutable != null)) {
            Serialized s = split(st, last, attributes, accessed);
            if (s != null) {
                return s;
            }
            last = null; // large (written whole first, then in chunks), or a chunk over maxAttributeSize
        }
        if (last == null) {
            Serialized whole = whole(attributes);
            if (whole.chunks.get(0).length < CHUNKED_SESSION_BYTES) {
                return whole;
            }
            last = new Layout(); // large: sorted into chunks at once (a session read whole is written once more)
        }
        Draft d = new Draft(last.sharedBytesSorted);
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            place(d, last, e.getKey(), e.getValue(), accessed);
        }
        Layout next = d.next;
        Map<String, Object> sharedKept = d.shared;
        int sharedBytes = 0;
        if (!d.shared.isEmpty() || d.chunks.isEmpty()) {
            Serialized rest = whole(d.shared);
            byte[] bytes = rest.chunks.get(0);
            sharedKept = rest.attributes;
            d.dropped |= sharedKept.size() != d.shared.size();
            d.chunks.add(bytes);
            d.names.add(null);
            sharedBytes = bytes.length;
            if (last.small.isEmpty()) {
                next.sharedBytesSorted = sharedBytes; // every attribute was just serialized alone
            } else if (sharedBytes >= CHUNKED_SESSION_BYTES && sharedBytes > 2 * next.sharedBytesSorted) {
                // a small attribute grew: sort them all again at the next write (seldom: the size must double)
                next.small.clear();
                next.sharedBytesSorted = sharedBytes;
            }
        }
        Map<String, Object> written = d.dropped ? stored(attributes, next, sharedKept) : attributes;
        if (next.pieces.isEmpty() && sharedBytes < CHUNKED_SESSION_BYTES) {
            return new Serialized(d.chunks, null, written); // small after all: the shared chunk alone, written whole
        }
        st.layout = next;
        return new Serialized(d.chunks, d.names, written);
    }

    /**
     * A smaller session in two or three chunks: its mutable values (the last write's bytes if they still hold), its
     * other immutable values if any, and its plain ones (strings, numbers, booleans) in msm's own form if any;
     * {@code null} if it holds only one kind, or is large, or a chunk is over {@code maxAttributeSize}.
     */
    private Serialized split(SessionState st, Layout last, Map<String, Object> attributes, Set<String> accessed) {
        Piece kept = last == null ? null : last.mutable;
        // the objects the kept bytes came from, while no request touched any of them
        Map<?, ?> keptValues = kept == null || accessed == null ? null : (Map<?, ?>) kept.value;
        if (keptValues != null && !java.util.Collections.disjoint(accessed, keptValues.keySet())) {
            keptValues = null;
        }
        // counted first, gathered only if there are any: most writes of a split session need no map
        int plainCount = 0;
        int fixedCount = 0;
        int mutableCount = 0;
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            if (PlainValues.canHold(e.getValue())) {
                plainCount++;
            } else if (steady(e)) {
                fixedCount++;
            } else {
                mutableCount++;
                if (keptValues != null && keptValues.get(e.getKey()) != e.getValue()) {
                    keptValues = null; // another object (or a new attribute)
                }
            }
        }
        if (mutableCount == 0 || fixedCount == 0 && plainCount == 0) {
            return null;
        }
        Piece changing = kept;
        if (keptValues == null || keptValues.size() != mutableCount) { // else the same objects, none touched
            Map<String, Object> mutable = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                if (!steady(e)) {
                    mutable.put(e.getKey(), e.getValue());
                }
            }
            changing = new Piece(mutable, transcoder.serialize(mutable));
        }
        if (changing.bytes.length >= CHUNKED_SESSION_BYTES || cap > 0 && changing.bytes.length > cap) {
            return null;
        }
        List<byte[]> chunks = new ArrayList<>(3);
        chunks.add(changing.bytes);
        if (fixedCount > 0) {
            Map<String, Object> fixed = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                if (!PlainValues.canHold(e.getValue()) && steady(e)) {
                    fixed.put(e.getKey(), e.getValue());
                }
            }
            chunks.add(transcoder.serialize(fixed));
        }
        if (plainCount > 0) {
            chunks.add(PlainValues.encodeHeld(attributes, plainCount));
        }
        int total = 0;
        for (byte[] chunk : chunks) {
            if (cap > 0 && chunk.length > cap) {
                return null;
            }
            total += chunk.length;
        }
        if (total >= CHUNKED_SESSION_BYTES) {
            return null;
        }
        Layout next = changing == kept ? last : new Layout(); // a split layout holds nothing else
        next.mutable = changing;
        st.layout = next;
        return new Serialized(chunks, java.util.Arrays.asList(new String[chunks.size()]), attributes,
                plainCount == 0 ? -1 : chunks.size() - 1);
    }

    /** Whether {@code attributes} holds any of {@code names} (looked up one by one: there are few). */
    private static boolean holdsAny(Map<String, Object> attributes, Set<String> names) {
        for (String name : names) {
            if (attributes.containsKey(name)) {
                return true;
            }
        }
        return false;
    }

    /** Split: a value no request can change in place. */
    private static boolean steady(Map.Entry<String, Object> e) {
        return ImmutableValues.cannotChange(e.getValue());
    }

    /** A chunked write being put together: its chunks so far, the layout for the next write, the shared attributes. */
    private static final class Draft {
        final Layout next = new Layout();
        final List<byte[]> chunks = new ArrayList<>();
        final List<String> names = new ArrayList<>();
        final Map<String, Object> shared = new LinkedHashMap<>();
        /** An attribute was left out as larger than {@code maxAttributeSize}. */
        boolean dropped;

        Draft(int sharedBytesSorted) {
            next.sharedBytesSorted = sharedBytesSorted;
        }

        void own(String name, Piece piece) {
            chunks.add(piece.bytes);
            names.add(name);
            next.pieces.put(name, piece);
        }
    }

    /**
     * Puts one attribute in the write: its last own chunk again if untouched, else serialized alone (a chunk of its
     * own if large, left out if over {@code maxAttributeSize}) unless known small, else into the shared chunk.
     */
    private void place(Draft d, Layout last, String name, Object value, Set<String> accessed) {
        Piece piece = last.pieces.get(name);
        if (piece != null && piece.value == value && accessed != null && !accessed.contains(name)) {
            d.own(name, piece);
            return;
        }
        if (piece != null || !last.small.contains(name)) {
            byte[] alone = transcoder.serialize(Collections.singletonMap(name, value));
            int measured = cap > 0 ? measured(name, value, alone.length) : alone.length;
            if (cap > 0 && measured > cap) {
                tooLarge.attribute(name, measured);
                d.dropped = true;
                return;
            }
            if (alone.length >= OWN_CHUNK_BYTES) {
                d.own(name, new Piece(value, alone));
                return;
            }
        }
        d.next.small.add(name);
        d.shared.put(name, value);
    }

    /**
     * An attribute's size as {@code maxAttributeSize} measures it: non-sticky, a plain value's in msm's own form (as a
     * split write stores it, whatever else the session holds), else the transcoder's ({@code serialized} if known,
     * else {@code -1}).
     */
    private int measured(String name, Object value, int serialized) {
        Map<String, Object> alone = Collections.singletonMap(name, value);
        if (split && PlainValues.canHold(value)) {
            return PlainValues.encode(alone).length;
        }
        return serialized >= 0 ? serialized : transcoder.serialize(alone).length;
    }

    /** What is stored when attributes were left out: those with a chunk of their own, and those the shared one kept. */
    private static Map<String, Object> stored(Map<String, Object> attributes, Layout next,
            Map<String, Object> sharedKept) {
        Map<String, Object> written = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            if (next.pieces.containsKey(e.getKey()) || sharedKept.containsKey(e.getKey())) {
                written.put(e.getKey(), e.getValue());
            }
        }
        return written;
    }

    /** All of {@code attributes} in one chunk, but any over {@code maxAttributeSize}. */
    private Serialized whole(Map<String, Object> attributes) {
        byte[] bytes = transcoder.serialize(attributes);
        if (cap > 0 && bytes.length > cap) {
            Map<String, Object> kept = withoutLargeAttributes(attributes);
            if (kept.size() != attributes.size()) {
                attributes = kept;
                bytes = transcoder.serialize(kept);
            }
        }
        return new Serialized(List.of(bytes), null, attributes);
    }

    /**
     * The chunk is larger than {@code maxAttributeSize}, so some attribute may be: each is serialized alone, and those
     * larger than the cap are left out (they stay in this Tomcat's memory).
     */
    private Map<String, Object> withoutLargeAttributes(Map<String, Object> attributes) {
        Map<String, Object> kept = new LinkedHashMap<>(attributes);
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            int size = measured(e.getKey(), e.getValue(), -1);
            if (size > cap) {
                kept.remove(e.getKey());
                tooLarge.attribute(e.getKey(), size);
            }
        }
        return kept;
    }
}
