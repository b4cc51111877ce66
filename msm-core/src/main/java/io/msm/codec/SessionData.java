package io.msm.codec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything msm stores of one session: the container-neutral metadata plus the transcoder's attribute bytes.
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
    private final byte[] attributes;

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
        this.notes = Collections.unmodifiableMap(new LinkedHashMap<>(b.notes));
        this.attributes = b.attributes == null ? new byte[0] : b.attributes;
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
        b.attributes = attributes;
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

    /** The transcoder's bytes of the attributes. */
    public byte[] attributes() {
        return attributes;
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
        private final Map<String, byte[]> notes = new LinkedHashMap<>();
        private byte[] attributes;

        private Builder(String id) {
            this.id = id;
        }

        public Builder id(String v) {
            id = v;
            return this;
        }

        public Builder creationTime(long v) {
            creationTime = v;
            return this;
        }

        public Builder lastAccessedTime(long v) {
            lastAccessedTime = v;
            return this;
        }

        public Builder thisAccessedTime(long v) {
            thisAccessedTime = v;
            return this;
        }

        public Builder maxInactiveInterval(int v) {
            maxInactiveInterval = v;
            return this;
        }

        public Builder isNew(boolean v) {
            isNew = v;
            return this;
        }

        public Builder isValid(boolean v) {
            isValid = v;
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
            notes.put(Objects.requireNonNull(name), Objects.requireNonNull(value));
            return this;
        }

        public Builder attributes(byte[] v) {
            attributes = v;
            return this;
        }

        public SessionData build() {
            return new SessionData(this);
        }
    }
}
