package io.msm.engine;

import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Sticky mode: how a Tomcat learns that another took over sessions it holds. Both stay up when a balancer sends one
 * request elsewhere (the first Tomcat was slow for a moment), and the first still holds its copy in memory, under the
 * session's former id. The Tomcat that takes a session over leaves a notice for the one named by the former id's
 * jvmRoute: an entry appended to that Tomcat's list in memcached ({@code <prefix>msm:taken:<jvmRoute>:<context path>},
 * on any node; one per webapp, the webapps of a Tomcat may share a prefix).
 * Each Tomcat reads its list on every available node a few times a second while it holds sessions (every few seconds
 * while it holds none), and at once before it serves a request that carries another Tomcat's route, and drops the
 * copies named there.
 *
 * <p>An entry is {@code <token> <hash> <route>\n} (the route of the Tomcat that took the copy), or
 * {@code <token> end <route>\n} for a session ended on the Tomcat it was taken from (see {@link Notice}): the token is a SHA-256 digest of the webapp's key prefix and the former id
 * (never the id, a bearer token; the same whatever session keys a Tomcat has, so a key rotation does not hide notices), the hash names the copy that was taken (a hash of the whole blob, times included, so a copy taken back unchanged is another copy). A copy is dropped only while it still is that copy: a
 * Tomcat that took the session back since holds another one. A list is deleted once read, unless an entry was added
 * meanwhile (it is read again next time, and only the entries after those already read are acted on); an unread
 * list expires after {@link #TTL_SECONDS}, and one that reaches memcached's item size (a Tomcat gone for good while
 * its sessions move) takes no more entries.
 */
final class TakeoverNotices {
    static final String KEY = "msm:taken:";
    /** How often a Tomcat reads its list. */
    static final long POLL_MILLIS = 250;
    /** How long an unread list is kept. */
    static final int TTL_SECONDS = 3600;
    private static final int TOKEN_BYTES = 16;

    /**
     * One entry: the copy of the session whose key digest is {@code token}, named by {@code hash}, was taken over by
     * the Tomcat of {@code route}; or ({@link #end}) the session taken over from that id ended where the request that
     * ended it ran (a logout on the Tomcat the session was taken from): the Tomcat holding it now ends it.
     */
    static final class Notice {
        final String token;
        final long hash;
        /** The announcing Tomcat's jvmRoute; {@code null} if the entry does not say. */
        final String route;
        final boolean end;

        Notice(String token, long hash, String route, boolean end) {
            this.token = token;
            this.hash = hash;
            this.route = route;
            this.end = end;
        }
    }

    private static final java.util.regex.Pattern ROUTE = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final SessionStore store;
    private final String keyPrefix;
    private final String owner;
    /** This Tomcat's jvmRoute, named in the entries it writes. */
    private final String ownRoute;
    private final LongSupplier clock;
    /**
     * Per node, the length and hash of the list last read there that could not be deleted (an append landed between
     * the read and the delete): a list only grows until it is deleted, so the next read acts on what follows alone.
     * An entry acted on twice could drop a session this Tomcat took back since with the same content.
     */
    private final java.util.Map<String, long[]> undeleted = new java.util.concurrent.ConcurrentHashMap<>();

    TakeoverNotices(SessionStore store, String keyPrefix, LongSupplier clock) {
        this(store, keyPrefix, null, clock);
    }

    TakeoverNotices(SessionStore store, String keyPrefix, String owner, LongSupplier clock) {
        this(store, keyPrefix, owner, null, clock);
    }

    /**
     * @param owner the webapp's context path ({@link EngineContext#owner()}): webapps of one Tomcat that share a key
     *     prefix (the default prefix is empty) each have their list, or the first to read one would take the others'
     */
    TakeoverNotices(SessionStore store, String keyPrefix, String owner, String ownRoute, LongSupplier clock) {
        this.store = store;
        this.keyPrefix = keyPrefix;
        this.owner = owner;
        this.ownRoute = ownRoute;
        this.clock = clock;
    }

    /**
     * Leaves a notice for the Tomcat of {@code route}: the copy of session {@code formerId} with content hash
     * {@code hash} was taken over.
     *
     * @throws StoreException if memcached did not take it
     */
    void announce(String route, String formerId, long hash, String nodeId, long timeoutMillis) {
        add(route, token(formerId) + " " + Long.toHexString(hash) + routeField() + "\n", nodeId, timeoutMillis);
    }

    /**
     * Leaves a notice for the Tomcat of {@code route}, which took session {@code formerId} over from this one: the
     * session ended here (a request still running here invalidated the copy it was taken from).
     *
     * @throws StoreException if memcached did not take it
     */
    void announceEnd(String route, String formerId, String nodeId, long timeoutMillis) {
        add(route, token(formerId) + " end" + routeField() + "\n", nodeId, timeoutMillis);
    }

    private String routeField() {
        return ownRoute == null || !ROUTE.matcher(ownRoute).matches() ? "" : " " + ownRoute;
    }

    private void add(String route, String line, String nodeId, long timeoutMillis) {
        String key = listKey(route);
        byte[] entry = line.getBytes(StandardCharsets.US_ASCII);
        for (int attempt = 0; attempt < 2; attempt++) {
            if (store.append(nodeId, key, entry, timeoutMillis)) {
                return;
            }
            if (store.add(nodeId, key, Expiration.of(TTL_SECONDS, clock.getAsLong()), entry, timeoutMillis) >= 0) {
                return;
            }
            // created by another Tomcat between the two calls: append again
        }
        throw StoreException.failed("append", key, nodeId, 0, "the list changed twice while adding to it", null);
    }

    /**
     * Reads and deletes the list of {@code route} on {@code nodeId}.
     *
     * @return its entries (malformed lines are skipped)
     * @throws StoreException if the node did not answer
     */
    List<Notice> collect(String route, String nodeId, long deadlineNanos) {
        String key = listKey(route);
        byte[] value = store.get(nodeId, key, millisLeft(deadlineNanos));
        if (value == null) {
            undeleted.remove(nodeId);
            return List.of();
        }
        long[] read = undeleted.get(nodeId);
        int from = read != null && read[0] <= value.length
                && io.msm.internal.XxHash64.hash(value, 0, (int) read[0], 0) == read[1] ? (int) read[0] : 0;
        List<Notice> notices = parse(java.util.Arrays.copyOfRange(value, from, value.length));
        boolean deleted;
        try {
            deleted = store.compareAndDelete(nodeId, key, value, 0, millisLeft(deadlineNanos));
        } catch (StoreException e) {
            // the delete may have run all the same (its answer was late): what was read is acted on now, and not
            // again if the list is still there (a slow node is reported by the next read)
            deleted = false;
        }
        if (deleted) {
            undeleted.remove(nodeId);
        } else {
            undeleted.put(nodeId, new long[] {value.length, io.msm.internal.XxHash64.hash(value, 0, value.length, 0)});
        }
        return notices;
    }

    private static long millisLeft(long deadlineNanos) {
        return Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }

    static List<Notice> parse(byte[] value) {
        List<Notice> notices = new ArrayList<>();
        for (String line : new String(value, StandardCharsets.US_ASCII).split("\n")) {
            String[] f = line.split(" ", -1);
            if (f.length < 2 || f.length > 3 || f[0].length() != TOKEN_BYTES * 2 || f[1].isEmpty() || f[1].length() > 16
                    || f.length == 3 && !ROUTE.matcher(f[2]).matches()) {
                continue; // not one of ours: skipped
            }
            String route = f.length == 3 ? f[2] : null;
            if (f[1].equals("end")) {
                notices.add(new Notice(f[0], 0, route, true));
                continue;
            }
            try {
                notices.add(new Notice(f[0], Long.parseUnsignedLong(f[1], 16), route, false));
            } catch (NumberFormatException e) {
                // not one of ours: skipped
            }
        }
        return notices;
    }

    private String listKey(String route) {
        // a long prefix or context path: hashed, as session keys are
        return StorageKeys.fit(keyPrefix + KEY + route + (owner == null ? "" : ":" + owner));
    }

    /** The digest that names session {@code id} in a notice. */
    String token(String id) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(("msm takeover notice\0" + keyPrefix + "\0"
                    + id).getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(TOKEN_BYTES * 2);
            for (int i = 0; i < TOKEN_BYTES; i++) {
                sb.append(Character.forDigit((digest[i] >> 4) & 0xF, 16)).append(Character.forDigit(digest[i] & 0xF, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
