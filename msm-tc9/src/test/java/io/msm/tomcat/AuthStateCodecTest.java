package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.servlet.http.Cookie;
import org.apache.catalina.authenticator.Constants;
import org.apache.catalina.authenticator.SavedRequest;
import org.apache.catalina.realm.GenericPrincipal;
import org.apache.tomcat.util.buf.ByteChunk;
import org.junit.jupiter.api.Test;

class AuthStateCodecTest {

    @SuppressWarnings("deprecation")
    private static GenericPrincipal principal(String name, List<String> roles, Principal user) {
        return new GenericPrincipal(name, null, roles, user);
    }

    @Test
    void genericPrincipalKeepsNameAndRolesButNoPassword() {
        @SuppressWarnings("deprecation")
        GenericPrincipal p = new GenericPrincipal("alice", "secret", List.of("user", "admin"));
        byte[] data = AuthStateCodec.encodePrincipal(p);
        assertTrue(!new String(data, StandardCharsets.ISO_8859_1).contains("secret"), "no password stored");
        assertNull(AuthStateCodec.separateUserPrincipal(p), "self-contained");
        GenericPrincipal back = (GenericPrincipal) AuthStateCodec.decodePrincipal(data, null);
        assertEquals("alice", back.getName());
        assertArrayEquals(new String[] {"admin", "user"}, sorted(back.getRoles()));
        assertTrue(back.hasRole("admin"));
    }

    private static String[] sorted(String[] a) {
        String[] c = a.clone();
        Arrays.sort(c);
        return c;
    }

    /** A realm's own principal object (JAAS, custom realms). */
    static final class ShopUser implements Principal, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "bob";
        }
    }

    @Test
    void realmsOwnUserPrincipalTravelsSeparately() {
        ShopUser user = new ShopUser();
        GenericPrincipal p = principal("bob", List.of("user"), user);
        assertSame(user, AuthStateCodec.separateUserPrincipal(p));
        GenericPrincipal back = (GenericPrincipal) AuthStateCodec.decodePrincipal(AuthStateCodec.encodePrincipal(p),
                user);
        assertSame(user, back.getUserPrincipal());
        // a principal that is not a GenericPrincipal comes back as the carried object itself
        assertSame(user, AuthStateCodec.decodePrincipal(AuthStateCodec.encodePrincipal(user), user));
    }

    @Test
    void onlyAnObjectOfTheApplicationsCountsAsChangeable() {
        assertTrue(AuthStateCodec.carriesChangeableUserObject(principal("bob", List.of("user"), new ShopUser())));
        assertTrue(AuthStateCodec.carriesChangeableUserObject(new ShopUser()), "a realm's own principal class");
        assertFalse(AuthStateCodec.carriesChangeableUserObject(principal("bob", List.of("user"), null)),
                "Tomcat's own realms: self-contained");
        assertFalse(AuthStateCodec.carriesChangeableUserObject(principal("bob", List.of("user"),
                new javax.security.auth.x500.X500Principal("CN=bob"))), "a JDK principal that cannot change");
        assertFalse(AuthStateCodec.carriesChangeableUserObject(principal("bob", List.of("user"),
                new com.sun.security.auth.UserPrincipal("bob"))), "JAAS's own user principal");
    }

    @Test
    void savedFormRequestRoundTrips() {
        SavedRequest r = new SavedRequest();
        r.setMethod("POST");
        r.setRequestURI("/shop/checkout");
        r.setDecodedRequestURI("/shop/checkout");
        r.setQueryString("step=2");
        r.setContentType("application/x-www-form-urlencoded");
        r.setOriginalMaxInactiveInterval(1800);
        ByteChunk body = new ByteChunk();
        byte[] bytes = "item=42&qty=3".getBytes(StandardCharsets.UTF_8);
        body.setBytes(bytes, 0, bytes.length);
        r.setBody(body);
        Cookie c = new Cookie("lang", "de");
        c.setPath("/");
        r.addCookie(c);
        r.addHeader("Accept", "text/html");
        r.addHeader("Accept", "application/xml");
        r.addLocale(Locale.GERMANY);

        SavedRequest back = (SavedRequest) AuthStateCodec.decodeNote(Constants.FORM_REQUEST_NOTE,
                AuthStateCodec.encodeNote(Constants.FORM_REQUEST_NOTE, r));
        assertEquals("POST", back.getMethod());
        assertEquals("/shop/checkout", back.getRequestURI());
        assertEquals("/shop/checkout", back.getDecodedRequestURI());
        assertEquals("step=2", back.getQueryString());
        assertEquals("application/x-www-form-urlencoded", back.getContentType());
        assertEquals(1800, back.getOriginalMaxInactiveIntervalOptional());
        assertEquals("item=42&qty=3", new String(back.getBody().getBuffer(), back.getBody().getStart(),
                back.getBody().getLength(), StandardCharsets.UTF_8));
        Cookie cookie = back.getCookies().next();
        assertEquals("lang", cookie.getName());
        assertEquals("de", cookie.getValue());
        assertEquals("/", cookie.getPath());
        List<String> accept = new ArrayList<>();
        back.getHeaderValues("Accept").forEachRemaining(accept::add);
        assertEquals(List.of("text/html", "application/xml"), accept);
        assertEquals(Locale.GERMANY, back.getLocales().next());
    }

    @Test
    void sessionIdNoteRoundTripsAndGarbageIsDropped() {
        assertEquals("ABC-n1.tc1", AuthStateCodec.decodeNote(Constants.SESSION_ID_NOTE,
                AuthStateCodec.encodeNote(Constants.SESSION_ID_NOTE, "ABC-n1.tc1")));
        assertNull(AuthStateCodec.decodeNote(Constants.FORM_REQUEST_NOTE, new byte[] {1, 0, 0, 0}));
        assertNull(AuthStateCodec.decodePrincipal(new byte[] {9}, null));
        assertNull(AuthStateCodec.encodeNote("some.other.note", "x"), "only the carried notes are encoded");
    }
}
