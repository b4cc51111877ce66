package io.msm.serializer.kryo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The deny list: classes that are never instantiated from memcached bytes (and never written, so the problem shows
 * at backup time). Patterns are a class name, or a package followed by {@code .*} meaning that package and all below.
 * Array types are judged by their component type.
 */
final class ClassPolicy {
    private final List<String> exact = new ArrayList<>();
    private final List<String> prefixes = new ArrayList<>();
    private final Set<Class<?>> allowed = ConcurrentHashMap.newKeySet();

    ClassPolicy(Collection<String> patterns) {
        for (String p : patterns) {
            String pattern = p.trim();
            if (pattern.isEmpty()) {
                continue;
            }
            if (pattern.endsWith(".*")) {
                prefixes.add(pattern.substring(0, pattern.length() - 1)); // keeps the dot
            } else if (pattern.contains("*")) {
                throw new IllegalArgumentException("bad class pattern \"" + pattern
                        + "\": expected a class name or <package>.*");
            } else {
                exact.add(pattern);
            }
        }
    }

    /** The pattern that refuses {@code type}, or {@code null} if it is allowed. */
    String denyingPattern(Class<?> type) {
        Class<?> c = type;
        while (c.isArray()) {
            c = c.getComponentType();
        }
        if (c.isPrimitive() || allowed.contains(c)) {
            return null;
        }
        String name = c.getName();
        for (String e : exact) {
            if (e.equals(name)) {
                return e;
            }
        }
        for (String prefix : prefixes) {
            if (name.startsWith(prefix)) {
                return prefix + "*";
            }
        }
        allowed.add(c);
        return null;
    }
}
