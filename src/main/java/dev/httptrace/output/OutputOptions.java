package dev.httptrace.output;

import java.util.Locale;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/**
 * Settings shared by the output writers.
 *
 * @param interfaceNames resolves an ifindex to an interface name, or to null when unknown
 *                       (offline captures without names); called at most once per record,
 *                       and the writers remember the last answer for the same ifindex
 * @param showSecrets    true disables all header redaction (and the userinfo redaction of
 *                       absolute-form request targets)
 * @param redactHeaders  header names to redact in addition to {@link #DEFAULT_REDACTED};
 *                       compared case-insensitively (normalised to lower case here)
 * @param headers        which headers go into the header maps (null: {@link HeaderSelection#DEFAULT})
 */
public record OutputOptions(IntFunction<String> interfaceNames, boolean showSecrets,
                            Set<String> redactHeaders, HeaderSelection headers) {

    /** Headers whose values are replaced by {@link #REDACTED} unless {@code showSecrets}. */
    public static final Set<String> DEFAULT_REDACTED =
            Set.of("authorization", "proxy-authorization", "cookie", "set-cookie");

    /** What a redacted header value becomes. */
    public static final String REDACTED = "[REDACTED]";

    public OutputOptions {
        if (interfaceNames == null) {
            interfaceNames = ifindex -> null;
        }
        redactHeaders = redactHeaders == null ? Set.of()
                : redactHeaders.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        if (headers == null) {
            headers = HeaderSelection.DEFAULT;
        }
    }

    /** The default header selection. */
    public OutputOptions(IntFunction<String> interfaceNames, boolean showSecrets, Set<String> redactHeaders) {
        this(interfaceNames, showSecrets, redactHeaders, null);
    }

    /** No interface names, default redaction. */
    public static OutputOptions defaults() {
        return new OutputOptions(null, false, Set.of(), null);
    }

    /** True when the value of the header with this lower-case name must be redacted. */
    public boolean redacts(String lowerCaseName) {
        return !showSecrets && (DEFAULT_REDACTED.contains(lowerCaseName) || redactHeaders.contains(lowerCaseName));
    }
}
