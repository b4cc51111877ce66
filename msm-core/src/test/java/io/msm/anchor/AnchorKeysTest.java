package io.msm.anchor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link AnchorKeys} against the examples of memcached-session-manager's own StorageKeyFormat documentation. */
class AnchorKeysTest {
    @Test
    void prefixesAsTheOldManagerBuiltThem() {
        assertEquals("x_foo", AnchorKeys.of("static:x", "hst", "ctxt", "001").session("foo"));
        assertEquals("hst:ctxt_foo", AnchorKeys.of("host,context", "hst", "ctxt", "001").session("foo"));
        assertEquals("001_foo", AnchorKeys.of("webappVersion", "hst", "ctxt", "001").session("foo"));
        assertEquals("e93c085e:45e6345f:001_foo",
                AnchorKeys.of("host.hash,context.hash,webappVersion", "hst", "ctxt", "001").session("foo"));
    }

    @Test
    void theDefaultAddsNothingForAnUnversionedWebapp() {
        AnchorKeys k = AnchorKeys.of(null, "localhost", "", "");
        assertEquals("", k.prefix());
        assertEquals("ABC-n1.tc1", k.session("ABC-n1.tc1"));
        assertEquals("validity:ABC-n1", k.validity("ABC-n1"));
        assertEquals("bak:ABC-n1", k.backup("ABC-n1"));
        assertEquals("bak:validity:ABC-n1", k.backupValidity("ABC-n1"));
        assertEquals("lock:ABC-n1", k.lock("ABC-n1"));
    }

    @Test
    void theBackupValidityKeyCarriesThePrefixTwice() {
        AnchorKeys k = AnchorKeys.of("static:x,context", "localhost", "/shop", "");
        assertEquals("x:/shop_", k.prefix());
        assertEquals("bak:x:/shop_validity:x:/shop_ID", k.backupValidity("ID"));
    }

    @Test
    void blankValuesAreSkippedAndUnknownTokensRefused() {
        assertEquals("localhost_", AnchorKeys.of("host,context,webappVersion", "localhost", "", "").prefix());
        assertThrows(IllegalArgumentException.class, () -> AnchorKeys.of("hostname", "h", "", ""));
        assertThrows(IllegalArgumentException.class, () -> AnchorKeys.of("host, context", "h", "", ""));
        assertThrows(IllegalArgumentException.class, () -> AnchorKeys.of("static:a:b", "h", "", ""));
    }
}
