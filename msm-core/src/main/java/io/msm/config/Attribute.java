package io.msm.config;

import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One attribute of the {@code <Manager>} element, declared once: its name, its default (as a value and as the README
 * shows it), how its text is read and checked, and how the effective configuration shows it. {@link Attributes} lists
 * them all; {@link MsmConfig} is built, checked and printed from that list.
 *
 * @param <T> the type of the attribute's value
 */
final class Attribute<T> {

    /** Reads an attribute's text; reports what is wrong to the {@link Reading} and then returns {@code null}. */
    interface Reader<T> {
        T read(String text, Reading r);
    }

    /** What of the written text a reader sees ({@code null} when the attribute counts as not set). */
    enum Text {
        /** Trimmed; blank counts as not set. */
        TRIMMED,
        /** As written; empty counts as not set (regular expressions, secrets). */
        AS_WRITTEN,
        /** As written, even empty ({@code storageKeyPrefix=""} means no prefix). */
        EVEN_EMPTY
    }

    final String name;
    private String documentedDefault;
    private Supplier<T> dflt;
    private final Reader<T> reader;
    private Text text = Text.TRIMMED;
    private boolean readsUnset;
    private boolean secret;
    private Function<T, Object> shown = v -> v;

    private Attribute(String name, Supplier<T> dflt, String documentedDefault, Reader<T> reader) {
        this.name = name;
        this.dflt = dflt;
        this.documentedDefault = documentedDefault;
        this.reader = reader;
    }

    /** An attribute whose default is {@code dflt}, documented as {@code `dflt`}. */
    static <T> Attribute<T> of(String name, T dflt, Reader<T> reader) {
        return new Attribute<>(name, () -> dflt, dflt == null ? "none" : "`" + shownDefault(dflt) + "`", reader);
    }

    /** An attribute whose default needs words (or is computed when the configuration is read). */
    static <T> Attribute<T> of(String name, Supplier<T> dflt, String documentedDefault, Reader<T> reader) {
        return new Attribute<>(name, dflt, documentedDefault, reader);
    }

    private static String shownDefault(Object dflt) {
        return dflt instanceof Enum ? ((Enum<?>) dflt).name().toLowerCase(Locale.ROOT) : String.valueOf(dflt);
    }

    /** The same reading with another default. */
    Attribute<T> defaultsTo(Supplier<T> d, String documented) {
        this.dflt = d;
        this.documentedDefault = documented;
        return this;
    }

    /** The default as README's configuration table shows it. */
    String documentedDefault() {
        return documentedDefault;
    }

    /** Reads {@code text} (not {@code null}) as this attribute, for a reader that extends this one's. */
    T read(String text, Reading r) {
        return reader.read(text, r);
    }

    Attribute<T> text(Text t) {
        this.text = t;
        return this;
    }

    /** The reader is called when the attribute is not set too (with {@code null}): for required ones and rules. */
    Attribute<T> readsUnset() {
        this.readsUnset = true;
        return this;
    }

    /** Never shown: the effective configuration says only whether it is set. */
    Attribute<T> secret() {
        this.secret = true;
        return this;
    }

    Attribute<T> shown(Function<T, Object> f) {
        this.shown = f;
        return this;
    }

    /** Reads this attribute from {@code r}'s raw strings into its values. */
    void readInto(Reading r) {
        String raw = r.raw(name);
        String t;
        switch (text) {
            case TRIMMED: t = raw == null || raw.isBlank() ? null : raw.trim(); break;
            case AS_WRITTEN: t = raw == null || raw.isEmpty() ? null : raw; break;
            default: t = raw;
        }
        T v = t == null && !readsUnset ? null : reader.read(t, r);
        r.put(this, v == null ? dflt.get() : v);
    }

    /** The value as the effective configuration ({@link MsmConfig#toString()}) shows it. */
    Object show(Object value) {
        if (secret) {
            return value == null ? null : "******";
        }
        @SuppressWarnings("unchecked")
        T v = (T) value;
        return v == null ? null : shown.apply(v);
    }

    // ------------------------------------------------------------------ readers most attributes share

    static Attribute<Boolean> bool(String name, boolean dflt) {
        return of(name, dflt, (t, r) -> {
            if (t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false")) {
                return Boolean.valueOf(t.toLowerCase(Locale.ROOT));
            }
            r.problem(name, "expected true or false");
            return null;
        });
    }

    static Attribute<Integer> positiveInt(String name, int dflt, String unit) {
        return of(name, dflt, (t, r) -> wholeNumber(t, r, name, 1, "expected a positive whole number of " + unit));
    }

    static Attribute<Integer> nonNegativeInt(String name, int dflt, String unit) {
        return of(name, dflt, (t, r) -> wholeNumber(t, r, name, 0, "expected a whole number >= 0 of " + unit));
    }

    private static Integer wholeNumber(String t, Reading r, String name, int min, String expectation) {
        try {
            int i = Integer.parseInt(t);
            if (i >= min) {
                return i;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        r.problem(name, expectation);
        return null;
    }

    /** A regular expression, taken as written. */
    static Attribute<Pattern> regex(String name) {
        return of(name, (Pattern) null, (t, r) -> compile(t, r, name, "")).text(Text.AS_WRITTEN);
    }

    static Pattern compile(String regex, Reading r, String name, String context) {
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            r.problem(name, context + "not a valid regular expression: " + e.getDescription() + " near index "
                    + e.getIndex());
            return null;
        }
    }

    /** One of {@code choices}' values, case-insensitive; the problem lists {@code expected}. */
    static <E> Attribute<E> choice(String name, E dflt, Map<String, E> choices, String expected) {
        return of(name, dflt, (t, r) -> {
            E e = choices.get(t.toLowerCase(Locale.ROOT));
            if (e == null) {
                r.problem(name, "expected " + expected);
            }
            return e;
        });
    }
}
