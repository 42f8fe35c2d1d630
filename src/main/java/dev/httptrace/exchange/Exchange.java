package dev.httptrace.exchange;

import java.util.List;

/**
 * One HTTP exchange: a request and the response that answered it (or none).
 *
 * @param ifindex   interface the request was seen on (0 offline, or for TLS plaintext the
 *                  interface of its socket's route, 0 when unknown)
 * @param ipv6      true for IPv6 connections
 * @param client    the side that sent the request
 * @param server    the side that answered
 * @param request   the request
 * @param response  the final (non-1xx) response, or null when the request went unanswered
 * @param trace     what httptrace itself knows about the capture of this exchange
 * @param tls       set when the exchange was read from TLS plaintext (https), else null
 * @param http2     set for an HTTP/2 stream (the request and response are its header blocks), else null
 */
public record Exchange(int ifindex, boolean ipv6, Endpoint client, Endpoint server,
                       Request request, Response response, TraceInfo trace, Tls tls, Http2 http2) {

    /** An HTTP/1 exchange. */
    public Exchange(int ifindex, boolean ipv6, Endpoint client, Endpoint server,
                    Request request, Response response, TraceInfo trace, Tls tls) {
        this(ifindex, ipv6, client, server, request, response, trace, tls, null);
    }

    /** An exchange seen in packets (no TLS). */
    public Exchange(int ifindex, boolean ipv6, Endpoint client, Endpoint server,
                    Request request, Response response, TraceInfo trace) {
        this(ifindex, ipv6, client, server, request, response, trace, null, null);
    }

    /** This exchange with the processes the TLS source knows now. */
    public Exchange withTls(Tls tls) {
        return new Exchange(ifindex, ipv6, client, server, request, response, trace, tls, http2);
    }

    /**
     * What an HTTP/2 stream adds to the exchange. Fields that the capture could not know are
     * null (or 0 where said), never guessed.
     *
     * @param streamId          the stream's id
     * @param end               how the stream ended: "complete" (END_STREAM both ways), "rst_stream",
     *                          "goaway" (above the last stream id a GOAWAY let through), "closed"
     *                          (the connection ended first), "timeout", "capture_end"
     * @param reset             the RST_STREAM that ended it, or null
     * @param goAway            the GOAWAY that ended it, or null
     * @param scheme            {@code :scheme}, or null when unknown
     * @param trailers          the response's trailing header block (empty when none)
     * @param unknownFields     header fields of this stream that HPACK could not know (references
     *                          to table entries from before the capture joined, or after a loss)
     * @param joinedMidStream   the connection was not seen from its start
     * @param requestHeadersSeen false when the request's HEADERS came before the capture joined:
     *                          the record holds only what was seen after
     * @param pushedBy          the stream whose PUSH_PROMISE opened this one, 0 when not pushed
     * @param endTimestampNanos when the stream ended (its last END_STREAM or RST_STREAM), 0 when it did not
     * @param grpc              set for gRPC calls, else null
     */
    public record Http2(int streamId, String end, Reset reset, GoAway goAway, String scheme, List<Header> trailers,
                        int unknownFields, boolean joinedMidStream, boolean requestHeadersSeen, int pushedBy,
                        long endTimestampNanos, Grpc grpc) {
        public Http2 {
            trailers = trailers == null ? List.of() : List.copyOf(trailers);
        }
    }

    /** An RST_STREAM: its error code, the code's name (RFC 9113 section 7) and who sent it ("client"/"server"). */
    public record Reset(long errorCode, String error, String by) {}

    /** A GOAWAY: the last stream id it let through, its error code and the code's name. */
    public record GoAway(int lastStreamId, long errorCode, String error) {}

    /**
     * A gRPC call over the stream.
     *
     * @param service          from {@code :path} ({@code /package.Service/Method}), null when unknown
     * @param method           likewise
     * @param statusCode       {@code grpc-status} of the trailers, null when unknown
     * @param message          {@code grpc-message}, null when none or unknown
     * @param requestMessages  length-prefixed messages the client sent, -1 when the count is unknown (bytes lost)
     * @param responseMessages likewise for the server
     */
    public record Grpc(String service, String method, Integer statusCode, String message,
                       long requestMessages, long responseMessages) {}

    /**
     * What an exchange read from a TLS library's plaintext adds.
     *
     * @param clientProcess the client's process, or null when that end was not traced
     * @param serverProcess the server's process, or null when that end was not traced
     * @param socketKnown   the addresses and ports are the TCP socket's; false when it could not
     *                      be known (the endpoints' addresses are then empty and ports 0)
     */
    public record Tls(ProcessInfo clientProcess, ProcessInfo serverProcess,
                      boolean socketKnown) {}

    /** An IP address (4 or 16 bytes; empty when unknown) and a TCP port (0 when unknown). */
    public record Endpoint(byte[] address, int port) {}

    /**
     * One header line as sent: the name keeps its case, the value is trimmed of surrounding
     * whitespace. {@code sensitive}: the sender asked that it never be indexed (HPACK), so it is
     * redacted like {@code authorization}.
     */
    public record Header(String name, String value, boolean sensitive) {
        public Header(String name, String value) {
            this(name, value, false);
        }
    }

    /**
     * @param timestampNanos epoch nanoseconds of the request's first byte
     * @param method         e.g. GET; null when the request line could not be parsed
     * @param target         the request-target as sent (path and query, or absolute form);
     *                       null when the request line could not be parsed
     * @param version        "1.0" or "1.1", "0.9" for a simple request ({@code GET /path});
     *                       null when the request line could not be parsed
     * @param headers        header lines in order
     * @param headTruncated  the head was longer than the head limit; headers are those seen
     * @param bodySize       request body bytes (0 when none; chunked framing not counted)
     */
    public record Request(long timestampNanos, String method, String target, String version,
                          List<Header> headers, boolean headTruncated, long bodySize) {}

    /**
     * @param timestampNanos epoch nanoseconds of the response's first byte
     * @param statusCode     e.g. 200; 0 for the answer to an HTTP/0.9 request (no status line)
     * @param reason         reason phrase as sent (may be empty)
     * @param version        "1.0" or "1.1"; "0.9" for the answer to an HTTP/0.9 request
     * @param headers        header lines in order
     * @param headTruncated  the head was longer than the head limit
     * @param bodySize       response body bytes; for chunked bodies the sum of the chunk
     *                       sizes (framing not counted), as Content-Length would have said
     */
    public record Response(long timestampNanos, int statusCode, String reason, String version,
                           List<Header> headers, boolean headTruncated, long bodySize) {}

    /**
     * What the capture itself says about this exchange.
     *
     * @param unanswered   why no response was reported, or null when one was: "closed"
     *                     (connection ended), "timeout" (flow idle too long, or evicted from a
     *                     full flow table as the least recently active), "capture_end" (the
     *                     trace stopped first), "gap" (bytes of the server's stream were lost
     *                     where its response would have been; {@code gap} is then true too)
     * @param gap          bytes this exchange depends on are missing from the capture (lost
     *                     samples, joined mid-message, framing cut by the snap length);
     *                     body bytes the snap length left out of a body of known size do
     *                     not count: the record stays exact
     * @param retransmissions segments of this connection seen again and skipped so far
     * @param upgraded     the connection switched protocol (Upgrade / CONNECT); what
     *                     follows on it is not parsed as HTTP
     * @param anomalies    what was wrong with the messages' framing and was tolerated, e.g.
     *                     "request.content_length_invalid" (empty when nothing was)
     * @param malformedRequest the request line as sent (cut at {@value #MAX_MALFORMED_LINE}
     *                     characters) when it could not be parsed and the server answered it;
     *                     the request's method, target and version are then null; else null
     */
    public record TraceInfo(String unanswered, boolean gap, long retransmissions, boolean upgraded,
                            List<String> anomalies, String malformedRequest) {
        /** Longest malformed request line reported. */
        public static final int MAX_MALFORMED_LINE = 256;

        public TraceInfo {
            anomalies = anomalies == null ? List.of() : List.copyOf(anomalies);
        }

        /** A record with no anomalies and a well-formed request. */
        public TraceInfo(String unanswered, boolean gap, long retransmissions, boolean upgraded) {
            this(unanswered, gap, retransmissions, upgraded, List.of(), null);
        }
    }
}
