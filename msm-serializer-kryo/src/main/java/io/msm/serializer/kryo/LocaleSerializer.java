package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.Locale;

/** A Locale as its language tag when that round-trips (script, extensions and all), else in Java form. */
final class LocaleSerializer extends Serializer<Locale> {
    private final JavaSerializer java;

    LocaleSerializer(JavaSerializer java) {
        this.java = java;
        setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output output, Locale locale) {
        String tag = locale.toLanguageTag();
        if (Locale.forLanguageTag(tag).equals(locale)) {
            output.writeString(tag);
        } else {
            output.writeString(null);
            java.write(kryo, output, locale);
        }
    }

    @Override
    public Locale read(Kryo kryo, Input input, Class<? extends Locale> type) {
        String tag = input.readString();
        if (tag != null) {
            return Locale.forLanguageTag(tag);
        }
        Object l = java.read(kryo, input, Object.class);
        if (!(l instanceof Locale)) {
            throw new KryoException("expected a Locale");
        }
        return (Locale) l;
    }
}
