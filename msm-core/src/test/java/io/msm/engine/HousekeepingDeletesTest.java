package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.msm.test.Await.await;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The housekeeping's retries of waiting deletes ({@link WaitingDeletes#retryWhereAvailable}) run on a backup thread:
 * the scheduled thread runs the probes of suspect nodes and must not wait for a slow node's answers (an
 * operationTimeout per retry).
 */
class HousekeepingDeletesTest {
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF-n1";
    private static final String BAK = SessionEngine.BAK_PREFIX + "p_" + ID;
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    /** Opened at the end of each test: the retries it held go on. */
    private final CountDownLatch gate = new CountDownLatch(1);
    private FakeStore store;
    private SessionEngine engine;

    @BeforeEach
    void start() {
        FakeEngine started = FakeEngine.nonSticky(clock::get);
        engine = started.engine;
        store = started.store;
    }

    @AfterEach
    void close() {
        gate.countDown();
        engine.close();
    }

    /**
     * The delete of S's secondary copy fails at the logout without a timeout (n2 stays available), so the
     * housekeeping retries it; n2 holds that retry's answer. The scheduled thread still runs its next task.
     */
    @Test
    void aRetryHeldByItsNodeDoesNotHoldTheScheduledThread() throws Exception {
        TestSession s = new TestSession(ID, clock.get());
        engine.created(s);
        engine.requestStarted(s);
        s.set("user", "alice");
        engine.requestEnded(s);
        assertTrue(engine.awaitIdle(5000));
        assertNotNull(store.peek("n2", BAK), "its secondary copy");
        HeldDelete retry = store.holdDelete("n2/" + BAK, 2, gate); // the logout's own one fails
        store.failOnce.add("n2/" + BAK);
        s.active = false;
        engine.expired(s);
        assertEquals(1, engine.pendingSecondaryDeletes(), "the delete failed: it waits");

        assertTrue(retry.held.await(5, TimeUnit.SECONDS), "the housekeeping retried it, held by n2");
        CountDownLatch ran = new CountDownLatch(1);
        engine.base().threads.prober().execute(ran::countDown);
        assertTrue(ran.await(2, TimeUnit.SECONDS), "the scheduled thread waits for the retry's answer");
        gate.countDown();
        await("the copy deleted", () -> store.peek("n2", BAK) == null && engine.pendingSecondaryDeletes() == 0);
        assertEquals(2, retry.attempts.get(), "one retry");
    }

    /** A housekeeping's retries do not start while the last ones still run (a node holding their answers). */
    @Test
    void oneRunOfRetriesAtATime() throws Exception {
        WaitingDeletes deletes = new WaitingDeletes(engine.base());
        String held = "n2/" + BAK;
        HeldDelete retry = store.holdDelete(held, 2, gate); // the delete's own one fails
        store.failOnce.add(held);
        deletes.delete("n2", ID, 0, clock.get() + 60_000);
        assertEquals(1, deletes.size(), "failed without a timeout: waits, n2 available");

        assertTrue(deletes.retryInBackground());
        assertTrue(retry.held.await(5, TimeUnit.SECONDS), "the retry runs, held by n2");
        assertFalse(deletes.retryInBackground(), "a second run while the first is held");
        gate.countDown();
        await("the held retry made", () -> deletes.size() == 0);
        assertTrue(engine.awaitIdle(5000), "the run ended");

        String other = "FEDCBA9876543210FEDCBA9876543210-n1";
        store.failOnce.add("n2/" + SessionEngine.BAK_PREFIX + "p_" + other);
        deletes.delete("n2", other, 0, clock.get() + 60_000);
        assertTrue(deletes.retryInBackground(), "the next run starts once the last one ended");
        await("the next retry made", () -> deletes.size() == 0);
        assertEquals(2, retry.attempts.get(), "the first delete retried once");
    }

    /**
     * A node's recovery retries its waiting deletes while a housekeeping's run is making one of them (held by the
     * node): it is made once, not twice (one delete, one count in msmDeletes).
     */
    @Test
    void aRecoveryRetryDoesNotMakeADeleteTheHousekeepingIsMaking() throws Exception {
        WaitingDeletes deletes = new WaitingDeletes(engine.base());
        String held = "n2/" + BAK;
        HeldDelete retry = store.holdDelete(held, 2, gate); // the first retry; the delete's own one fails
        store.failOnce.add(held);
        deletes.delete("n2", ID, 0, clock.get() + 60_000);
        assertEquals(1, deletes.size(), "failed without a timeout: waits, n2 available");
        assertTrue(deletes.retryInBackground());
        assertTrue(retry.held.await(5, TimeUnit.SECONDS), "the housekeeping's retry runs, held by n2");
        long counted = engine.statistics().get(io.msm.stats.MsmStatistics.Counter.DELETES);

        deletes.retry("n2"); // n2's recovery, as reported by its connection
        assertEquals(2, retry.attempts.get(), "the delete the housekeeping is making was made again");
        gate.countDown();
        await("the held retry made", () -> deletes.size() == 0);
        assertTrue(engine.awaitIdle(5000), "the run ended");
        assertEquals(counted + 1, engine.statistics().get(io.msm.stats.MsmStatistics.Counter.DELETES));
    }
}
