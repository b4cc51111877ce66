package io.msm.store;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import net.spy.memcached.ops.OperationCallback;
import net.spy.memcached.ops.OperationState;
import net.spy.memcached.ops.OperationStatus;
import net.spy.memcached.protocol.BaseOperationImpl;

/**
 * memcached's meta get, {@code mg <key> v t c} (memcached 1.6+, text protocol): the value, the item's remaining
 * time to live and its CAS in one round trip; with a new expiration, {@code mg <key> v t T<exp>}, also a touch (memcached handles
 * the flags in order, so {@code t} still reports the time the item had left before {@code T} set the new one).
 * spymemcached predates meta commands; this operation speaks it on spymemcached's connection.
 *
 * <p>Answers: {@code VA <size> t<ttl> c<cas>\r\n<data>\r\n} (hit; {@code t-1}: never expires), {@code EN\r\n} (miss), or an
 * error line ({@code ERROR} when the server does not know meta commands).
 */
final class MetaGetOperation extends BaseOperationImpl {
    private final String key;
    private final int refreshExp;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(32);
    private byte[] data;
    private int dataRead;
    private int ttl = StoredValue.UNKNOWN_TTL;
    private long cas;
    private StoredValue result;
    private String error;

    /** @param refreshExp the new expiration, or {@link SessionStore#KEEP_EXPIRATION} */
    MetaGetOperation(String key, int refreshExp, CompletableFuture<StoredValue> future) {
        this.key = key;
        this.refreshExp = refreshExp;
        setCallback(new OperationCallback() {
            @Override
            public void receivedStatus(OperationStatus status) {
                if (!status.isSuccess() && error == null) {
                    error = status.getMessage();
                }
            }

            @Override
            public void complete() {
                if (result != null) {
                    future.complete(result);
                } else if (isCancelled()) {
                    future.completeExceptionally(new CancellationException("Cancelled"));
                } else {
                    future.completeExceptionally(new MetaCommandException(error == null ? "no answer" : error));
                }
            }
        });
    }

    /** memcached refused the command (e.g. {@code ERROR}: meta commands unknown before 1.6). */
    static final class MetaCommandException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MetaCommandException(String message) {
            super(message);
        }
    }

    @Override
    public void initialize() {
        setBuffer(ByteBuffer.wrap(command(key, refreshExp).getBytes(StandardCharsets.UTF_8))); // keys as spymemcached sends them
    }

    /**
     * The command line, CRLF included: {@code t} before {@code T}, so the time left is the one before the refresh;
     * {@code c} asks for the item's CAS.
     */
    static String command(String key, int refreshExp) {
        String touch = refreshExp == SessionStore.KEEP_EXPIRATION ? "" : " T" + refreshExp;
        return "mg " + key + " v t c" + touch + "\r\n";
    }

    /**
     * The size, the TTL ({@link StoredValue#UNKNOWN_TTL} if absent) and the CAS ({@code 0} if absent) of a hit's
     * header {@code VA <size> t<ttl> c<cas>}; {@code null} if the line is malformed.
     */
    static long[] parseHit(String h) {
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

    @Override
    public void readFromBuffer(ByteBuffer b) {
        while (b.hasRemaining() && getState() == OperationState.READING) {
            if (data == null) {
                byte c = b.get();
                if (c == '\n') {
                    header(new String(line.toByteArray(), StandardCharsets.US_ASCII).trim());
                    line.reset();
                } else {
                    line.write(c);
                }
            } else {
                int n = Math.min(b.remaining(), data.length + 2 - dataRead);
                for (int i = 0; i < n; i++) {
                    byte c = b.get();
                    if (dataRead < data.length) {
                        data[dataRead] = c;
                    }
                    dataRead++;
                }
                if (dataRead == data.length + 2) { // the data and its \r\n
                    result = new StoredValue(data, ttl, refreshExp != SessionStore.KEEP_EXPIRATION, cas);
                    transitionState(OperationState.COMPLETE);
                }
            }
        }
    }

    private void header(String h) {
        if (h.equals("EN")) {
            result = new StoredValue(null, StoredValue.UNKNOWN_TTL);
            transitionState(OperationState.COMPLETE);
            return;
        }
        if (h.startsWith("VA ")) {
            long[] hit = parseHit(h);
            if (hit != null) {
                data = new byte[(int) hit[0]];
                dataRead = 0;
                ttl = (int) hit[1];
                cas = hit[2];
                return;
            }
            error = "malformed answer " + h;
        } else {
            error = "memcached answered " + h;
        }
        getCallback().receivedStatus(new OperationStatus(false, error));
        transitionState(OperationState.COMPLETE);
    }

    @Override
    public byte[] getErrorMsg() {
        return error == null ? null : error.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return refreshExp == SessionStore.KEEP_EXPIRATION ? "mg " + key : "mg " + key + " T" + refreshExp;
    }
}
