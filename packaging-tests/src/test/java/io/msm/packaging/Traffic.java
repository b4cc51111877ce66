package io.msm.packaging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * GracefulStopIT's users, each requesting its cart through a balancer in a thread of its own, one request after the
 * other (and {@link #PACE}), until closed. Bounded: {@link #MAX_REQUESTS_PER_USER} requests per user and
 * {@link #MAX_TIME}. An answer that is not the user's cart with its counter one more is kept, with the phases it was
 * sent and answered in; the user goes on (its next answer is checked against its last good one).
 */
final class Traffic implements AutoCloseable {
    /** Each user's pause between two requests (keeps the 2-core build machines able to start a Tomcat meanwhile). */
    private static final Duration PACE = Duration.ofMillis(5);
    /**
     * Bounds of the traffic: the whole time, and requests per user, as many as the time allows at {@link #PACE} (so on
     * a faster machine the time bound, not the count, ends a run that takes too long).
     */
    private static final Duration MAX_TIME = Duration.ofSeconds(120);
    private static final int MAX_REQUESTS_PER_USER = (int) (MAX_TIME.toMillis() / PACE.toMillis());

    final Balancer balancer;
    private final long deadline = System.nanoTime() + MAX_TIME.toNanos();
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, Integer> answersBy = new HashMap<>(); // guarded by this
    /** Answers by Tomcat and the phase they came in, e.g. "tc1 in 'tc1 stopping'". */
    private final Map<String, Integer> answersIn = new HashMap<>(); // guarded by this
    private final List<String> bad = new ArrayList<>(); // guarded by this
    /** The bad answers' count by kind and the phase they came in, e.g. "HTTP 404 in 'tc1 stopping'". */
    private final Map<String, Integer> badKinds = new TreeMap<>(); // guarded by this
    /** A bound of the traffic that ran out (time or count), per user: a harness failure, not an answer. */
    final List<String> bounds = new ArrayList<>(); // guarded by this
    private int answers; // guarded by this
    /** Users whose loop has ended (a bound ran out, or closed). */
    private int ended; // guarded by this
    private volatile boolean stopRequested;
    private volatile String phase = "start";

    Traffic(List<ShopUser> users, Balancer balancer) {
        this.balancer = balancer;
        for (ShopUser u : users) {
            Thread t = new Thread(() -> run(u), "graceful-stop-" + u.name);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void run(ShopUser user) {
        try {
            requests(user);
        } finally {
            synchronized (this) {
                ended++;
                notifyAll();
            }
        }
    }

    private void requests(ShopUser user) {
        for (int request = 1; request <= MAX_REQUESTS_PER_USER && !stopRequested; request++) {
            String sent = phase;
            if (System.nanoTime() > deadline) {
                bound(user.name + ": the time bound ran out in phase '" + sent + "'");
                return;
            }
            try {
                answer(user, "request " + request);
                Thread.sleep(PACE.toMillis()); // pacing of a loop bounded by count and time
            } catch (InterruptedException e) {
                return;
            }
        }
        if (!stopRequested) {
            bound(user.name + ": the count bound ran out in phase '" + phase + "'");
        }
    }

    /** One request of {@code user}'s: its answer counted, or kept as a bad one with the phase it was sent in. */
    void answer(ShopUser user, String request) throws InterruptedException {
        String sent = phase;
        String problem = user.next();
        if (problem == null) {
            answered(user.tomcat());
        } else {
            String text = problem.replaceAll("<[^>]*>", " ").replaceAll("\\s+", " ");
            bad(kind(problem), user.name + ", " + request + ", sent in phase '" + sent + "': "
                    + text.substring(0, Math.min(300, text.length())));
        }
    }

    private synchronized void bound(String what) {
        bounds.add(what);
    }

    synchronized boolean boundsHeld() {
        return bounds.isEmpty();
    }

    /** "HTTP 404", or the first word of {@link ShopUser#next()}'s other problems ("request" failed, "count"). */
    private static String kind(String problem) {
        return problem.startsWith("HTTP ") ? problem.substring(0, "HTTP 404".length()) : problem.split(" ", 2)[0];
    }

    private synchronized void answered(String tomcat) {
        answers++;
        answersBy.merge(tomcat, 1, Integer::sum);
        answersIn.merge(tomcat + " in '" + phase + "'", 1, Integer::sum);
        notifyAll();
    }

    /** The answers (by Tomcat) and bad answers (by kind) of {@code phase}. */
    synchronized String answersIn(String phase) {
        return "answered by " + inPhase(answersIn, phase) + ", bad " + inPhase(badKinds, phase);
    }

    private static Map<String, Integer> inPhase(Map<String, Integer> counts, String phase) {
        Map<String, Integer> in = new TreeMap<>();
        counts.forEach((k, v) -> {
            if (k.endsWith(" in '" + phase + "'")) {
                in.put(k.substring(0, k.length() - (" in '" + phase + "'").length()), v);
            }
        });
        return in;
    }

    /** Answers {@code tomcat} gave during the phase "{@code tomcat} stopping" (its stop had begun). */
    synchronized int answersFrom(String tomcat) {
        return answersIn.getOrDefault(tomcat + " in '" + tomcat + " stopping'", 0);
    }

    private synchronized void bad(String kind, String what) {
        bad.add(what);
        badKinds.merge(kind + " in '" + phase + "'", 1, Integer::sum);
    }

    /** Names the phase the next requests belong to (for the failure message). */
    void phase(String name) {
        phase = name;
    }

    /** Waits (60 s at most) until {@code tomcat} has given {@code more} further answers. */
    synchronized void awaitAnswers(String tomcat, int more) throws InterruptedException {
        int target = answersBy.getOrDefault(tomcat, 0) + more;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (answersBy.getOrDefault(tomcat, 0) < target) {
            long left = end - System.nanoTime();
            if (ended == threads.size()) {
                throw new AssertionError("every user stopped before " + tomcat + " gave " + more + " answers in"
                        + " phase '" + phase + "': " + bounds);
            }
            if (left <= 0) {
                throw new AssertionError(tomcat + " gave no " + more + " answers within 60 s in phase '" + phase
                        + "': " + answersBy + ", bad answers " + badKinds + "\n" + balancer.log());
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    synchronized int requests() {
        return answers + bad.size();
    }

    synchronized String badKinds() {
        return badKinds.toString();
    }

    synchronized List<String> badAnswers() {
        return new ArrayList<>(bad);
    }

    @Override
    public void close() {
        stopRequested = true;
        try {
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(40));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
