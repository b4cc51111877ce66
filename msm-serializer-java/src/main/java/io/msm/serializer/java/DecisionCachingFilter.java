package io.msm.serializer.java;

import io.msm.internal.GadgetClasses;
import java.io.ObjectInputFilter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A JEP 290 pattern filter ({@link ObjectInputFilter.Config#createFilter}) that decides each class once. The
 * pattern filter first checks the limits (depth, references, stream bytes, array length), then matches the class
 * (an array's component class) against every pattern in turn; the match depends on the class alone, but the JDK
 * redoes it for every class descriptor and every array of every session read, which was a sixth of reading a
 * typical session. Here the limits are checked on every call as before, and the class decision is remembered.
 */
final class DecisionCachingFilter implements ObjectInputFilter {
    /** Classes whose decision is remembered, at most: a webapp has far fewer serializable classes. */
    static final int MAX_CLASSES = 4096;
    private final ObjectInputFilter patterns;
    private final Map<Class<?>, Status> decisions = new ConcurrentHashMap<>();

    DecisionCachingFilter(ObjectInputFilter patterns) {
        this.patterns = patterns;
    }

    @Override
    public Status checkInput(FilterInfo info) {
        Class<?> type = info.serialClass();
        if (type == null) {
            return patterns.checkInput(info); // limits only
        }
        // the limits, with a class the patterns leave undecided (an array's length is checked for any array)
        Status limits = patterns.checkInput(new Info(type.isArray() ? byte[].class : null, info.arrayLength(),
                info.depth(), info.references(), info.streamBytes()));
        if (limits == Status.REJECTED) {
            return limits;
        }
        Status decided = decisions.get(type);
        if (decided == null) {
            decided = patterns.checkInput(new Info(type, -1, 0, 0, 0)); // the class alone, within every limit
            if (decided == Status.UNDECIDED && GadgetClasses.denyingPattern(type) != null) {
                decided = Status.REJECTED; // a subclass of a refused class
            }
            if (decisions.size() < MAX_CLASSES) {
                decisions.put(type, decided);
            }
        }
        return decided;
    }

    int decidedClasses() {
        return decisions.size();
    }

    /** A {@link ObjectInputFilter.FilterInfo} with chosen values. */
    static final class Info implements ObjectInputFilter.FilterInfo {
        private final Class<?> serialClass;
        private final long arrayLength;
        private final long depth;
        private final long references;
        private final long streamBytes;

        Info(Class<?> serialClass, long arrayLength, long depth, long references, long streamBytes) {
            this.serialClass = serialClass;
            this.arrayLength = arrayLength;
            this.depth = depth;
            this.references = references;
            this.streamBytes = streamBytes;
        }

        @Override
        public Class<?> serialClass() {
            return serialClass;
        }

        @Override
        public long arrayLength() {
            return arrayLength;
        }

        @Override
        public long depth() {
            return depth;
        }

        @Override
        public long references() {
            return references;
        }

        @Override
        public long streamBytes() {
            return streamBytes;
        }
    }
}
