package io.msm.discovery;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Node ids for discovered nodes: the part of a session id that routes it to its node, so it must be the same for the
 * same node in every Tomcat and in every answer, without the Tomcats talking to each other. The id is a function of
 * the node's host name (in lower case) and port only, never of the IP (which changes when ElastiCache replaces a
 * node's machine) or the version. SHA-256 is taken over {@code <host>:<port>} in UTF-8; its first 8 bytes, an unsigned
 * big-endian number, are written in base 62 ({@code 0-9A-Za-z}, which fits msm's {@code [A-Za-z0-9_]+}), least
 * significant digit first, {@link #LENGTH} digits. SHA-256 because it is specified and in every JDK: changing this
 * function would move every session of a discovered cluster, so tests pin its values.
 *
 * <p>Collisions. Eight base-62 digits hold 47 bits; for 1,000 nodes the chance that two of them share an id is about
 * 2 in a billion. Still, should two nodes of one answer share one, the answer's nodes are taken in the order of their
 * keys ({@code <host>:<port>}, lower case, compared as strings) and each takes its first candidate not taken yet:
 * candidate 0 is the hash of the key, candidate {@code k} the hash of {@code <key>#<k>}. The outcome depends only on
 * the answer, so every Tomcat assigns the same ids. The cost, documented rather than hidden: in a collision, the id
 * of the node whose key sorts later depends on the other node being listed, so it changes when that node joins or
 * leaves, and the sessions that carry its old id no longer route to it.
 */
public final class NodeIds {
    /** Characters of an id; short, as ids travel in every session cookie. */
    public static final int LENGTH = 8;
    private static final char[] DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    /** Candidates tried per node before giving up (only reachable with ids far shorter than {@link #LENGTH}). */
    static final int MAX_CANDIDATES = 64;

    private NodeIds() {
    }

    /** Whether {@code id} could be one of these ids: {@link #LENGTH} characters of {@code [0-9A-Za-z]}. */
    public static boolean isShaped(String id) {
        if (id.length() != LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) {
                return false;
            }
        }
        return true;
    }

    /**
     * The ids of {@code nodes} (one answer's, no node twice), each distinct and {@link #LENGTH} characters of
     * {@code [0-9A-Za-z]}.
     *
     * @return id to node, in the order of {@code nodes}; unmodifiable
     */
    public static Map<String, DiscoveredNode> assign(List<DiscoveredNode> nodes) {
        return assign(nodes, LENGTH);
    }

    /** {@link #assign(List)} with ids of {@code length} characters (short ones make collisions for tests). */
    static Map<String, DiscoveredNode> assign(List<DiscoveredNode> nodes, int length) {
        if (length < 1 || length > 10) { // 10 base-62 digits use up the 64 bits candidate() takes
            throw new IllegalArgumentException("id length " + length + " is not in 1..10");
        }
        List<DiscoveredNode> byKey = new ArrayList<>(nodes);
        byKey.sort(Comparator.comparing(DiscoveredNode::key));
        Map<DiscoveredNode, String> ids = new LinkedHashMap<>();
        Set<String> taken = new HashSet<>();
        for (int i = 0; i < byKey.size(); i++) {
            DiscoveredNode n = byKey.get(i);
            if (i > 0 && byKey.get(i - 1).key().equals(n.key())) {
                throw new IllegalArgumentException("node " + n.key() + " is listed twice");
            }
            ids.put(n, firstFree(n.key(), length, taken));
        }
        Map<String, DiscoveredNode> inOrder = new LinkedHashMap<>();
        for (DiscoveredNode n : nodes) {
            inOrder.put(ids.get(n), n);
        }
        return Collections.unmodifiableMap(inOrder);
    }

    private static String firstFree(String key, int length, Set<String> taken) {
        for (int k = 0; k < MAX_CANDIDATES; k++) {
            String id = candidate(key, k, length);
            if (taken.add(id)) {
                return id;
            }
        }
        throw new IllegalStateException("no free id of " + length + " characters for node " + key + " among "
                + MAX_CANDIDATES + " candidates (" + taken.size() + " ids taken)");
    }

    /** Candidate {@code k} of the node with {@code key}: base 62 of the first bytes of SHA-256. */
    static String candidate(String key, int k, int length) {
        byte[] hash = sha256((k == 0 ? key : key + "#" + k).getBytes(StandardCharsets.UTF_8));
        // 8 bytes = 64 bits, enough for 10 base-62 digits; an id takes the low-order digits of this number
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (hash[i] & 0xFF);
        }
        char[] id = new char[length];
        for (int i = 0; i < length; i++) {
            id[i] = DIGITS[(int) Long.remainderUnsigned(v, 62)];
            v = Long.divideUnsigned(v, 62);
        }
        return new String(id);
    }

    private static byte[] sha256(byte[] input) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(input);
        } catch (NoSuchAlgorithmException e) { // every JDK has SHA-256 (required by the Java SE spec)
            throw new IllegalStateException(e);
        }
    }
}
