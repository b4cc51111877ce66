package io.msm.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * memcached's text protocol on a {@link TextConnection}: each method writes one command and reads its whole
 * answer, so the connection is in step again when it returns. Keys go out as {@link TextConnection#writeCommand}
 * writes every command line (UTF-8); the caller has checked them ({@link MemcachedKeys}).
 *
 * <p>An answer this client does not expect ({@code ERROR}, {@code CLIENT_ERROR ...}, {@code SERVER_ERROR ...}, a
 * malformed line, a value for another key or larger than the node holds) is a {@link ProtocolException}: the
 * connection is then closed, never reused.
 */
final class TextCommands {
    /** {@link #store}'s verb for {@code set}, {@code add}, {@code cas} and {@code append}. */
    enum Verb {
        SET("set"), ADD("add"), CAS("cas"), APPEND("append");

        final String word;

        Verb(String word) {
            this.word = word;
        }
    }

    private TextCommands() {
    }

    /**
     * {@code get <key>}: the value, or {@code null} if the key is absent.
     *
     * @param maxValue the largest value the node can hold: a larger announced size is a {@link ProtocolException}
     */
    static byte[] get(TextConnection c, String key, int maxValue) throws IOException {
        c.writeCommand("get " + key + "\r\n");
        c.out.flush();
        long[] header = valueHeader(c, key, false, maxValue);
        return header == null ? null : readValueAndEnd(c, (int) header[0]);
    }

    /**
     * {@code gets <key>}: the value and its CAS ({@link StoredValue#UNKNOWN_TTL}); a miss has a {@code null} value.
     *
     * @param maxValue as {@link #get}
     */
    static StoredValue gets(TextConnection c, String key, int maxValue) throws IOException {
        c.writeCommand("gets " + key + "\r\n");
        c.out.flush();
        long[] header = valueHeader(c, key, true, maxValue);
        if (header == null) {
            return new StoredValue(null, StoredValue.UNKNOWN_TTL);
        }
        return new StoredValue(readValueAndEnd(c, (int) header[0]), StoredValue.UNKNOWN_TTL, false, header[1]);
    }

    /**
     * The header of a {@code get}/{@code gets} answer, {@code VALUE <key> <flags> <bytes> [<cas>]}: {@code {bytes,
     * cas}}, or {@code null} for {@code END} (a miss). A value for another key than the one asked is not this
     * command's answer: a {@link ProtocolException}.
     */
    private static long[] valueHeader(TextConnection c, String key, boolean withCas, int maxValue)
            throws IOException {
        String line = c.readLine();
        if (line.equals("END")) {
            return null;
        }
        String[] parts = line.split(" ");
        if (!parts[0].equals("VALUE") || parts.length != (withCas ? 5 : 4)) {
            throw unexpected(line);
        }
        if (!parts[1].equals(asRead(key))) { // not named: a key may hold a session id
            throw new ProtocolException("memcached answered a value for another key");
        }
        try {
            long size = Integer.parseInt(parts[3]);
            long cas = withCas ? Long.parseLong(parts[4]) : 0;
            if (size < 0) {
                throw unexpected(line);
            }
            return new long[] {sizeAtMost(size, maxValue), cas};
        } catch (NumberFormatException e) {
            throw unexpected(line);
        }
    }

    /** {@code key} as {@link TextConnection#readLine} reads it back: its UTF-8 bytes, one char each. */
    private static String asRead(String key) {
        return new String(key.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    /**
     * An announced value size, refused above {@code maxValue}: no node holds such a value, and reading it would hold
     * as much memory as the peer sends (a broken or hostile server could exhaust the heap).
     */
    private static long sizeAtMost(long size, int maxValue) throws ProtocolException {
        if (size > maxValue) {
            throw new ProtocolException("memcached announced a value of " + size + " bytes, the node holds at most "
                    + maxValue);
        }
        return size;
    }

    private static byte[] readValueAndEnd(TextConnection c, int size) throws IOException {
        byte[] data = c.readData(size);
        String end = c.readLine();
        if (!end.equals("END")) {
            throw unexpected(end);
        }
        return data;
    }

    /**
     * The meta get line, CRLF included: {@code mg <key> v t c}, with a new expiration {@code T<exp>} after {@code t}
     * (memcached handles the flags in order, so {@code t} reports the time left before {@code T} set the new one).
     */
    private static String metaGetCommand(String key, int refreshExp) {
        String touch = refreshExp == SessionStore.KEEP_EXPIRATION ? "" : " T" + refreshExp;
        return "mg " + key + " v t c" + touch + "\r\n";
    }

    /**
     * memcached's meta get (1.6+): the value, its remaining time to live and its CAS in one round trip, and with
     * {@code refreshExp} (not {@link SessionStore#KEEP_EXPIRATION}) also a touch. Answers: {@code VA <size> t<ttl>
     * c<cas>} and the data (hit; {@code t-1}: never expires), {@code EN} (miss).
     *
     * @param maxValue as {@link #get}
     * @throws MetaCommandsUnknown memcached answered {@code ERROR} (before 1.6)
     * @throws MissAfterReconnect a miss on a connection that replaced one memcached had closed
     */
    static StoredValue metaGet(TextConnection c, String key, int refreshExp, int maxValue) throws IOException {
        c.writeCommand(metaGetCommand(key, refreshExp));
        c.out.flush();
        String h = c.readLine();
        if (h.equals("EN")) {
            if (c.replacesClosed) {
                throw new MissAfterReconnect();
            }
            return new StoredValue(null, StoredValue.UNKNOWN_TTL);
        }
        if (h.equals("ERROR")) {
            throw new MetaCommandsUnknown();
        }
        long[] hit = h.startsWith("VA ") ? parseHit(h) : null;
        if (hit == null) {
            throw unexpected(h);
        }
        return new StoredValue(c.readData((int) sizeAtMost(hit[0], maxValue)), (int) hit[1],
                refreshExp != SessionStore.KEEP_EXPIRATION, hit[2]);
    }

    /**
     * The size, the TTL ({@link StoredValue#UNKNOWN_TTL} if absent) and the CAS ({@code 0} if absent) of a hit's
     * header {@code VA <size> t<ttl> c<cas>}; {@code null} if the line is malformed.
     */
    private static long[] parseHit(String h) {
        String[] parts = h.split(" ");
        try {
            int size = Integer.parseInt(parts[1]);
            int ttl = StoredValue.UNKNOWN_TTL;
            long cas = 0;
            for (int i = 2; i < parts.length; i++) {
                if (parts[i].startsWith("t")) {
                    ttl = Integer.parseInt(parts[i].substring(1));
                } else if (parts[i].startsWith("c")) {
                    cas = Long.parseLong(parts[i].substring(1));
                }
            }
            return size < 0 ? null : new long[] {size, ttl, cas};
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Writes a storage command, {@code <verb> <key> 0 <exp> <bytes> [<cas>]} and the value, without reading the
     * answer ({@link #storeAnswer}). {@code cas} is only sent for {@link Verb#CAS}.
     */
    static Void writeStore(TextConnection c, Verb verb, String key, int exp, byte[] value, long cas)
            throws IOException {
        c.writeCommand(verb.word + " " + key + " 0 " + exp + " " + value.length
                + (verb == Verb.CAS ? " " + cas : "") + "\r\n");
        c.writeValue(value);
        return null;
    }

    /**
     * The answer to a storage command: {@code STORED}, {@code NOT_STORED}, {@code EXISTS} or {@code NOT_FOUND}.
     *
     * @throws ProtocolException anything else (e.g. {@code SERVER_ERROR object too large for
     *     cache}), its message {@code memcached answered <line>}
     */
    static String storeAnswer(TextConnection c) throws IOException {
        String line = c.readLine();
        switch (line) {
            case "STORED":
            case "NOT_STORED":
            case "EXISTS":
            case "NOT_FOUND":
                return line;
            default:
                throw unexpected(line);
        }
    }

    /** {@code touch <key> <exp>}: {@code false} if the key is absent. */
    static boolean touch(TextConnection c, String key, int exp) throws IOException {
        c.writeCommand("touch " + key + " " + exp + "\r\n");
        c.out.flush();
        return yesOrNo(c.readLine(), "TOUCHED");
    }

    /** {@code delete <key>}: {@code false} if the key was absent. */
    static boolean delete(TextConnection c, String key) throws IOException {
        c.writeCommand("delete " + key + "\r\n");
        c.out.flush();
        return yesOrNo(c.readLine(), "DELETED");
    }

    private static boolean yesOrNo(String line, String yes) throws IOException {
        if (line.equals(yes)) {
            return true;
        }
        if (line.equals("NOT_FOUND")) {
            return false;
        }
        throw unexpected(line);
    }

    /**
     * {@code stats <group>} ({@code ""} for the general ones): name to value; empty if the server does not give that
     * group ({@code ERROR}: ElastiCache Serverless gives the general ones only), which leaves the connection in step.
     */
    static Map<String, String> stats(TextConnection c, String group) throws IOException {
        c.writeCommand(group.isEmpty() ? "stats\r\n" : "stats " + group + "\r\n");
        c.out.flush();
        Map<String, String> stats = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            String line = c.readLine();
            if (line.equals("END")) {
                return stats;
            }
            if (i == 0 && line.equals("ERROR")) {
                return stats;
            }
            String[] parts = line.split(" ", 3);
            if (parts.length != 3 || !parts[0].equals("STAT")) {
                throw unexpected(line);
            }
            stats.put(parts[1], parts[2]);
        }
        throw new ProtocolException("more than 1000 stats lines");
    }

    private static ProtocolException unexpected(String line) {
        return new ProtocolException("memcached answered " + line);
    }

    /** memcached answered a meta command with {@code ERROR}: it predates meta commands (memcached before 1.6). */
    static final class MetaCommandsUnknown extends ProtocolException {
        private static final long serialVersionUID = 1L;

        MetaCommandsUnknown() {
            super("memcached answered ERROR to a meta command (memcached before 1.6)");
        }
    }

    /**
     * A meta get found nothing on a connection that replaced one memcached had closed. memcached may have restarted
     * empty a moment ago, before anything else noticed: a miss then is no proof that the session is gone, so it is
     * reported as a failure and the caller turns to the secondary copy (as when the node cannot answer at all).
     */
    static final class MissAfterReconnect extends IOException {
        private static final long serialVersionUID = 1L;

        MissAfterReconnect() {
            super("no value, on a new connection replacing one memcached had closed (restarted empty?)");
        }
    }
}
