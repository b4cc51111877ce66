package io.msm.config;

import io.msm.MsmException;
import java.util.List;

/**
 * Thrown when a configuration has bad attributes. The message names <em>every</em> bad attribute with its value and
 * what was expected, one per line, so a single failed start tells the operator everything to fix.
 */
public final class InvalidConfigurationException extends MsmException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    InvalidConfigurationException(List<String> problems) {
        super(format(problems));
        this.problems = List.copyOf(problems);
    }

    /** One entry per bad attribute, e.g. {@code memcachedNodes="n1:localhost": expected <id>:<host>:<port>}. */
    public List<String> problems() {
        return problems;
    }

    private static String format(List<String> problems) {
        StringBuilder sb = new StringBuilder();
        sb.append(problems.size() == 1 ? "1 invalid attribute" : problems.size() + " invalid attributes")
                .append(" in the msm <Manager> configuration:");
        for (String p : problems) {
            sb.append("\n  - ").append(p);
        }
        return sb.toString();
    }
}
