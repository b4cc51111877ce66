package io.msm.engine;

import io.msm.codec.BlobCodec;
import io.msm.codec.SessionData;
import io.msm.config.MsmConfig;
import io.msm.internal.LogIds;
import io.msm.stats.MsmStatistics.Counter;
import io.msm.stats.MsmStatistics.Timer;
import java.lang.System.Logger.Level;
import java.util.ConcurrentModificationException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Turns a session into the blob to store: its attributes filtered ({@code sessionAttributeFilter}), serialized (in
 * chunks, each attribute over {@code maxAttributeSize} left out, retried when a request changed a collection
 * meanwhile) and encoded with its metadata, owner and binding; or, with {@code legacySessions="readWrite"}, in
 * memcached-session-manager's format.
 */
final class SessionEncoder {

    private static final System.Logger LOG = System.getLogger("io.msm.engine");
    private static final int SERIALIZATION_ATTEMPTS = 3;

    private final EngineBase base;
    private final AttributeChunker chunker;
    private final Pattern attributeFilter;
    /** Names of attributes reported as over maxAttributeSize (each is reported once). */
    private final Set<String> reportedLargeAttributes = ConcurrentHashMap.newKeySet();

    SessionEncoder(EngineBase base) {
        this.base = base;
        this.chunker = new AttributeChunker(base.transcoder, base.config.maxAttributeSize(), this::attributeTooLarge,
                !base.config.sticky());
        this.attributeFilter = base.config.sessionAttributeFilter().orElse(null);
    }

    /** A session's stored form, encoded (not sealed yet). */
    static final class Prepared {
        final String id;
        /** msm's encoding, or (readWrite) memcached-session-manager's blob, stored as it is. */
        final byte[] encoded;
        final boolean legacy;
        final long hash;
        /** What memcached holds once this write succeeds (or already holds when unchanged), for idleSessionCache. */
        final IdleSessionCache.Version version;

        Prepared(String id, byte[] encoded, boolean legacy, long hash, IdleSessionCache.Version version) {
            this.id = id;
            this.encoded = encoded;
            this.legacy = legacy;
            this.hash = hash;
            this.version = version;
        }
    }

    /** Serializes and encodes the session; {@code null} if it cannot be serialized now (counted, said). */
    Prepared prepare(ManagedSession s) {
        SessionData.Builder meta = s.metadata();
        if (base.ownerNote != null) {
            meta.note(SessionEngine.OWNER_NOTE, base.ownerNote);
        }
        if (base.binding != null) {
            base.binding.addTo(meta);
        }
        String id = java.util.Objects.requireNonNull(meta.id(), "id");
        if (base.legacyWrites != null) {
            // readWrite: as memcached-session-manager stores it (msm's format if it could not read this session)
            byte[] legacyBlob;
            try {
                legacyBlob = base.legacyWrites.encode(meta.build(), filter(s.attributes()),
                        base.ctx.clock().getAsLong());
            } catch (ConcurrentModificationException e) {
                base.stats.count(Counter.BACKUP_FAILURES);
                LOG.log(Level.WARNING, () -> base.logPrefix + "session " + LogIds.of(id) + " cannot be serialized, not "
                        + "stored: " + e);
                return null;
            }
            if (legacyBlob != null) {
                return new Prepared(id, legacyBlob, true, LegacyWrites.contentHash(legacyBlob), null);
            }
        }
        AttributeChunker.Serialized serialized = serialize(s, id);
        if (serialized == null) {
            return null;
        }
        byte[] encoded = BlobCodec.encode((serialized.names == null
                ? meta.attributes(serialized.chunks.get(0))
                : meta.attributeChunks(serialized.chunks, serialized.names, serialized.plainChunk)).build());
        IdleSessionCache.Version version = base.idle == null ? null
                : IdleSessionCache.Version.ofWrite(encoded, SessionDecoder.length(serialized.chunks),
                        serialized.attributes);
        return new Prepared(id, encoded, false, BlobCodec.contentHash(encoded), version);
    }

    private AttributeChunker.Serialized serialize(ManagedSession s, String id) {
        SessionState st = s.state();
        Set<String> accessed = st.takeAccessedNames(st.layout != null);
        for (int attempt = 1; ; attempt++) {
            long start = System.nanoTime();
            try {
                AttributeChunker.Serialized serialized = chunker.serialize(st, filter(s.attributes()), accessed,
                        s.unwatchedAttributes());
                base.stats.time(Timer.SERIALIZATION, System.nanoTime() - start);
                return serialized;
            } catch (RuntimeException e) {
                if (attempt < SERIALIZATION_ATTEMPTS && causedBy(e, ConcurrentModificationException.class)) {
                    continue; // a request changed a collection while we serialized it: read it again
                }
                // not retried here: the session's next request tries again
                base.stats.count(Counter.BACKUP_FAILURES);
                LOG.log(Level.WARNING, () -> base.logPrefix + "session " + LogIds.of(id)
                        + " cannot be serialized, not stored: " + e);
                return null;
            }
        }
    }

    /**
     * {@code maxAttributeSize}: an attribute left out of the stored copy (it stays in this Tomcat's memory). Said once
     * per attribute name, counted every time.
     */
    private void attributeTooLarge(String name, int size) {
        base.stats.count(Counter.ATTRIBUTES_TOO_LARGE);
        if (reportedLargeAttributes.add(name)) {
            LOG.log(Level.WARNING, () -> base.logPrefix + "attribute " + name + " is " + size
                    + " bytes serialized, over " + MsmConfig.MAX_ATTRIBUTE_SIZE + "=\"" + base.config.maxAttributeSize()
                    + "\": it is not stored in memcached (it stays in this Tomcat's memory; said once per attribute "
                    + "name)");
        }
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private Map<String, Object> filter(Map<String, Object> attributes) {
        if (attributeFilter == null) {
            return attributes;
        }
        Map<String, Object> kept = new LinkedHashMap<>();
        attributes.forEach((k, v) -> {
            if (attributeFilter.matcher(k).matches()) {
                kept.put(k, v);
            }
        });
        return kept;
    }
}
