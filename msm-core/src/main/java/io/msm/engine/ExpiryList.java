package io.msm.engine;

import io.msm.codec.BlobSealer;
import io.msm.config.MemcachedNode;
import io.msm.config.SessionProtection;
import io.msm.store.Expiration;
import io.msm.store.SessionStore;
import io.msm.store.StoreException;
import io.msm.store.StoredValue;
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
    private static final System.Logger LOG = System.getLogger("io.msm.engine");

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
     * The list as {@link #read()} finds it, with the version of its first chunk there: a stop merges its sessions into
     * it and writes it back only if no other stop wrote it meanwhile (Tomcats without a jvmRoute share the list).
     */
    static final class Read {
        /** {@code null} if no node holds the list. */
        final List<Item> items;
        /** The node it was read from ({@code null} if none holds it). */
        final String node;
        /** The first chunk's CAS there, {@code 0} if unknown. */
        final long cas;

        Read(List<Item> items, String node, long cas) {
            this.items = items;
            this.node = node;
            this.cas = cas;
        }
    }

    /**
     * Writes the list to every available node (replacing what is there), unless another stop wrote it since
     * {@code base} was read: the first available node's first chunk is written only if it is still the version read
     * (or, if none was there, still absent), and before anything else.
     *
     * @return the nodes that hold it now; {@code null} if another stop wrote it since (nothing was written)
     */
    List<String> write(Collection<Item> items, long now, Read base) {
        List<byte[]> chunks = encode(items);
        long latestDue = now;
        for (Item i : items) {
            latestDue = Math.max(latestDue, i.due);
        }
        int exp = Expiration.of(Math.max(1, (latestDue - now) / 1000) + KEEP_AFTER_DUE_SECONDS, now);
        SessionStore store = engine.base().store;
        long timeout = engine.config().operationTimeoutMillis();
        List<String> written = new ArrayList<>();
        boolean first = true;
        for (MemcachedNode n : availableNodes()) {
            try {
                int c = 0;
                if (first) {
                    first = false;
                    long version = base.items == null ? SessionStore.ADD
                            : n.id().equals(base.node) && base.cas != 0 ? base.cas : SessionStore.ANY;
                    long r = store.storeIf(n.id(), chunkKey(0), exp, chunks.get(0), version, timeout);
                    if (r == SessionStore.EXISTS || r == SessionStore.NOT_FOUND) {
                        return null;
                    }
                    c = 1;
                }
                for (; c < chunks.size(); c++) {
                    store.set(n.id(), chunkKey(c), exp, chunks.get(c), timeout);
                }
                store.delete(n.id(), chunkKey(chunks.size()), timeout); // ends a longer list written before
                written.add(n.id());
            } catch (StoreException e) {
                engine.base().reportStoreFailure(e);
            }
        }
        return written;
    }

    /** The configured nodes that are available, each judged when the loop reaches it. */
    private Iterable<MemcachedNode> availableNodes() {
        return () -> engine.base().nodes.current().nodes().stream().filter(n -> engine.base().isAvailable(n.id())).iterator();
    }

    /** Reads the list from the first available node that has it, and deletes it from every available node. */
    List<Item> take() {
        List<Item> items = read().items;
        if (items != null) {
            delete();
        }
        return items == null ? List.of() : items;
    }

    /** The list as the first available node holding it has it ({@link Read#items} {@code null} if none does). */
    Read read() {
        SessionStore store = engine.base().store;
        long timeout = engine.config().operationTimeoutMillis();
        for (MemcachedNode n : availableNodes()) {
            try {
                StoredValue first = store.gets(n.id(), chunkKey(0), timeout);
                if (first.value() == null) {
                    continue;
                }
                List<Item> items = new ArrayList<>(decode(first.value()));
                for (int c = 1; c < MAX_CHUNKS; c++) {
                    byte[] chunk = store.get(n.id(), chunkKey(c), timeout);
                    if (chunk == null) {
                        break;
                    }
                    items.addAll(decode(chunk));
                }
                return new Read(items, n.id(), first.cas());
            } catch (StoreException e) {
                engine.base().reportStoreFailure(e);
            } catch (RuntimeException e) {
                // not written with one of this manager's keys, or malformed: not ours to use (replaced)
                LOG.log(System.Logger.Level.DEBUG, () -> engine.base().logPrefix
                        + "the list of sessions left by the last stop on node " + n.id() + " is not readable with "
                        + "this configuration's keys; replaced: " + e);
                return new Read(new ArrayList<>(), n.id(), 0);
            }
        }
        return new Read(null, null, 0);
    }

    private void delete() {
        SessionStore store = engine.base().store;
        long timeout = engine.config().operationTimeoutMillis();
        for (MemcachedNode n : availableNodes()) {
            try {
                for (int c = 0; c < MAX_CHUNKS && store.delete(n.id(), chunkKey(c), timeout); c++) {
                    // until the first missing chunk
                }
            } catch (StoreException e) {
                engine.base().reportStoreFailure(e);
            }
        }
    }

    private String chunkKey(int chunk) {
        return engine.base().keys.unnamed(baseName + ":" + chunk);
    }
}
