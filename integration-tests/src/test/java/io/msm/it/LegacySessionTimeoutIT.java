package io.msm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.anchor.AnchorBlob;
import org.junit.jupiter.api.Test;

/**
 * {@code legacySessions="readWrite"} against memcached-session-manager 2.3.2 over time (a timeout of real seconds):
 * serializer-independent (the old format is Java serialization whatever msm's serializer), so it runs in the Java
 * run of the suite only.
 */
class LegacySessionTimeoutIT extends MsmIT {
    /**
     * readWrite, non-sticky: a session msm stored, then used only on old Tomcats for a while (reads: the old manager
     * then writes only its validity record, and rewrites its blob once a timeout passed since the last write, which
     * is why it gives the blob twice the timeout). It lives as long as those accesses say: msm neither lets
     * memcached drop the blob a timeout after msm's last write, nor ends it from its timeout watch.
     */
    @Test
    void aSessionMsmStoredAndReadOnlyOnOldTomcatsSinceLivesAsLongAsTheirAccessesSay() throws InterruptedException {
        EmbeddedTomcat old = track(EmbeddedTomcat.on("tc1").manager(LegacySessionsIT.OLD_MANAGER).with("memcachedNodes", nodes())
                .with("sticky", "false").with("sessionBackupAsync", "false").start());
        EmbeddedTomcat msm = tomcat("tc2", "sticky", "false", "legacySessions", "readWrite", "maxInactiveInterval",
                "10");
        Browser b = new Browser();
        assertEquals(1, b.get(msm.url("/counter")).count());
        assertEquals(2, b.get(old.url("/counter")).count(), "the old manager takes the session as its own");
        long start = System.nanoTime();
        assertEquals(3, b.get(msm.url("/counter")).count(), "msm writes it last");
        String id = b.sessionId();
        awaitBackups(msm);
        long written = lastBackupTime(id);
        Thread.sleep(Math.max(0, 6_000 - (System.nanoTime() - start) / 1_000_000)); // time passing, not a race
        assertEquals("3", b.get(old.url("/read")).field("count"), "6 s after msm's write, on the old Tomcat");
        long read = System.nanoTime();
        assertEquals(id, b.sessionId());
        assertEquals(written, lastBackupTime(id), "the old manager only dated the access");
        Thread.sleep(8_000); // 14 s after msm's write, 8 s after the last access: within the 10 s timeout
        assertTrue(System.nanoTime() - read < 9_500_000_000L, "the test ran too slowly to show anything");
        assertEquals("3", b.get(old.url("/read")).field("count"), "idle 8 s of 10, on the old Tomcat");
        assertEquals("3", b.get(msm.url("/read")).field("count"), "and on msm");
    }

    private static long lastBackupTime(String id) {
        byte[] blob = server(nodeOf(id)).get(id);
        assertNotNull(blob, "stored");
        return java.nio.ByteBuffer.wrap(blob).getLong(AnchorBlob.LAST_BACKUP_TIME_OFFSET);
    }
}
