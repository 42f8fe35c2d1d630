package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;

import java.util.List;

/**
 * An exchange being assembled: its request (once seen), its final response (once seen), and
 * body sizes counted so far. It becomes an {@link Exchange} when both bodies are complete, or
 * when the connection ends first.
 */
final class ExchangeInProgress {
    boolean requestSeen;
    long requestTimestamp;
    String method;
    String target;
    String requestVersion;
    List<Exchange.Header> requestHeaders;
    boolean requestTruncated;
    long requestBody;
    boolean requestDone;
    /** Sequence number just after the request head, in the client's stream. */
    long requestHeadEnd;
    /** Requests may have been lost in the client's stream just before this one. */
    boolean afterClientLoss;

    boolean responseSeen;
    long responseTimestamp;
    int statusCode;
    String reason;
    String responseVersion;
    List<Exchange.Header> responseHeaders;
    boolean responseTruncated;
    long responseBody;
    boolean responseDone;
    /** The response segment's acknowledgement: how much of the client's stream the server had. */
    long responseAck = -1;
    /** Capture time at which a response was set aside to wait for its request. */
    long parkedSince;
    /** The response set aside is an answer with no status line, waiting for an HTTP/0.9 request. */
    boolean parked09;

    /** {@link Anomaly} bits of each message. */
    int requestAnomalies;
    int responseAnomalies;
    /** The raw request line when it could not be parsed (see {@link HeadParser#malformedLine}). */
    String malformedRequest;
    /**
     * A request only reported (and counted) once the server answers it: a malformed line, or a simple
     * request with a method other than GET (text of another protocol would look the same).
     */
    boolean unproven;

    boolean gap;
    boolean upgraded;
    boolean emitted;
    /** Head bytes this exchange holds, charged to the tracer's budget until it is reported. */
    long keptBytes;

    void request(HeadParser head, long timestampNanos, long headEnd) {
        requestSeen = true;
        requestTimestamp = timestampNanos;
        method = head.method;
        target = head.target;
        requestVersion = head.version;
        requestHeaders = head.headers;
        requestTruncated = head.truncated;
        requestHeadEnd = headEnd;
        requestAnomalies |= head.anomalies;
        malformedRequest = head.malformedLine;
        unproven = head.unproven();
        keptBytes += head.keptBytes();
    }

    void response(HeadParser head, long timestampNanos, long ack) {
        responseSeen = true;
        responseTimestamp = timestampNanos;
        statusCode = head.status;
        reason = head.reason;
        responseVersion = head.version;
        responseHeaders = head.headers;
        responseTruncated = head.truncated;
        responseAck = ack;
        responseAnomalies |= head.anomalies;
        keptBytes += head.keptBytes();
    }

    /** The answer to an HTTP/0.9 request: no status line, no headers, the bytes until the close. */
    void http09Response(long timestampNanos, long ack) {
        responseSeen = true;
        responseTimestamp = timestampNanos;
        reason = "";
        responseVersion = "0.9";
        responseHeaders = List.of();
        responseAck = ack;
    }

    /** Adds an anomaly to the request ({@code request}) or the response. */
    void flag(Anomaly a, boolean request) {
        if (request) {
            requestAnomalies |= a.bit;
        } else {
            responseAnomalies |= a.bit;
        }
    }

    boolean complete() {
        return requestSeen && requestDone && responseSeen && responseDone;
    }

    Exchange.Request toRequest() {
        return new Exchange.Request(requestTimestamp, method, target, requestVersion,
                List.copyOf(requestHeaders), requestTruncated, requestBody);
    }

    Exchange.Response toResponse() {
        return responseSeen
                ? new Exchange.Response(responseTimestamp, statusCode, reason, responseVersion,
                        List.copyOf(responseHeaders), responseTruncated, responseBody)
                : null;
    }
}
