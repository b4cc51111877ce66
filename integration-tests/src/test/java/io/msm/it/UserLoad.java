package io.msm.it;

import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A few users clicking on {@code /counter} without pause on one thread, each count checked against the last one
 * (a lost session starts again at 1): the load under which nodes change. Bounded in requests and in time; every
 * failure (a wrong count, an error status, an exception) is recorded, none thrown.
 */
final class UserLoad {
    static final int MAX_REQUESTS = 50_000;
    static final long MAX_MILLIS = 120_000;

    final List<String> failures = new CopyOnWriteArrayList<>();
    final AtomicInteger requests = new AtomicInteger();
    private final List<Browser> users = new ArrayList<>();
    private final int[] counts;
    private final IntFunction<EmbeddedTomcat> tomcatOfRequest;
    private final Thread thread;
    private volatile boolean stopped;

    /** @param tomcatOfRequest the Tomcat of the n-th request of a user (alternating for non-sticky) */
    UserLoad(int userCount, IntFunction<EmbeddedTomcat> tomcatOfRequest) {
        for (int i = 0; i < userCount; i++) {
            users.add(new Browser());
        }
        this.counts = new int[userCount];
        this.tomcatOfRequest = tomcatOfRequest;
        this.thread = new Thread(this::run, "user-load");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long end = System.nanoTime() + MAX_MILLIS * 1_000_000;
        while (!stopped && requests.get() < MAX_REQUESTS && System.nanoTime() < end) {
            for (int i = 0; i < users.size() && !stopped; i++) {
                EmbeddedTomcat tc = tomcatOfRequest.apply(counts[i] + i);
                String nodeBefore = nodeOf(users.get(i).sessionId());
                try {
                    Browser.Page p = users.get(i).get(tc.url("/counter"));
                    requests.incrementAndGet();
                    if (p.status != 200 || p.count() != counts[i] + 1) {
                        failures.add(LocalTime.now() + " user " + i + " on " + tc.route() + ": status " + p.status
                                + ", count " + (p.status == 200 ? p.count() : -1) + " after " + counts[i] + " (node "
                                + nodeBefore + " -> " + nodeOf(users.get(i).sessionId()) + ")");
                        counts[i] = p.status == 200 ? p.count() : counts[i];
                    } else {
                        counts[i]++;
                    }
                } catch (RuntimeException e) {
                    failures.add(LocalTime.now() + " user " + i + " on " + tc.route() + " (node " + nodeBefore + "): "
                            + e);
                }
            }
        }
    }

    /** The node of a session id for a failure's message (not the whole id), or "none". */
    private static String nodeOf(String sessionId) {
        return sessionId == null ? "none" : MsmIT.nodeOf(sessionId);
    }

    /** The users' session ids now (read between requests of the load thread: a snapshot). */
    List<String> sessionIds() {
        List<String> ids = new ArrayList<>();
        for (Browser b : users) {
            ids.add(b.sessionId());
        }
        return ids;
    }

    /** Waits until {@code more} requests more were made (bounded: fails after 30 s). */
    void awaitRequests(int more) throws InterruptedException {
        int target = requests.get() + more;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (requests.get() < target) {
            if (System.nanoTime() > deadline || !thread.isAlive()) {
                throw new AssertionError("the load made " + requests.get() + " of " + target + " requests");
            }
            Thread.sleep(10);
        }
    }

    /** Stops the load and waits for its last request (idempotent). */
    void stop() throws InterruptedException {
        stopped = true;
        thread.join(30_000);
    }
}
