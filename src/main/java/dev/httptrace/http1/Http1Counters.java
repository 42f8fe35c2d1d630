package dev.httptrace.http1;

/** Running totals of the HTTP/1 stage. Single-threaded, like the rest of the pipeline. */
public final class Http1Counters {
    long requests;
    long responses;
    long orphanResponses;
    long parseErrors;
    long nonHttpFlows;
    long malformedHeaderLines;
    long requestsDropped;

    /** Request heads parsed (a line that is no request line counts once a server answers it). */
    public long requests() { return requests; }

    /** Final (non-1xx) response heads parsed, orphans included. */
    public long responses() { return responses; }

    /** Final responses that answered no request seen: never reported. */
    public long orphanResponses() { return orphanResponses; }

    /**
     * Messages that broke HTTP/1 framing (bad start line or length after an earlier message, bad
     * chunk framing); parsing resumed at a later segment that begins a head.
     */
    public long parseErrors() { return parseErrors; }

    /** Connections whose stream, seen from its first byte, did not begin with HTTP. */
    public long nonHttpFlows() { return nonHttpFlows; }

    /** Header lines skipped because they were not {@code name: value}. */
    public long malformedHeaderLines() { return malformedHeaderLines; }

    /**
     * Requests not tracked because their connection already had {@value Http1Connection#MAX_OPEN_EXCHANGES}
     * exchanges open, or all open exchanges together held {@value Http1Module#MAX_HELD_HEAD_BYTES} bytes of heads.
     */
    public long requestsDropped() { return requestsDropped; }
}
