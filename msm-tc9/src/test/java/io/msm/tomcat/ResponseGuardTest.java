package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ResponseGuardTest {

    @Test
    void theWidthOfEachCharsetIsItsOwnWhicheverCameBefore() {
        assertEquals(3, ResponseGuard.maxBytesPerChar("UTF-8"));
        assertEquals(3, ResponseGuard.maxBytesPerChar("UTF-8"));
        assertEquals(1, ResponseGuard.maxBytesPerChar("ISO-8859-1"));
        assertEquals(4, ResponseGuard.maxBytesPerChar("no-such-charset"), "a name Java does not know: the most");
        assertEquals(4, ResponseGuard.maxBytesPerChar(null));
        assertEquals(1, ResponseGuard.maxBytesPerChar("ISO-8859-1"));
        assertEquals(3, ResponseGuard.maxBytesPerChar("utf-8"));
        assertEquals(4, ResponseGuard.maxBytesPerChar(""), "an empty name");
        assertEquals(3, ResponseGuard.maxBytesPerChar("UTF-8"));
    }
}
