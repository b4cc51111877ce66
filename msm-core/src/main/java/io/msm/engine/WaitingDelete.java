package io.msm.engine;

/**
 * A delete waiting for its node: the copy of {@code id} under key name {@code name} on {@code node}, or its
 * primary key under every name ({@link WaitingDeletes#PRIMARY}).
 */
final class WaitingDelete {
    /** {@link #endedAt} of a delete that leaves no mark. */
    static final long NO_MARK = Long.MIN_VALUE;

    final String node;
    final String id;
    final int name;
    /** When the copy has expired in memcached anyway (clock millis; {@link WaitingDeletes#NEVER}). */
    final long until;
    /** When the delete was asked (clock millis). */
    final long since;
    /**
     * A secondary copy of an ended session: the time its {@link GoneMarks mark} beside it holds; {@link #NO_MARK}
     * for a copy of a session that lives on.
     */
    final long endedAt;

    WaitingDelete(String node, String id, int name, long until, long since, long endedAt) {
        this.node = node;
        this.id = id;
        this.name = name;
        this.until = until;
        this.since = since;
        this.endedAt = endedAt;
    }

    /** This delete, waiting until {@code until}. */
    WaitingDelete until(long until) {
        return new WaitingDelete(node, id, name, until, since, endedAt);
    }

    boolean marks() {
        return endedAt != NO_MARK;
    }
}
