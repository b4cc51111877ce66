package io.msm.test.transcoder;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamConstants;
import java.util.Map;

/** Java serialization streams as a planted blob carries them, written directly (no filter, no serializer). */
public final class JavaStreams {
    private JavaStreams() {
    }

    /** Attributes in the Java serializer's layout: an int count, then name and value per attribute. */
    public static byte[] sessionLayout(Map<String, Object> attributes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeInt(attributes.size());
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                out.writeObject(e.getKey());
                out.writeObject(e.getValue());
            }
        }
        return bytes.toByteArray();
    }

    /**
     * One attribute whose value is an object of the named class, in the Java serializer's layout: the class
     * descriptor (the given serialVersionUID, no fields, no superclass) and no data. This is what a reader meets for
     * a class it cannot check before it resolves the name, however the real payload built its object.
     */
    public static byte[] sessionNaming(String attribute, String className, long serialVersionUid)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeShort(ObjectStreamConstants.STREAM_MAGIC);
        out.writeShort(ObjectStreamConstants.STREAM_VERSION);
        out.writeByte(ObjectStreamConstants.TC_BLOCKDATA);
        out.writeByte(4);
        out.writeInt(1);
        out.writeByte(ObjectStreamConstants.TC_STRING);
        out.writeUTF(attribute);
        writeNamedObject(out, className, serialVersionUid);
        out.flush();
        return bytes.toByteArray();
    }

    /** A stream holding one object of the named class, as {@link #sessionNaming} writes it, without the layout. */
    public static byte[] objectNaming(String className, long serialVersionUid) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeShort(ObjectStreamConstants.STREAM_MAGIC);
        out.writeShort(ObjectStreamConstants.STREAM_VERSION);
        writeNamedObject(out, className, serialVersionUid);
        out.flush();
        return bytes.toByteArray();
    }

    private static void writeNamedObject(DataOutputStream out, String className, long serialVersionUid)
            throws IOException {
        out.writeByte(ObjectStreamConstants.TC_OBJECT);
        out.writeByte(ObjectStreamConstants.TC_CLASSDESC);
        out.writeUTF(className);
        out.writeLong(serialVersionUid);
        out.writeByte(ObjectStreamConstants.SC_SERIALIZABLE);
        out.writeShort(0); // no fields
        out.writeByte(ObjectStreamConstants.TC_ENDBLOCKDATA); // no class annotation
        out.writeByte(ObjectStreamConstants.TC_NULL); // no superclass descriptor
    }
}
