package io.msm.serializer.kryo;

import io.msm.internal.GadgetClasses;
import java.io.ObjectInputFilter;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The deny list: classes that are never instantiated from memcached bytes (and never written, so the problem shows
 * at backup time). Patterns mean what {@link GadgetClasses.Patterns} says: a class name, or a package followed by
 * {@code .**} (or {@code .*}) meaning that package and all below; a class is refused when it or a superclass matches.
 * Array types are judged by their component type. A configured {@code deserializationFilter} (a JEP 290 pattern; only
 * its class patterns matter here) is asked first: a class it rejects is refused, a class it allows skips the deny list.
 */
final class ClassPolicy {
    /** What {@link #denyingPattern(Class)} returns for a class the configured deserializationFilter rejects. */
    static final String CONFIGURED_FILTER = "deserializationFilter";

    private final ObjectInputFilter configured;
    private final GadgetClasses.Patterns patterns;
    private final Set<Class<?>> allowed = ConcurrentHashMap.newKeySet();

    ClassPolicy(Collection<String> patterns) {
        this(patterns, null);
    }

    /**
     * @param filterPattern a {@code deserializationFilter} pattern, or {@code null}
     */
    ClassPolicy(Collection<String> patterns, String filterPattern) {
        this.configured = filterPattern == null || filterPattern.isBlank() ? null
                : ObjectInputFilter.Config.createFilter(filterPattern);
        this.patterns = new GadgetClasses.Patterns(patterns);
    }

    /** The pattern that refuses a class of this name (when there is no class to ask about), or {@code null}. */
    String denyingPattern(String className) {
        return patterns.matching(className);
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
        if (configured != null) {
            ObjectInputFilter.Status verdict = configured.checkInput(new ClassOnly(c));
            if (verdict == ObjectInputFilter.Status.REJECTED) {
                return CONFIGURED_FILTER;
            }
            if (verdict == ObjectInputFilter.Status.ALLOWED) {
                allowed.add(c);
                return null;
            }
        }
        String denied = patterns.denyingPattern(c);
        if (denied != null) {
            return denied;
        }
        allowed.add(c);
        return null;
    }

    /** A class alone, as a JEP 290 filter sees it: no depth, references, stream bytes or array length to judge. */
    private static final class ClassOnly implements ObjectInputFilter.FilterInfo {
        private final Class<?> type;

        ClassOnly(Class<?> type) {
            this.type = type;
        }

        @Override
        public Class<?> serialClass() {
            return type;
        }

        @Override
        public long arrayLength() {
            return -1;
        }

        @Override
        public long depth() {
            return 1;
        }

        @Override
        public long references() {
            return 0;
        }

        @Override
        public long streamBytes() {
            return 0;
        }
    }
}
