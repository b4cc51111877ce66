package io.msm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SessionIdFormatTest {
    private final SessionIdFormat withNodes = new SessionIdFormat(true, null);

    @Test
    void formatsAndParses() {
        String id = withNodes.format("9A1FC3", "n1", "tc1");
        assertEquals("9A1FC3-n1.tc1", id);
        SessionIdFormat.SessionId p = withNodes.parse(id);
        assertEquals("9A1FC3", p.random());
        assertEquals("n1", p.nodeId());
        assertEquals("tc1", p.jvmRoute());
        assertEquals("9A1FC3-n_2", withNodes.format("9A1FC3", "n_2", null));
        assertNull(withNodes.parse("9A1FC3-n_2").jvmRoute());
    }

    @Test
    void routesMayHoldDotsAndDashes() {
        SessionIdFormat.SessionId p = withNodes.parse("ABC-n1.tc-1.eu");
        assertEquals("n1", p.nodeId());
        assertEquals("tc-1.eu", p.jvmRoute());
        assertEquals("ABC-n2.tc-1.eu", withNodes.withNodeId(p, "n2"));
        assertEquals("ABC-n1.tc2", withNodes.withJvmRoute(p, "tc2"));
    }

    @Test
    void refusesWhatIsNotAnMsmId() {
        assertNull(withNodes.parse(null));
        assertNull(withNodes.parse(""));
        assertNull(withNodes.parse("ABC"));
        assertNull(withNodes.parse("ABC.tc1"));
        assertNull(withNodes.parse("-n1"));
        assertNull(withNodes.parse("ABC-"));
        assertNull(withNodes.parse("AB C-n1"));
        assertNull(withNodes.parse("ABC-n1.tc 1"));
        assertNull(withNodes.parse("ABC-n1."));
        assertNull(withNodes.parse("ABC-n-1")); // random part may not hold '-'
        assertNull(withNodes.parse("A".repeat(SessionIdFormat.MAX_LENGTH) + "-n1"));
    }

    @Test
    void theJvmRouteIsComparedInPlace() {
        assertTrue(withNodes.parse("ABC-n1.tc1").hasJvmRoute("tc1"));
        assertFalse(withNodes.parse("ABC-n1.tc1").hasJvmRoute("tc2"));
        assertFalse(withNodes.parse("ABC-n1.tc1").hasJvmRoute("tc"));
        assertFalse(withNodes.parse("ABC-n1.tc1").hasJvmRoute("tc10"));
        assertFalse(withNodes.parse("ABC-n1.tc1").hasJvmRoute(null));
        assertFalse(withNodes.parse("ABC-n1").hasJvmRoute("tc1"));
        assertFalse(withNodes.parse("ABC-n1").hasJvmRoute(""));
        assertTrue(withNodes.parse("ABC-n1").hasJvmRoute(null));
    }

    @Test
    void aParseIsKeptForTheSameStringAndEachFormatKeepsItsOwn() {
        SessionIdFormat withNodes = new SessionIdFormat(true, "n1");
        SessionIdFormat withoutNodes = new SessionIdFormat(false, "n1");
        String id = new String("ABCDEF-n2".toCharArray()); // not a literal: no other test holds this string
        assertSame(withNodes.parse(id), withNodes.parse(id), "the same string: parsed once");
        assertEquals("n2", withNodes.parse(id).nodeId());
        assertNull(withoutNodes.parse(id), "'-' is not in an id without node ids: not the other format's parse");
        assertEquals("n2", withNodes.parse(id).nodeId());
        String plain = new String("ABCDEF".toCharArray());
        assertEquals("n1", withoutNodes.parse(plain).nodeId());
        assertNull(withNodes.parse(plain), "no node id: not an id of a format with node ids");
    }

    @Test
    void theConfiguredNodeIdsAndThoseItMadeIdsWithAreReusedAndNoCookieAddsOne() {
        SessionIdFormat f = new SessionIdFormat(true, "n1", java.util.List.of("n1", "n2"));
        assertSame(f.parse("DEF-n1.tc1").nodeId(), f.parse("GHI-n1").nodeId());
        assertSame(f.parse("DEF-n2").nodeId(), f.parse("GHI-n2").nodeId());
        assertEquals("n3", f.parse("ABC-n3").nodeId());
        assertNotSame(f.parse("ABC-n3").nodeId(), f.parse("DEF-n3").nodeId(), "a parse remembers nothing");
        f.format("ABC", "n3", null); // a node that joined (discovery): this Tomcat made an id with it
        assertSame(f.parse("PQR-n3").nodeId(), f.parse("STU-n3").nodeId()); // ids not parsed before
        for (int i = 0; i < 40; i++) { // more nodes than it remembers
            f.format("ABC", "x" + i, null);
            assertEquals("x" + i, f.parse("ABC-x" + i).nodeId());
        }
        assertSame(f.parse("JKL-n1").nodeId(), f.parse("MNO-n1").nodeId(), "the first ones stay");
        assertEquals("x39", f.parse("ABC-x39").nodeId(), "one it could not remember is cut out each time");
        assertEquals("n", f.parse("ABC-n.tc").nodeId(), "a prefix of a remembered id is not taken for it");
        assertEquals("n12", f.parse("ABC-n12").nodeId(), "nor one it is a prefix of");
    }

    @Test
    void anIdParsedAgainIsTheSameParseAndNoOtherIdIsTakenForIt() {
        SessionIdFormat f = new SessionIdFormat(true, null, List.of("n1", "n2"));
        String id = "ABC-n1.tc1";
        SessionIdFormat.SessionId a = f.parse(id);
        assertSame(a, f.parse(id), "the same string: the last parse");
        SessionIdFormat.SessionId copy = f.parse(new String(id));
        assertNotSame(a, copy, "an equal string is parsed: never compared with the last id");
        assertEquals("tc1", copy.jvmRoute());
        SessionIdFormat.SessionId b = f.parse("ABD-n2");
        assertEquals("n2", b.nodeId());
        assertEquals("ABD", b.random());
        assertNull(b.jvmRoute());
        assertNull(f.parse("ABD-n2 "), "a bad id right after a good one");
        assertNull(f.parse(null));
        assertEquals("n2", f.parse("ABD-n2").nodeId());
        assertEquals("tc1", f.parse("ABC-n1.tc1").jvmRoute());
        assertEquals("n1", f.parse("ABC-n1").nodeId(), "a prefix of the last id is another id");
        assertEquals("tc1.x", f.parse("ABC-n1.tc1.x").jvmRoute(), "a longer id that starts as the last one");
    }

    @Test
    void withoutNodeIdsEveryIdRoutesToTheSingleNode() {
        SessionIdFormat single = new SessionIdFormat(false, "127.0.0.1:11211");
        assertEquals("ABC.tc1", single.format("ABC", "ignored", "tc1"));
        assertEquals("127.0.0.1:11211", single.parse("ABC.tc1").nodeId());
        assertNull(single.parse("ABC-n1"));
    }
}
