package io.msm.tomcat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.lang.reflect.Constructor;
import java.security.Principal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.servlet.http.Cookie;
import org.apache.catalina.authenticator.Constants;
import org.apache.catalina.authenticator.SavedRequest;
import org.apache.catalina.realm.GenericPrincipal;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.buf.ByteChunk;

/**
 * Encodes the authentication state Tomcat keeps in a session - the principal, the FORM login's saved request and
 * session-id note - as plain data, field by field, so a login survives a Tomcat failover without deserializing
 * container classes. Passwords are never stored ({@code cache="false"} logins, which keep the password in the
 * session, re-authenticate after a failover).
 *
 * <p>A realm's own user principal object (JAAS, custom realms) travels as a reserved session attribute through the
 * configured serializer, under the same class filter as every attribute.
 */
final class AuthStateCodec {
    private static final Log LOG = LogFactory.getLog(AuthStateCodec.class);

    /** Reserved attribute carrying a realm's user principal object; never visible to the webapp. */
    static final String USER_PRINCIPAL_ATTRIBUTE = "io.msm.tomcat.userPrincipal";

    private static final int VERSION = 1;
    private static final int GENERIC_PRINCIPAL = 1;
    private static final int OTHER_PRINCIPAL = 2;

    private AuthStateCodec() {
    }

    private interface Encoder {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] encode(Encoder e) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            e.write(out);
        } catch (IOException | RuntimeException ex) {
            // Only a string over 64 KB can fail here; the state is then not carried (logged).
            LOG.warn("authentication state not stored in memcached: " + ex);
            return null;
        }
        return bytes.toByteArray();
    }

    private static DataInputStream reader(byte[] data) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
        int version = in.readUnsignedByte();
        if (version != VERSION) {
            throw new IOException("unknown version " + version);
        }
        return in;
    }

    // ------------------------------------------------------------------ principal

    static byte[] encodePrincipal(Principal p) {
        if (p == null) {
            return null;
        }
        return encode(out -> {
            if (p instanceof GenericPrincipal) {
                GenericPrincipal gp = (GenericPrincipal) p;
                out.writeByte(GENERIC_PRINCIPAL);
                out.writeUTF(gp.getName());
                String[] roles = gp.getRoles();
                out.writeInt(roles.length);
                for (String role : roles) {
                    out.writeUTF(role);
                }
            } else {
                out.writeByte(OTHER_PRINCIPAL);
                out.writeUTF(p.getName());
            }
        });
    }

    /** JDK principals a JAAS login module may hand a realm: none can change after it is made. */
    private static final java.util.Set<String> IMMUTABLE_USER_CLASSES = java.util.Set.of(
            "javax.security.auth.x500.X500Principal", "javax.security.auth.kerberos.KerberosPrincipal",
            "com.sun.security.auth.UserPrincipal", "com.sun.security.auth.UnixPrincipal",
            "com.sun.security.auth.NTUserPrincipal", "com.sun.security.auth.LdapPrincipal");

    /**
     * Whether {@code p} carries an object of the application's that a request may change in place (it reaches it
     * through {@code getUserPrincipal()}): a carried object ({@link #separateUserPrincipal}) not of a JDK class that
     * cannot change.
     */
    static boolean carriesChangeableUserObject(Principal p) {
        Object user = separateUserPrincipal(p);
        return user != null && !IMMUTABLE_USER_CLASSES.contains(user.getClass().getName());
    }

    /** The object to carry as {@link #USER_PRINCIPAL_ATTRIBUTE}, or {@code null} if the principal is self-contained. */
    static Object separateUserPrincipal(Principal p) {
        Principal user = p instanceof GenericPrincipal ? ((GenericPrincipal) p).getUserPrincipal() : p;
        if (user == null || user == p && p instanceof GenericPrincipal) {
            return null;
        }
        return user instanceof Serializable ? user : null;
    }

    static Principal decodePrincipal(byte[] data, Object userPrincipal) {
        if (data == null) {
            return null;
        }
        Principal user = userPrincipal instanceof Principal ? (Principal) userPrincipal : null;
        try {
            DataInputStream in = reader(data);
            int kind = in.readUnsignedByte();
            if (kind == OTHER_PRINCIPAL) {
                return user;
            }
            if (kind != GENERIC_PRINCIPAL) {
                throw new IOException("unknown principal kind " + kind);
            }
            String name = in.readUTF();
            int count = in.readInt();
            if (count < 0 || count > data.length) {
                throw new IOException("bad role count " + count);
            }
            List<String> roles = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                roles.add(in.readUTF());
            }
            return newGenericPrincipal(name, roles, user);
        } catch (IOException | RuntimeException e) {
            LOG.warn("stored principal unreadable, the user must log in again: " + e);
            return null;
        }
    }

    /**
     * Tomcat 9 has {@code GenericPrincipal(name, password, roles, userPrincipal)}; Tomcat 10.1+ dropped the password.
     * Pick whichever exists so the same source serves every Tomcat line.
     */
    private static GenericPrincipal newGenericPrincipal(String name, List<String> roles, Principal user) {
        try {
            for (Constructor<?> c : GenericPrincipal.class.getConstructors()) {
                Class<?>[] t = c.getParameterTypes();
                if (t.length == 3 && t[0] == String.class && t[1] == List.class && t[2] == Principal.class) {
                    return (GenericPrincipal) c.newInstance(name, roles, user);
                }
            }
            return GenericPrincipal.class.getConstructor(String.class, String.class, List.class, Principal.class)
                    .newInstance(name, null, roles, user);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("no usable GenericPrincipal constructor", e);
        }
    }

    // ------------------------------------------------------------------ notes

    static byte[] encodeNote(String name, Object value) {
        if (value == null) {
            return null;
        }
        if (Constants.SESSION_ID_NOTE.equals(name) && value instanceof String) {
            return encode(out -> out.writeUTF((String) value));
        }
        if (Constants.FORM_REQUEST_NOTE.equals(name) && value instanceof SavedRequest) {
            return encode(out -> writeSavedRequest(out, (SavedRequest) value));
        }
        return null;
    }

    static Object decodeNote(String name, byte[] data) {
        try {
            if (Constants.SESSION_ID_NOTE.equals(name)) {
                return reader(data).readUTF();
            }
            if (Constants.FORM_REQUEST_NOTE.equals(name)) {
                return readSavedRequest(reader(data));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("stored login state (" + name + ") unreadable, the login restarts: " + e);
        }
        return null;
    }

    private static void writeNullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            out.writeUTF(s);
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void writeSavedRequest(DataOutputStream out, SavedRequest r) throws IOException {
        writeNullable(out, r.getMethod());
        writeNullable(out, r.getRequestURI());
        writeNullable(out, r.getDecodedRequestURI());
        writeNullable(out, r.getQueryString());
        writeNullable(out, r.getContentType());
        Integer timeout = r.getOriginalMaxInactiveIntervalOptional();
        out.writeBoolean(timeout != null);
        if (timeout != null) {
            out.writeInt(timeout);
        }
        ByteChunk body = r.getBody();
        if (body == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(body.getLength());
            out.write(body.getBuffer(), body.getStart(), body.getLength());
        }
        List<Cookie> cookies = new ArrayList<>();
        r.getCookies().forEachRemaining(cookies::add);
        out.writeInt(cookies.size());
        for (Cookie c : cookies) {
            out.writeUTF(c.getName());
            writeNullable(out, c.getValue());
            writeNullable(out, c.getPath());
            writeNullable(out, c.getDomain());
            out.writeInt(c.getVersion());
            out.writeBoolean(c.getSecure());
            out.writeBoolean(c.isHttpOnly());
            out.writeInt(c.getMaxAge());
        }
        List<String> names = new ArrayList<>();
        r.getHeaderNames().forEachRemaining(names::add);
        out.writeInt(names.size());
        for (String name : names) {
            out.writeUTF(name);
            List<String> values = new ArrayList<>();
            r.getHeaderValues(name).forEachRemaining(values::add);
            out.writeInt(values.size());
            for (String v : values) {
                out.writeUTF(v);
            }
        }
        List<Locale> locales = new ArrayList<>();
        r.getLocales().forEachRemaining(locales::add);
        out.writeInt(locales.size());
        for (Locale l : locales) {
            out.writeUTF(l.toLanguageTag());
        }
    }

    private static SavedRequest readSavedRequest(DataInputStream in) throws IOException {
        SavedRequest r = new SavedRequest();
        r.setMethod(readNullable(in));
        r.setRequestURI(readNullable(in));
        r.setDecodedRequestURI(readNullable(in));
        r.setQueryString(readNullable(in));
        r.setContentType(readNullable(in));
        if (in.readBoolean()) {
            r.setOriginalMaxInactiveInterval(in.readInt());
        }
        int bodyLength = in.readInt();
        if (bodyLength > in.available()) {
            throw new IOException("body length " + bodyLength + " exceeds the data");
        }
        if (bodyLength >= 0) {
            byte[] body = new byte[bodyLength];
            in.readFully(body);
            ByteChunk chunk = new ByteChunk();
            chunk.setBytes(body, 0, bodyLength);
            r.setBody(chunk);
        }
        int cookies = count(in);
        for (int i = 0; i < cookies; i++) {
            Cookie c = new Cookie(in.readUTF(), readNullable(in));
            String path = readNullable(in);
            String domain = readNullable(in);
            if (path != null) {
                c.setPath(path);
            }
            if (domain != null) {
                c.setDomain(domain);
            }
            c.setVersion(in.readInt());
            c.setSecure(in.readBoolean());
            c.setHttpOnly(in.readBoolean());
            c.setMaxAge(in.readInt());
            r.addCookie(c);
        }
        int headers = count(in);
        for (int i = 0; i < headers; i++) {
            String name = in.readUTF();
            int values = count(in);
            for (int j = 0; j < values; j++) {
                r.addHeader(name, in.readUTF());
            }
        }
        int locales = count(in);
        for (int i = 0; i < locales; i++) {
            r.addLocale(Locale.forLanguageTag(in.readUTF()));
        }
        return r;
    }

    private static int count(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new IOException("bad count " + n);
        }
        return n;
    }
}
