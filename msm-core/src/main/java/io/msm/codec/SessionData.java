package io.msm.codec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything msm stores of one session: the container-neutral metadata plus the transcoder's attribute bytes, in one
 * or more chunks (each the transcoder's bytes of some of the attributes, or one in msm's own form for plain values;
 * together all of them, no name in two).
 * Principal and notes are opaque bytes encoded by the container adapter.
 */
public final class SessionData {
    private final String id;
    private final long creationTime;
    private final long lastAccessedTime;
    private final long thisAccessedTime;
    private final int maxInactiveInterval;
    private final boolean isNew;
    private final boolean isValid;
    private final String authType;
    private final byte[] principal;
    private final Map<String, byte[]> notes;
    /** {@link #notes} without the unmodifiable view: the builder's map, which it no longer changes. */
    private final Map<String, byte[]> notesAsBuilt;
    private final List<byte[]> attributeChunks;
    private final List<String> chunkNames;
    private final boolean chunked;
    private final int plainChunk;

    private SessionData(Builder b) {
        this.id = Objects.requireNonNull(b.id, "id");
        this.creationTime = b.creationTime;
        this.lastAccessedTime = b.lastAccessedTime;
        this.thisAccessedTime = b.thisAccessedTime;
        this.maxInactiveInterval = b.maxInactiveInterval;
        this.isNew = b.isNew;
        this.isValid = b.isValid;
        this.authType = b.authType;
        this.principal = b.principal;
        this.notesAsBuilt = b.notes.isEmpty() ? Map.of() : b.notes;
        b.notesBuilt = true; // the builder copies them before its next change
        this.notes = b.notes.isEmpty() ? Map.of() : Collections.unmodifiableMap(b.notes);
        this.chunked = b.chunked;
        if (b.attributeChunks == null || b.attributeChunks.isEmpty()) {
            if (b.plainChunk >= 0) {
                throw new IllegalArgumentException("plain chunk " + b.plainChunk + " of no chunks");
            }
            this.attributeChunks = List.of(new byte[0]);
            this.chunkNames = Collections.singletonList(null);
        } else {
            if (b.chunkNames.size() != b.attributeChunks.size()) {
                throw new IllegalArgumentException(b.attributeChunks.size() + " chunks, " + b.chunkNames.size()
                        + " chunk names");
            }
            this.attributeChunks = List.copyOf(b.attributeChunks);
            this.chunkNames = Collections.unmodifiableList(new java.util.ArrayList<>(b.chunkNames));
        }
        if (b.plainChunk < -1 || b.plainChunk >= attributeChunks.size() || b.plainChunk >= 0
                && (!b.chunked || chunkNames.get(b.plainChunk) != null)) {
            throw new IllegalArgumentException("plain chunk " + b.plainChunk + " of " + attributeChunks.size()
                    + (b.chunked ? "" : ", written whole"));
        }
        this.plainChunk = b.plainChunk;
    }

    public static Builder builder(String id) {
        return new Builder(id);
    }

    /** A builder holding this session's values. */
    public Builder toBuilder() {
        Builder b = new Builder(id);
        b.creationTime = creationTime;
        b.lastAccessedTime = lastAccessedTime;
        b.thisAccessedTime = thisAccessedTime;
        b.maxInactiveInterval = maxInactiveInterval;
        b.isNew = isNew;
        b.isValid = isValid;
        b.authType = authType;
        b.principal = principal;
        b.notes.putAll(notes);
        b.attributeChunks = attributeChunks;
        b.chunkNames = chunkNames;
        b.chunked = chunked;
        b.plainChunk = plainChunk;
        return b;
    }

    public String id() {
        return id;
    }

    public long creationTime() {
        return creationTime;
    }

    public long lastAccessedTime() {
        return lastAccessedTime;
    }

    public long thisAccessedTime() {
        return thisAccessedTime;
    }

    /** Seconds; {@code <= 0} never expires. */
    public int maxInactiveInterval() {
        return maxInactiveInterval;
    }

    public boolean isNew() {
        return isNew;
    }

    public boolean isValid() {
        return isValid;
    }

    /** The authentication type (e.g. {@code FORM}), or {@code null}. */
    public String authType() {
        return authType;
    }

    /** The adapter's encoding of the authenticated principal, or {@code null}. */
    public byte[] principal() {
        return principal;
    }

    /** Container notes the adapter carries across Tomcats (e.g. a saved FORM request), encoded by the adapter. */
    public Map<String, byte[]> notes() {
        return notes;
    }

    /** {@link #notes()} for {@link BlobCodec} to read, not change. */
    Map<String, byte[]> notesAsBuilt() {
        return notesAsBuilt;
    }

    /** The attribute bytes: one chunk, or several written separately (each readable alone by the transcoder). */
    public List<byte[]> attributeChunks() {
        return attributeChunks;
    }

    /**
     * For each of {@link #attributeChunks()}: the name of the one attribute it holds, or {@code null} for a chunk of
     * any number of them.
     */
    public List<String> attributeChunkNames() {
        return chunkNames;
    }

    /**
     * {@code true} if the attributes were written in chunks (even one): large attributes alone, the others together;
     * {@code false} if written whole.
     */
    public boolean isChunked() {
        return chunked;
    }

    /**
     * The index of the chunk msm wrote itself ({@link PlainValues}: strings, numbers, booleans), which the transcoder
     * does not read; {@code -1} if every chunk is the transcoder's.
     */
    public int plainChunk() {
        return plainChunk;
    }

    /** Builds {@link SessionData}. */
    public static final class Builder {
        private String id;
        private long creationTime;
        private long lastAccessedTime;
        private long thisAccessedTime;
        private int maxInactiveInterval;
        private boolean isNew;
        private boolean isValid = true;
        private String authType;
        private byte[] principal;
        private Map<String, byte[]> notes = new LinkedHashMap<>();
        /** {@link #notes} belongs to a {@link SessionData} built: copied before a change. */
        private boolean notesBuilt;
        private List<byte[]> attributeChunks;
        private List<String> chunkNames;
        private boolean chunked;
        private int plainChunk = -1;

        private Builder(String id) {
            this.id = id;
        }

        public Builder id(String v) {
            id = v;
            return this;
        }

        /** The id set so far. */
        public String id() {
            return id;
        }

        /** The session's creation, last accessed and this accessed times (as Tomcat keeps them), epoch millis. */
        public Builder times(long creationTime, long lastAccessedTime, long thisAccessedTime) {
            this.creationTime = creationTime;
            this.lastAccessedTime = lastAccessedTime;
            this.thisAccessedTime = thisAccessedTime;
            return this;
        }

        public Builder maxInactiveInterval(int v) {
            maxInactiveInterval = v;
            return this;
        }

        /** The session's new and valid flags. */
        public Builder state(boolean isNew, boolean isValid) {
            this.isNew = isNew;
            this.isValid = isValid;
            return this;
        }

        public Builder authType(String v) {
            authType = v;
            return this;
        }

        public Builder principal(byte[] v) {
            principal = v;
            return this;
        }

        public Builder note(String name, byte[] value) {
            if (notesBuilt) {
                notes = new LinkedHashMap<>(notes);
                notesBuilt = false;
            }
            notes.put(Objects.requireNonNull(name), Objects.requireNonNull(value));
            return this;
        }

        /** All attributes in one chunk. */
        public Builder attributes(byte[] v) {
            attributeChunks = v == null ? null : List.of(v);
            chunkNames = Collections.singletonList(null);
            chunked = false;
            plainChunk = -1;
            return this;
        }

        /**
         * The attributes in chunks (even one), each the transcoder's bytes of some of them.
         *
         * @param names for each chunk, the name of the one attribute it holds, or {@code null}
         */
        public Builder attributeChunks(List<byte[]> chunks, List<String> names) {
            return attributeChunks(chunks, names, -1);
        }

        /**
         * As {@link #attributeChunks(List, List)}, with one chunk in msm's own form.
         *
         * @param plainChunk the index of the chunk {@link PlainValues} wrote (its name {@code null}); {@code -1}: none
         */
        public Builder attributeChunks(List<byte[]> chunks, List<String> names, int plainChunk) {
            attributeChunks = chunks;
            chunkNames = names;
            chunked = true;
            this.plainChunk = plainChunk;
            return this;
        }

        public SessionData build() {
            return new SessionData(this);
        }
    }
}
