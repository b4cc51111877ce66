package io.msm.spring.boot;

import java.util.List;

/**
 * Some {@code msm.*} properties are invalid: {@link #problems()} names each with its value and what was expected.
 * Spring Boot reports it through {@link MsmPropertiesFailureAnalyzer}.
 */
public final class MsmPropertiesException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    MsmPropertiesException(List<String> problems) {
        super(format(problems));
        this.problems = List.copyOf(problems);
    }

    /** One entry per bad property, e.g. {@code msm.memcached-nodes="n1:localhost": expected <id>:<host>:<port>}. */
    public List<String> problems() {
        return problems;
    }

    private static String format(List<String> problems) {
        StringBuilder sb = new StringBuilder(problems.size() == 1 ? "1 invalid msm property:"
                : problems.size() + " invalid msm properties:");
        for (String p : problems) {
            sb.append("\n  - ").append(p);
        }
        return sb.toString();
    }
}
