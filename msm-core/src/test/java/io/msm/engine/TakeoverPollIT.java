package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.config.MsmConfig;
import io.msm.test.memcached.MemcachedExtension;
import io.msm.testing.TestTranscoderFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The background read of a sticky Tomcat's takeover notices: four times a second per node while it holds sessions
 * (the notices name sessions to drop), seldom while it holds none (a webapp nobody uses, such as Tomcat's docs under
 * a global context.xml). Counted by memcached's gets of the list's key prefix.
 */
class TakeoverPollIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(1);

    /** A window of real time: what is counted is a rate (the reads come every 250 ms, or every 2.5 s while idle). */
    private static final long WINDOW_MILLIS = 2000;

    @Test
    void aTomcatHoldingNoSessionReadsItsNoticesSeldomAndOneHoldingSessionsFourTimesASecond() throws Exception {
        List<ManagedSession> held = new CopyOnWriteArrayList<>();
        MsmConfig sticky = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, MEMCACHED.nodesAttribute("n1"))
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(getClass().getClassLoader());
        try (SessionEngine e = SessionEngine.start(sticky, new EngineContext("/poll", getClass().getClassLoader(),
                "tc1", "poll_", System::currentTimeMillis, () -> held))) {
            long idle = readsIn(WINDOW_MILLIS);
            assertTrue(idle <= 1, idle + " reads in " + WINDOW_MILLIS + " ms while no session is held");

            TestSession s = new TestSession(e.newSessionId(String.format("%032X", 7)), System.currentTimeMillis());
            held.add(s);
            e.created(s);
            long holding = readsIn(WINDOW_MILLIS);
            assertTrue(holding >= 3, holding + " reads in " + WINDOW_MILLIS + " ms while a session is held");
        }
    }

    /** A container that fails to say whether it holds a session does not stop the reads (they are read then). */
    @Test
    void aContainerThatFailsToSayWhetherItHoldsASessionDoesNotStopTheReads() throws Exception {
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        MsmConfig sticky = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, MEMCACHED.nodesAttribute("n1"))
                .set(MsmConfig.TRANSCODER_FACTORY_CLASS, TestTranscoderFactory.class.getName())
                .build(getClass().getClassLoader());
        try (SessionEngine e = SessionEngine.start(sticky, new EngineContext("/poll-failing",
                getClass().getClassLoader(), "tc1", "pollf_", System::currentTimeMillis, List::of).holdsAny(() -> {
                    if (asked.incrementAndGet() == 1) {
                        throw new IllegalStateException("the container's map is being replaced");
                    }
                    return true;
                }))) {
            assertTrue(e.nodes().size() == 1);
            long before = MEMCACHED.server(0).prefixGets("pollf_msm");
            Thread.sleep(WINDOW_MILLIS);
            long reads = MEMCACHED.server(0).prefixGets("pollf_msm") - before;
            assertTrue(reads >= 3, reads + " reads in " + WINDOW_MILLIS + " ms after the container failed once");
        }
    }

    private static long readsIn(long millis) throws InterruptedException {
        long before = MEMCACHED.server(0).prefixGets("poll_msm");
        Thread.sleep(millis);
        return MEMCACHED.server(0).prefixGets("poll_msm") - before;
    }
}
