package io.msm.config;

/**
 * Whether msm reads the sessions memcached-session-manager 2.x stored ({@code legacySessions}), so that switching a
 * cluster from it to msm, one Tomcat at a time, logs no one out.
 */
public enum LegacySessions {
    /** Only msm's own sessions are read; a cookie of an old session gets a new session. The default. */
    OFF,
    /**
     * A session msm does not find in its own format is looked for where and as the old manager stored it (its
     * {@code storageKeyPrefix} rules, its Java serialization format, in non-sticky mode its {@code validity:}
     * record); found, it is the same session (id, times, attributes, login) and is stored in msm's format from then
     * on.
     */
    READ,
    /**
     * As {@link #READ}, and every session is stored as the old manager stores it (its format, in non-sticky mode its
     * {@code validity:} record and the secondary copies of both), so that Tomcats still running it read what msm
     * Tomcats wrote: for the rollout, one Tomcat at a time. Not with {@code sessionProtection} (the old manager reads
     * neither signed blobs nor hashed keys).
     */
    READ_WRITE;

    /** As the attribute names it: {@code off}, {@code read}, {@code readWrite}. */
    public String attributeValue() {
        return this == READ_WRITE ? "readWrite" : name().toLowerCase(java.util.Locale.ROOT);
    }
}
