package io.msm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MemcachedKeysTest {

    @Test
    void aKeyIsAtMost250BytesOfUtf8WithoutSpaceOrControlCharacter() {
        assertTrue(MemcachedKeys.isSendable("p_ABC-n1.tc1"));
        assertTrue(MemcachedKeys.isSendable("caf\u00e9_ABC-n1"));
        assertTrue(MemcachedKeys.isSendable("\u010a\u0120")); // low bytes are a line feed and a space, not in UTF-8
        assertTrue(MemcachedKeys.isSendable("x".repeat(250)));
        assertFalse(MemcachedKeys.isSendable("x".repeat(251)));
        assertTrue(MemcachedKeys.isSendable("\u00e9".repeat(125)), "250 bytes");
        assertFalse(MemcachedKeys.isSendable("\u00e9".repeat(126)), "126 characters, 252 bytes");
        assertFalse(MemcachedKeys.isSendable(""));
        for (String bad : new String[] {"a b", "a\nb", "a\rb", "a\tb", "a\u0000b", "a\u007fb", "a\u0085b"}) {
            assertFalse(MemcachedKeys.isSendable(bad), bad);
        }
        assertFalse(MemcachedKeys.isSendable("a\ud800b"), "a lone surrogate has no UTF-8 form");
        for (char c = 0; c < 0x100; c++) { // every character of the first 256 alone, as the JDK classes it
            assertEquals(c != ' ' && !Character.isISOControl(c), MemcachedKeys.isSendable("k" + c), "U+" + (int) c);
        }
        assertTrue(MemcachedKeys.isSendable("a\ud83d\ude00b"), "a pair has one");
    }
}
