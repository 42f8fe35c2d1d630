package dev.httptrace.output;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which headers the writers put in the header maps ({@code --headers}): a small default
 * set people read and correlate on, every header, none, or named ones (optionally on top
 * of the default set). Redaction is applied to whatever is selected.
 *
 * <p>Consulted once per distinct header name (the writers cache the answer), never per header.
 */
public final class HeaderSelection {

    /**
     * The default set: framing and routing headers, and the trace and request-id headers
     * that tie a record to logs and traces (W3C Trace Context, B3, AWS X-Ray, Google Cloud,
     * Jaeger, and the common request/correlation ids).
     */
    public static final Set<String> DEFAULT_NAMES = Set.of(
            "host", "user-agent", "content-type", "content-length", "content-encoding",
            "transfer-encoding", "location",
            "traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-amzn-trace-id",
            "x-cloud-trace-context", "uber-trace-id", "x-request-id", "x-correlation-id", "request-id");

    public static final HeaderSelection DEFAULT = new HeaderSelection(false, DEFAULT_NAMES);
    public static final HeaderSelection ALL = new HeaderSelection(true, Set.of());
    public static final HeaderSelection NONE = new HeaderSelection(false, Set.of());

    private final boolean all;
    private final Set<String> names;

    private HeaderSelection(boolean all, Set<String> names) {
        this.all = all;
        this.names = names;
    }

    /**
     * Parses the words of {@code --headers}: {@code default}, {@code all}, {@code none}, or
     * header names, which may be combined with {@code default} ({@code default,x-tenant}).
     *
     * @throws IllegalArgumentException with a one-line reason for anything else
     */
    public static HeaderSelection parse(Iterable<String> words) {
        Set<String> names = new LinkedHashSet<>();
        boolean all = false, none = false, any = false;
        for (String w : words) {
            String word = w.trim().toLowerCase(Locale.ROOT);
            any = true;
            switch (word) {
                case "all" -> all = true;
                case "none" -> none = true;
                case "default" -> names.addAll(DEFAULT_NAMES);
                default -> {
                    if (!isToken(word)) {
                        throw new IllegalArgumentException("--headers: '" + w + "' is not a header name "
                                + "(or default, all, none)");
                    }
                    names.add(word);
                }
            }
        }
        if (!any) {
            return DEFAULT;
        }
        if ((all || none) && (names.size() > 0 || (all && none))) {
            throw new IllegalArgumentException("--headers: 'all' and 'none' cannot be combined with other values");
        }
        return all ? ALL : none ? NONE : new HeaderSelection(false, Set.copyOf(names));
    }

    /** True when the header with this lower-case name goes into the header map. */
    public boolean includes(String lowerCaseName) {
        return all || names.contains(lowerCaseName);
    }

    /** RFC 9110 token characters. */
    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return all ? "all" : names.isEmpty() ? "none" : String.join(",", names);
    }
}
