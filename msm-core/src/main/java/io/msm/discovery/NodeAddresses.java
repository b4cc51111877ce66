package io.msm.discovery;

/**
 * Checks of the host and IP fields of a discovered node, by their text alone: nothing here resolves a name (an answer
 * is checked on the polling thread, and a DNS lookup there could stall it, or be steered by whoever wrote the answer).
 */
final class NodeAddresses {
    /** RFC 1035: a name is at most 253 characters written out, a label at most 63. */
    static final int MAX_HOST = 253;
    private static final int MAX_LABEL = 63;

    private NodeAddresses() {
    }

    /**
     * Why {@code host} is not a host name msm would connect to (a reason that does not repeat it), or {@code null} if
     * it is one: dot-separated labels of letters, digits, {@code -} and {@code _} (no label empty, none starting or
     * ending with {@code -}), or an IP literal. A name whose last label is all digits must be an IPv4 literal (no
     * top-level domain is numeric).
     */
    static String hostProblem(String host) {
        if (host.isEmpty()) {
            return "an empty host name";
        }
        if (host.length() > MAX_HOST) {
            return "a host name of " + host.length() + " characters (at most " + MAX_HOST + ")";
        }
        if (host.indexOf(':') >= 0) {
            return isIpv6(host) ? null : "neither a host name nor an IPv6 literal";
        }
        int start = 0;
        boolean lastAllDigits = false;
        while (start <= host.length()) {
            int dot = host.indexOf('.', start);
            int end = dot < 0 ? host.length() : dot;
            String label = host.substring(start, end);
            String problem = labelProblem(label);
            if (problem != null) {
                return problem;
            }
            lastAllDigits = label.chars().allMatch(c -> c >= '0' && c <= '9');
            start = end + 1;
        }
        if (lastAllDigits && !isIpv4(host)) {
            return "ends in a number but is not an IPv4 address";
        }
        return null;
    }

    private static String labelProblem(String label) {
        if (label.isEmpty()) {
            return "an empty label";
        }
        if (label.length() > MAX_LABEL) {
            return "a label of " + label.length() + " characters (at most " + MAX_LABEL + ")";
        }
        if (label.charAt(0) == '-' || label.charAt(label.length() - 1) == '-') {
            return "a label starting or ending with -";
        }
        for (int i = 0; i < label.length(); i++) {
            char c = label.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return "a character that has no place in a host name";
            }
        }
        return null;
    }

    /** Whether {@code s} is an IPv4 or IPv6 literal (no brackets, no zone). */
    static boolean isIpLiteral(String s) {
        return s.indexOf(':') >= 0 ? isIpv6(s) : isIpv4(s);
    }

    /** Four decimal numbers 0..255, without leading zeros (which some parsers read as octal). */
    static boolean isIpv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || (p.length() > 1 && p.charAt(0) == '0')) {
                return false;
            }
            for (int i = 0; i < p.length(); i++) {
                if (p.charAt(i) < '0' || p.charAt(i) > '9') {
                    return false;
                }
            }
            if (Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    /**
     * RFC 4291 text form: eight groups of 1 to 4 hex digits, one run of zero groups shortened to {@code ::} at most
     * once, the last two groups possibly written as an IPv4 address.
     */
    static boolean isIpv6(String s) {
        if (s.length() > 45) {
            return false;
        }
        int groups = 0;
        String rest = s;
        int lastColon = s.lastIndexOf(':');
        if (s.indexOf('.') >= 0) {
            if (lastColon < 0 || !isIpv4(s.substring(lastColon + 1))) {
                return false;
            }
            groups = 2;
            // keep the colon before the IPv4 part when it belongs to a "::"
            rest = s.substring(0, lastColon > 0 && s.charAt(lastColon - 1) == ':' ? lastColon + 1 : lastColon);
        }
        int gap = rest.indexOf("::");
        if (gap >= 0 && rest.indexOf("::", gap + 1) >= 0) {
            return false;
        }
        if (gap < 0) {
            int n = hexGroups(rest);
            return n >= 0 && groups + n == 8;
        }
        int left = hexGroups(rest.substring(0, gap));
        int right = hexGroups(rest.substring(gap + 2));
        return left >= 0 && right >= 0 && groups + left + right <= 7;
    }

    /** The number of {@code :}-separated groups of 1 to 4 hex digits in {@code s} (0 if empty), or -1. */
    private static int hexGroups(String s) {
        if (s.isEmpty()) {
            return 0;
        }
        String[] parts = s.split(":", -1);
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 4) {
                return -1;
            }
            for (int i = 0; i < p.length(); i++) {
                char c = p.charAt(i);
                if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                    return -1;
                }
            }
        }
        return parts.length;
    }
}
