package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;

import java.util.ArrayList;
import java.util.List;

/**
 * Something wrong with how a message was framed or written that the parser tolerated, at a
 * known message boundary, the way a lenient server would (see the README for the framing
 * chosen in each case). Reported per message as {@code request.<name>} or
 * {@code response.<name>} in {@link Exchange.TraceInfo#anomalies()}.
 */
enum Anomaly {
    /** Content-Length not a number (negative, non-numeric, beyond 2^63). */
    CONTENT_LENGTH_INVALID("content_length_invalid"),
    /** Content-Length given twice (or as a list) with different values. */
    CONTENT_LENGTH_CONFLICT("content_length_conflict"),
    /** Transfer-Encoding with a coding not registered, or a request whose last coding is not chunked. */
    TRANSFER_ENCODING_UNKNOWN("transfer_encoding_unknown"),
    /** Transfer-Encoding and Content-Length together (a request-smuggling pattern). */
    TRANSFER_ENCODING_WITH_CONTENT_LENGTH("transfer_encoding_with_content_length"),
    /** A chunk-size line or chunk delimiter that is not valid (e.g. a size beyond 2^60). */
    CHUNKED_INVALID("chunked_invalid"),
    /** A header line continued by obsolete line folding. */
    OBS_FOLD("obs_fold"),
    /** The connection ended before the body did. */
    BODY_INCOMPLETE("body_incomplete"),
    /** The request-target contains a space. */
    TARGET_WITH_SPACE("target_with_space"),
    /** The request line has no request-target. */
    TARGET_EMPTY("target_empty"),
    /** The request line's version token is broken ({@code HTTP/1.}, {@code HTTP/11}, {@code http/1.1}); reported as sent. */
    VERSION_INVALID("version_invalid"),
    /** Transfer-Encoding in several header lines, or chunked listed more than once (a request-smuggling pattern). */
    TRANSFER_ENCODING_REPEATED("transfer_encoding_repeated"),
    /** The body begins with a request line: a request smuggled in it, unless the server ignored the length. */
    BODY_WITH_REQUEST("body_with_request");

    final String jsonName;
    final int bit = 1 << ordinal();

    Anomaly(String jsonName) {
        this.jsonName = jsonName;
    }

    /** The names of a request's and a response's anomaly bits, "request." or "response." first. */
    static List<String> names(int request, int response) {
        if (request == 0 && response == 0) return List.of();
        List<String> names = new ArrayList<>(2);
        for (Anomaly a : values()) {
            if ((request & a.bit) != 0) names.add("request." + a.jsonName);
        }
        for (Anomaly a : values()) {
            if ((response & a.bit) != 0) names.add("response." + a.jsonName);
        }
        return List.copyOf(names);
    }
}
