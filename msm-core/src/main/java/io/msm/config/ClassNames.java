package io.msm.config;

import io.msm.spi.TranscoderFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The attributes that name classes of the webapp: {@code transcoderFactoryClass} and {@code customConverter}. */
final class ClassNames {

    /**
     * Class names of memcached-session-manager's serializers, mapped to ours, so an unchanged {@code context.xml}
     * keeps working after the className change (with a warning to update it).
     */
    static final Map<String, String> ANCHOR_TRANSCODER_ALIASES = Map.of(
            "de.javakaffee.web.msm.JavaSerializationTranscoderFactory", MsmConfig.DEFAULT_TRANSCODER_FACTORY_CLASS,
            "de.javakaffee.web.msm.serializer.kryo.KryoTranscoderFactory",
            "io.msm.serializer.kryo.KryoTranscoderFactory");

    private ClassNames() {
    }

    /** {@code transcoderFactoryClass} ({@code null} if not set): an alias mapped, the class loaded and checked. */
    static String transcoderFactory(String text, Reading r) {
        String name = text == null ? MsmConfig.DEFAULT_TRANSCODER_FACTORY_CLASS : text;
        String alias = ANCHOR_TRANSCODER_ALIASES.get(name);
        if (alias != null) {
            r.warn(MsmConfig.TRANSCODER_FACTORY_CLASS + "=\"" + name
                    + "\" is memcached-session-manager's class; using msm's " + alias + " (update context.xml)");
            name = alias;
        }
        Class<?> c = load(name, r);
        if (c == null) {
            r.problem(MsmConfig.TRANSCODER_FACTORY_CLASS, "class " + name + " not found by the webapp class loader");
        } else if (!TranscoderFactory.class.isAssignableFrom(c)) {
            r.problem(MsmConfig.TRANSCODER_FACTORY_CLASS, c.getName() + " does not implement "
                    + TranscoderFactory.class.getName());
        } else {
            try {
                c.getConstructor();
            } catch (NoSuchMethodException e) {
                r.problem(MsmConfig.TRANSCODER_FACTORY_CLASS, c.getName() + " has no public no-argument constructor");
            }
        }
        return name;
    }

    /** {@code customConverter}: class names, comma or space separated, each loaded by the webapp. */
    static List<String> customConverters(String text, Reading r) {
        List<String> names = new ArrayList<>();
        for (String name : NodeList.LIST_SEPARATOR.split(text)) {
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        List<String> missing = new ArrayList<>();
        for (String name : names) {
            if (load(name, r) == null) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            r.problem(MsmConfig.CUSTOM_CONVERTER, "class" + (missing.size() > 1 ? "es " : " ")
                    + String.join(", ", missing) + " not found by the webapp class loader");
        }
        return List.copyOf(names);
    }

    private static Class<?> load(String name, Reading r) {
        try {
            return Class.forName(name, false, r.classLoader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }
}
