package io.msm.tomcat;

import io.msm.anchor.AnchorBlob;
import io.msm.anchor.AnchorConverter;
import io.msm.anchor.AnchorFormatException;
import io.msm.codec.SessionData;
import io.msm.serializer.java.JavaSerializationTranscoder;
import java.security.Principal;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.catalina.authenticator.Constants;
import org.apache.catalina.authenticator.SavedRequest;
import org.apache.tomcat.util.buf.ByteChunk;

/**
 * Turns a session memcached-session-manager 2.x stored into msm's form: its attributes, read with its Java
 * serialization format; its principal (a Java serialization stream of the principal, for Tomcat's
 * {@code GenericPrincipal} its serializable form) and its saved FORM request (a stream of eight objects: body, content
 * type, headers, locales, method, query string, request URI, decoded request URI), all under msm's deserialization
 * guard, then encoded as msm stores them ({@link AuthStateCodec}).
 */
final class LegacySessionConverter implements AnchorConverter {
    private static final int SAVED_REQUEST_OBJECTS = 8;

    private final JavaSerializationTranscoder reader;

    LegacySessionConverter(JavaSerializationTranscoder reader) {
        this.reader = reader;
    }

    @Override
    public Map<String, Object> convert(AnchorBlob blob, SessionData.Builder into) {
        Map<String, Object> attributes = reader.deserializeAnchorAttributes(blob.attributes());
        if (blob.principal().length > 0) {
            Object p = reader.deserializeAnchorObjects(blob.principal(), 1, "the session's principal").get(0);
            if (!(p instanceof Principal)) {
                throw new AnchorFormatException("the principal is a " + className(p) + ", not a Principal");
            }
            Principal principal = (Principal) p;
            into.principal(AuthStateCodec.encodePrincipal(principal));
            Object user = AuthStateCodec.separateUserPrincipal(principal);
            if (user != null) {
                attributes.put(AuthStateCodec.USER_PRINCIPAL_ATTRIBUTE, user);
            }
        }
        if (blob.savedRequest().length > 0) {
            byte[] note = AuthStateCodec.encodeNote(Constants.FORM_REQUEST_NOTE, savedRequest(blob.savedRequest()));
            if (note != null) {
                into.note(Constants.FORM_REQUEST_NOTE, note);
                // Tomcat completes a FORM login only in the session it began in, which it notes by id; the old
                // format has no such note: the session's id as stored (the cookie the login form was sent with)
                into.note(Constants.SESSION_ID_NOTE, AuthStateCodec.encodeNote(Constants.SESSION_ID_NOTE, blob.id()));
            }
        }
        return attributes;
    }

    @Override
    public byte[] encode(SessionData data, Map<String, Object> attributes, long lastBackupTime) {
        Map<String, Object> plain = new java.util.LinkedHashMap<>(attributes);
        Object user = plain.remove(AuthStateCodec.USER_PRINCIPAL_ATTRIBUTE);
        Principal principal = data.principal() == null ? null : AuthStateCodec.decodePrincipal(data.principal(), user);
        byte[] principalBytes = principal == null ? new byte[0] : stream(principal);
        byte[] note = data.notes().get(Constants.FORM_REQUEST_NOTE);
        Object saved = note == null ? null : AuthStateCodec.decodeNote(Constants.FORM_REQUEST_NOTE, note);
        byte[] savedBytes = saved instanceof SavedRequest ? savedRequest((SavedRequest) saved) : new byte[0];
        return AnchorBlob.encode(data, lastBackupTime, principalBytes, savedBytes,
                reader.serializeAnchorAttributes(plain));
    }

    /** As the old manager wrote a saved FORM request: eight objects in one stream (cookies and parameters left out). */
    private static byte[] savedRequest(SavedRequest r) {
        java.util.HashMap<String, java.util.ArrayList<String>> headers = new java.util.HashMap<>();
        r.getHeaderNames().forEachRemaining(name -> {
            java.util.ArrayList<String> values = new java.util.ArrayList<>();
            r.getHeaderValues(name).forEachRemaining(values::add);
            headers.put(name, values);
        });
        java.util.ArrayList<Locale> locales = new java.util.ArrayList<>();
        r.getLocales().forEachRemaining(locales::add);
        return stream(r.getBody(), r.getContentType(), headers, locales, r.getMethod(), r.getQueryString(),
                r.getRequestURI(), r.getDecodedRequestURI());
    }

    private static byte[] stream(Object... objects) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            for (Object o : objects) {
                out.writeObject(o);
            }
        } catch (java.io.IOException e) {
            throw new AnchorFormatException("cannot write what memcached-session-manager stores of a login: " + e);
        }
        return bytes.toByteArray();
    }

    private SavedRequest savedRequest(byte[] data) {
        List<Object> o = reader.deserializeAnchorObjects(data, SAVED_REQUEST_OBJECTS, "the saved FORM request");
        SavedRequest r = new SavedRequest();
        if (o.get(0) != null) {
            ByteChunk body = as(o.get(0), ByteChunk.class, "body");
            byte[] buffer = body.getBuffer();
            if (buffer == null || body.getStart() < 0 || body.getStart() > body.getEnd()
                    || body.getEnd() > buffer.length) {
                throw new AnchorFormatException("the saved FORM request's body has no bytes between its start and end");
            }
            ByteChunk copy = new ByteChunk();
            copy.setBytes(java.util.Arrays.copyOfRange(body.getBuffer(), body.getStart(), body.getEnd()), 0,
                    body.getLength());
            r.setBody(copy);
        }
        r.setContentType(as(o.get(1), String.class, "content type"));
        Map<?, ?> headers = as(o.get(2), Map.class, "headers");
        if (headers != null) {
            for (Map.Entry<?, ?> h : headers.entrySet()) {
                String name = as(h.getKey(), String.class, "header name");
                Collection<?> values = as(h.getValue(), Collection.class, "header values");
                for (Object value : values == null ? List.of() : values) {
                    if (name != null && value != null) {
                        r.addHeader(name, as(value, String.class, "header value"));
                    }
                }
            }
        }
        Collection<?> locales = as(o.get(3), Collection.class, "locales");
        if (locales != null) {
            for (Object l : locales) {
                if (l != null) {
                    r.addLocale(as(l, Locale.class, "locale"));
                }
            }
        }
        r.setMethod(as(o.get(4), String.class, "method"));
        r.setQueryString(as(o.get(5), String.class, "query string"));
        r.setRequestURI(as(o.get(6), String.class, "request URI"));
        r.setDecodedRequestURI(as(o.get(7), String.class, "decoded request URI"));
        return r;
    }

    private static <T> T as(Object o, Class<T> type, String what) {
        if (o != null && !type.isInstance(o)) {
            throw new AnchorFormatException("the saved FORM request's " + what + " is a " + className(o) + ", not a "
                    + type.getSimpleName());
        }
        return type.cast(o);
    }

    private static String className(Object o) {
        return o == null ? "null" : o.getClass().getName();
    }
}
