package io.msm.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One reading of the raw attribute strings: the values read so far (in {@link Attributes#ALL}'s order, so a reader
 * may look at the attributes declared before its own), and every problem and warning found, collected rather than
 * thrown one by one.
 */
final class Reading {
    private final Map<String, String> raw;
    final ClassLoader classLoader;
    final List<String> problems = new ArrayList<>();
    final List<String> warnings = new ArrayList<>();
    private final Map<Attribute<?>, Object> values = new HashMap<>();

    Reading(Map<String, String> raw, ClassLoader classLoader) {
        this.raw = raw;
        this.classLoader = classLoader;
    }

    /** Reads every attribute, then adds the warnings about legal but doubtful combinations. */
    Reading readAll() {
        for (Attribute<?> a : Attributes.ALL) {
            a.readInto(this);
        }
        if (problems.isEmpty()) {
            Warnings.add(this);
        }
        return this;
    }

    /** The text as written, {@code null} if not set. */
    String raw(String attribute) {
        return raw.get(attribute);
    }

    /** The trimmed text, {@code null} if not set or blank. */
    String text(String attribute) {
        String v = raw.get(attribute);
        return v == null || v.isBlank() ? null : v.trim();
    }

    /** The value read for {@code a} (its default if it was not set or was bad); {@code a} must be read already. */
    @SuppressWarnings("unchecked")
    <T> T value(Attribute<T> a) {
        if (!values.containsKey(a)) {
            throw new IllegalStateException(a.name + " is read later");
        }
        return (T) values.get(a);
    }

    void put(Attribute<?> a, Object value) {
        values.put(a, value);
    }

    Map<Attribute<?>, Object> values() {
        return values;
    }

    /** A problem with {@code attribute}, named with its value as written: {@code name="value": expectation}. */
    void problem(String attribute, String expectation) {
        String value = raw.get(attribute);
        problems.add((value == null ? attribute + " (not set, its default)" : attribute + "=\"" + value + "\"")
                + ": " + expectation);
    }

    void warn(String warning) {
        warnings.add(warning);
    }
}
