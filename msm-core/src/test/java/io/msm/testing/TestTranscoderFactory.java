package io.msm.testing;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderContext;
import io.msm.spi.TranscoderException;
import io.msm.spi.TranscoderFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/** A small real transcoder for core's tests: string, integer and StringBuilder values only, sorted by name. */
public final class TestTranscoderFactory implements TranscoderFactory {

    @Override
    public SessionAttributesTranscoder createTranscoder(TranscoderContext context) {
        return new SessionAttributesTranscoder() {
            @Override
            public byte[] serialize(Map<String, Object> attributes) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                try (DataOutputStream out = new DataOutputStream(bytes)) {
                    Map<String, Object> sorted = new TreeMap<>(attributes);
                    out.writeInt(sorted.size());
                    for (Map.Entry<String, Object> e : sorted.entrySet()) {
                        out.writeUTF(e.getKey());
                        Object v = e.getValue();
                        if (v instanceof Integer) {
                            out.writeByte('I');
                            out.writeInt((Integer) v);
                        } else if (v instanceof String) {
                            out.writeByte('S');
                            out.writeUTF((String) v);
                        } else if (v instanceof StringBuilder) { // a mutable value
                            out.writeByte('B');
                            out.writeUTF(v.toString());
                        } else {
                            throw new TranscoderException("unsupported " + v.getClass().getName());
                        }
                    }
                } catch (IOException e) {
                    throw new TranscoderException(e.toString(), e);
                }
                return bytes.toByteArray();
            }

            @Override
            public Map<String, Object> deserialize(byte[] data) {
                try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
                    Map<String, Object> m = new TreeMap<>();
                    int n = in.readInt();
                    for (int i = 0; i < n; i++) {
                        String k = in.readUTF();
                        int type = in.readByte();
                        m.put(k, type == 'I' ? (Object) in.readInt()
                                : type == 'B' ? new StringBuilder(in.readUTF()) : in.readUTF());
                    }
                    return m;
                } catch (IOException e) {
                    throw new TranscoderException(e.toString(), e);
                }
            }
        };
    }
}
