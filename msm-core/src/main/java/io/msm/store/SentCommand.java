package io.msm.store;

/**
 * A command written on a connection of a {@link DirectConnections} pool whose answer is read later
 * ({@link DirectConnections#receive}), so that one thread can have commands on several nodes under way at once.
 */
final class SentCommand {
    final TextConnection conn;
    /** The connection came from the pool (it may turn out closed by memcached: the command is sent again). */
    final boolean pooled;
    final DirectConnections.Exchange<Void> command;

    SentCommand(TextConnection conn, boolean pooled, DirectConnections.Exchange<Void> command) {
        this.conn = conn;
        this.pooled = pooled;
        this.command = command;
    }
}
