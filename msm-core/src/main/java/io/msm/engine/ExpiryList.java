package io.msm.engine;

import io.msm.codec.BlobSealer;
import io.msm.config.MemcachedNode;
import io.msm.config.SessionProtection;
import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The sessions a stopping Tomcat leaves for its timeout watch to the next start with the same jvmRoute and context
 * ({@link ExpiryWatch}): a list in memcached, one key per Tomcat and context, in chunks of at most
 * {@link #CHUNK_BYTES}, written to every available node and taken (read, then deleted) by the next start.
 *
 * <p>Each line is {@code id TAB due TAB maxInactive TAB created}. With {@code sessionProtection} on, the list is
 * encrypted with the first session key (AES-GCM, as {@code encrypt} does for sessions), so memcached never holds ids
 * in clear, and a list not written with one of the keys is ignored.
 */
final class ExpiryList {
    static final String HEADER = "msm-expiry 1\n";
    /** Raw bytes per chunk: well within memcached's default item size (1 MB). */
    static final int CHUNK_BYTES = 500_000;
    /** How long the list outlives its latest due time, seconds (it is useless after that). */
    static final long KEEP_AFTER_DUE_SECONDS = 120;
    /** At most this many chunks are read or deleted (a list of the largest index takes far fewer). */
    static final int MAX_CHUNKS = 64;

    /** One line of the list. */
    static final class Item {
        final String id;
        final long due;
        final int maxInactive;
        final long created;

        Item(String id, long due, int maxInactive, long created) {
            this.id = id;
            this.due = due;
            this.maxInactive = maxInactive;
            this.created = created;
        }
    }

    private final SessionEngine engine;
    private final String baseName;
    private final BlobSealer sealer;

    /**
     * @param baseName the list's name for this Tomcat and context: chunk {@code i} is under the webapp's key of
     *     {@code baseName:i} ({@link StorageKeys#unnamed}: the key prefix, made sendable)
     */
    ExpiryList(SessionEngine engine, String baseName) {
        this.engine = engine;
        this.baseName = baseName;
        SessionProtection p = engine.config().sessionProtection();
        this.sealer = BlobSealer.create(p == SessionProtection.NONE ? SessionProtection.NONE
                : SessionProtection.ENCRYPT, engine.config().sessionKeys(), 0);
    }

    /** The chunks of a list (encoded, sealed). */
    List<byte[]> encode(Collection<Item> items) {
        List<byte[]> chunks = new ArrayList<>();
        StringBuilder sb = new StringBuilder(HEADER);
        for (Item i : items) {
            String line = i.id + '\t' + i.due + '\t' + i.maxInactive + '\t' + i.created + '\n';
            if (sb.length() + line.length() > CHUNK_BYTES && sb.length() > HEADER.length()) {
                chunks.add(sealer.seal(sb.toString().getBytes(StandardCharsets.UTF_8)));
                sb.setLength(0);
                sb.append(HEADER);
            }
            sb.append(line);
        }
        if (sb.length() > HEADER.length()) {
            chunks.add(sealer.seal(sb.toString().getBytes(StandardCharsets.UTF_8)));
        }
        return chunks;
    }

    /** The items of one chunk; malformed lines and ids that are not this configuration's are skipped. */
    List<Item> decode(byte[] chunk) {
        String text = new String(sealer.open(chunk), StandardCharsets.UTF_8);
        List<Item> items = new ArrayList<>();
        if (!text.startsWith(HEADER)) {
            return items;
        }
        for (String line : text.substring(HEADER.length()).split("\n")) {
            String[] f = line.split("\t");
            if (f.length != 4 || !engine.isValidId(f[0])) {
                continue;
            }
            try {
                items.add(new Item(f[0], Long.parseLong(f[1]), Integer.parseInt(f[2]), Long.parseLong(f[3])));
            } catch (NumberFormatException e) {
                // skipped
            }
        }
        return items;
    }

    /**
     * Writes the list to every available node (replacing what is there).
     *
     * @return the nodes that hold it now
     */
    List<String> write(Collection<Item> items, long now) {
        List<byte[]> chunks = encode(items);
        long latestDue = now;
        for (Item i : items) {
            latestDue = Math.max(latestDue, i.due);
        }
        int exp = Expiration.of(Math.max(1, (latestDue - now) / 1000) + KEEP_AFTER_DUE_SECONDS, now);
        SessionStore store = engine.store();
        long timeout = engine.config().operationTimeoutMillis();
        List<String> written = new ArrayList<>();
        for (MemcachedNode n : engine.config().nodes()) {
            if (!engine.isAvailable(n.id())) {
                continue;
            }
            try {
                for (int c = 0; c < chunks.size(); c++) {
                    store.set(n.id(), chunkKey(c), exp, chunks.get(c), timeout);
                }
                store.delete(n.id(), chunkKey(chunks.size()), timeout); // ends a longer list written before
                written.add(n.id());
            } catch (StoreException e) {
                engine.reportStoreFailure(e);
            }
        }
        return written;
    }

    /** Reads the list from the first available node that has it, and deletes it from every available node. */
    List<Item> take() {
        List<Item> items = read();
        if (items != null) {
            delete();
        }
        return items == null ? List.of() : items;
    }

    /** The list as the first available node holding it has it; {@code null} if none does. */
    List<Item> read() {
        SessionStore store = engine.store();
        long timeout = engine.config().operationTimeoutMillis();
        for (MemcachedNode n : engine.config().nodes()) {
            if (!engine.isAvailable(n.id())) {
                continue;
            }
            try {
                byte[] first = store.get(n.id(), chunkKey(0), timeout);
                if (first == null) {
                    continue;
                }
                List<Item> items = new ArrayList<>(decode(first));
                for (int c = 1; c < MAX_CHUNKS; c++) {
                    byte[] chunk = store.get(n.id(), chunkKey(c), timeout);
                    if (chunk == null) {
                        break;
                    }
                    items.addAll(decode(chunk));
                }
                return items;
            } catch (StoreException e) {
                engine.reportStoreFailure(e);
            } catch (RuntimeException e) {
                // not written with one of this manager's keys, or malformed: not ours to use
                return new ArrayList<>();
            }
        }
        return null;
    }

    private void delete() {
        SessionStore store = engine.store();
        long timeout = engine.config().operationTimeoutMillis();
        for (MemcachedNode n : engine.config().nodes()) {
            if (!engine.isAvailable(n.id())) {
                continue;
            }
            try {
                for (int c = 0; c < MAX_CHUNKS && store.delete(n.id(), chunkKey(c), timeout); c++) {
                    // until the first missing chunk
                }
            } catch (StoreException e) {
                engine.reportStoreFailure(e);
            }
        }
    }

    private String chunkKey(int chunk) {
        return engine.keys().unnamed(baseName + ":" + chunk);
    }
}
