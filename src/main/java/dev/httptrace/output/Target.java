package dev.httptrace.output;

/**
 * The parts of an HTTP request-target (RFC 9112 section 3.2), as index ranges into the
 * target string so that parsing allocates nothing. One instance is reused per writer.
 *
 * <ul>
 *   <li>origin-form {@code /path?query}: path and query</li>
 *   <li>absolute-form {@code scheme://[userinfo@]host[:port][/path][?query]}: scheme,
 *       domain (IPv6 literals keep their brackets, as ECS asks), port, path, query, and
 *       the userinfo range so that a password can be redacted</li>
 *   <li>authority-form {@code host:port} (only for CONNECT): domain and port</li>
 *   <li>anything else ({@code *}, garbage): no parts, only the original</li>
 * </ul>
 * A part whose range is empty is absent (-1 start), except that the path of an
 * absolute-form target may be absent when the target has none.
 */
final class Target {

    String text;
    int schemeStart = -1, schemeEnd;
    int userinfoStart = -1, userinfoEnd;
    int domainStart = -1, domainEnd;
    int port = -1;
    int pathStart = -1, pathEnd;
    int queryStart = -1, queryEnd;

    void parse(String method, String t) {
        text = t;
        schemeStart = userinfoStart = domainStart = pathStart = queryStart = -1;
        port = -1;
        int n = t.length();
        if (n == 0) {
            return;
        }
        if (t.charAt(0) == '/') {
            pathAndQuery(0);
            return;
        }
        int schemeLen = schemeLength(t);
        if (schemeLen > 0 && t.startsWith("://", schemeLen)) {
            schemeStart = 0;
            schemeEnd = schemeLen;
            int authStart = schemeLen + 3;
            int authEnd = authStart;
            while (authEnd < n) {
                char c = t.charAt(authEnd);
                if (c == '/' || c == '?' || c == '#') {
                    break;
                }
                authEnd++;
            }
            authority(authStart, authEnd);
            pathAndQuery(authEnd);
            return;
        }
        if ("CONNECT".equals(method)) {
            authority(0, n);
        }
    }

    /** Length of a leading RFC 3986 scheme ({@code ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )}), or 0. */
    private static int schemeLength(String t) {
        int n = t.length();
        if (n == 0 || !isAlpha(t.charAt(0))) {
            return 0;
        }
        int i = 1;
        while (i < n) {
            char c = t.charAt(i);
            if (isAlpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
                i++;
            } else {
                break;
            }
        }
        return i;
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private void authority(int start, int end) {
        int at = text.lastIndexOf('@', end - 1);
        if (at >= start) {
            userinfoStart = start;
            userinfoEnd = at;
            start = at + 1;
        }
        int hostEnd;
        int portStart = -1;
        if (start < end && text.charAt(start) == '[') {
            int close = text.indexOf(']', start);
            if (close < 0 || close >= end) {
                hostEnd = end;
            } else {
                hostEnd = close + 1;
                if (hostEnd < end && text.charAt(hostEnd) == ':') {
                    portStart = hostEnd + 1;
                }
            }
        } else {
            int colon = text.lastIndexOf(':', end - 1);
            if (colon >= start) {
                hostEnd = colon;
                portStart = colon + 1;
            } else {
                hostEnd = end;
            }
        }
        if (hostEnd > start) {
            domainStart = start;
            domainEnd = hostEnd;
        }
        if (portStart >= 0) {
            port = parsePort(portStart, end);
        }
    }

    private int parsePort(int start, int end) {
        if (end <= start || end - start > 5) {
            return -1;
        }
        int v = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v <= 65_535 ? v : -1;
    }

    private void pathAndQuery(int start) {
        int n = text.length();
        int q = text.indexOf('?', start);
        int pathEnd = q < 0 ? n : q;
        if (pathEnd > start) {
            this.pathStart = start;
            this.pathEnd = pathEnd;
        }
        if (q >= 0 && q + 1 < n) {
            queryStart = q + 1;
            queryEnd = n;
        }
    }

    /**
     * The target with an absolute-form userinfo replaced by {@code REDACTED:REDACTED} (or
     * {@code REDACTED} when it names no password), as OpenTelemetry asks for url.full; the
     * target itself when it has no userinfo.
     */
    String redactedOriginal() {
        if (userinfoStart < 0) {
            return text;
        }
        boolean password = text.indexOf(':', userinfoStart) >= 0 && text.indexOf(':', userinfoStart) < userinfoEnd;
        return text.substring(0, userinfoStart) + (password ? "REDACTED:REDACTED" : "REDACTED")
                + text.substring(userinfoEnd);
    }
}
