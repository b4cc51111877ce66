package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ObjectStreamConstants;
import org.junit.jupiter.api.Test;

/** The stream walk's own memory: never more than what ObjectInputStream, with msm's limits, would hold. */
class JavaStreamScanBoundsTest {

    /** A stream of {@code strings} empty strings (three bytes each, one handle each). */
    private static byte[] emptyStrings(int strings) {
        byte[] b = new byte[4 + 3 * strings];
        b[0] = (byte) 0xAC;
        b[1] = (byte) 0xED;
        b[3] = ObjectStreamConstants.STREAM_VERSION;
        for (int i = 0; i < strings; i++) {
            b[4 + 3 * i] = ObjectStreamConstants.TC_STRING;
        }
        return b;
    }

    /**
     * msm's filter says maxrefs=1000000, but ObjectInputStream checks it only when it next reads a class, an object
     * or an array: a stream of nothing but strings is read whole (3,000,000 of them with that filter), one handle
     * each, and the walk before it kept a table entry per handle too. A 32 MB (inflated) blob of empty strings is 11
     * million handles: some 200 MB of tables for the walk, more for ObjectInputStream. The walk refuses a stream past
     * 1,000,000 handles, so neither gets there.
     */
    @Test
    void moreHandlesThanJavaSerializationReadsAreRefusedBeforeTheyAreAllKept() {
        assertEquals(1, JavaStreamScan.scan(emptyStrings(1_000_000), 0, 3_000_004, new HashWork(0)));
        byte[] tooMany = emptyStrings(1_000_001);
        RefusedInputException e = assertThrows(RefusedInputException.class,
                () -> JavaStreamScan.scan(tooMany, 0, tooMany.length, new HashWork(0)));
        assertEquals(true, e.getMessage().contains("1000000"), e.getMessage());
    }
}
